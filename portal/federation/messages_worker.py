"""Delivering the outbox of messages to peers (portal.federation.messages), in the background
process: every FEDERATION_INTERVAL seconds, and at once when a commit queued one (`kick`). Each
pending message is POSTed, signed, to the peer's /federation/v1/messages:

- answered 2xx: delivered, the peer's answer kept (for task.create, the peer's due date goes on the
  task and the request's timeline says the holding node received it);
- no answer, a 5xx, or a 401/408/409/425/429 (the peer not yet trusting us, a clock, a moment of
  contention): tried again after FEDERATION_RETRY_BASE seconds, doubling up to
  FEDERATION_RETRY_CAP — a peer down for an hour gets everything when it is back;
- any other 4xx: it will never be taken as it is: failed, with the peer's reason, shown to staff on
  the request page.

A message goes to the peer under the same id every time, so the peer acts on it once."""
from __future__ import annotations

import json
import logging
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import or_, select

from portal.core.background import Worker, in_each_process
from portal.core.clock import utcnow
from portal.db import db
from portal.federation import messages
from portal.federation.client import PeerUnavailable, call
from portal.federation.models import FederationMessage
from portal.federation.node import NodeError
from portal.federation.peers import get_peer
from portal.requests.timeline import record_event
from portal.review.models import VerificationTask

log = logging.getLogger(__name__)
BATCH = 20
RETRIED = (401, 408, 409, 425, 429)


def deliver_pending(session, config) -> int:
    """One round: the pending messages, oldest first, in order per peer (a cancellation never
    overtakes the task it cancels): a peer's first message not due or not delivered holds back
    its later ones until the next round. How many were delivered."""
    pending = list(session.scalars(select(FederationMessage).where(
        FederationMessage.direction == "out", FederationMessage.status == "pending")
        .order_by(FederationMessage.id).limit(BATCH * 10)))
    held: set[str] = set()
    delivered = 0
    for message in pending:
        if message.peer in held:
            continue
        if message.next_attempt_at > utcnow():
            held.add(message.peer)
            continue
        if deliver(session, message, config):
            delivered += 1
        elif message.status == "pending":
            held.add(message.peer)
    return delivered


def deliver(session, message: FederationMessage, config) -> bool:
    peer = get_peer(session, message.peer)
    message.attempts += 1
    if peer is None:
        return _failed(session, message, "this node no longer trusts the peer")
    payload = {"id": message.message_id, "kind": message.kind, "body": json.loads(message.body)}
    try:
        answer = call(peer, "POST", "/federation/v1/messages", body=payload)
    except (PeerUnavailable, NodeError) as exc:
        return _later(session, message, str(exc), config)
    text = answer.text[:4000]
    if answer.status_code in RETRIED:
        return _later(session, message, f"HTTP {answer.status_code}: {text[:300]}", config)
    if answer.status_code >= 300:
        return _failed(session, message, f"HTTP {answer.status_code}: {text[:1000]}")
    message.status, message.delivered_at, message.response, message.last_error = "delivered", utcnow(), text, ""
    message.body = json.dumps(messages.without_file_data(payload["body"]), ensure_ascii=False, separators=(",", ":"))
    try:
        _delivered(session, message, answer.json())
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("peer %s answered message %s oddly: %s", peer.name, message.message_id, exc)
    session.commit()
    return True


def _later(session, message: FederationMessage, error: str, config) -> bool:
    wait = min(config["FEDERATION_RETRY_CAP"], config["FEDERATION_RETRY_BASE"] * 2 ** (message.attempts - 1))
    message.next_attempt_at, message.last_error = utcnow() + timedelta(seconds=wait), error[:1000]
    session.commit()
    return False


def _failed(session, message: FederationMessage, error: str) -> bool:
    log.warning("message %s (%s) to %s failed for good: %s", message.message_id, message.kind, message.peer, error)
    message.status, message.last_error = "failed", error[:1000]
    session.commit()
    return False


def _delivered(session, message: FederationMessage, answer: dict) -> None:
    """What a delivery means on this node's side: the holding node took the task, with its due date
    (kept on the task, so an overdue task shows here too), or the cancellation."""
    body = json.loads(message.body)
    if message.kind == "task.create":
        task = session.scalar(select(VerificationTask).where(VerificationTask.public_id == body["task_id"]))
        if task is None:
            return
        task.due_date = date.fromisoformat(answer["due_date"])
        record_event(session, task.request, "peer_task_sent", None, "system", task.request.status,
                     f"{message.peer} · {task.holding_archive.code} {task.holding_archive.name} · {task.due_date}")
    elif message.kind == "task.cancel":
        task = session.scalar(select(VerificationTask).where(VerificationTask.public_id == body["task_id"]))
        if task is not None:
            record_event(session, task.request, "peer_task_cancelled", None, "system", task.request.status,
                         f"{message.peer} · {task.holding_archive.code} {task.holding_archive.name}")


def messages_of(session, request) -> list[FederationMessage]:
    """The outgoing messages about a request's tasks, for its staff page (delivered, waiting or
    failed): the tasks sent to other nodes, or the answers sent back to the node that sent them."""
    if request.issuing_archive.node is not None:
        ids, key = {task.public_id for task in request.tasks}, "holding_task_id"
    else:
        ids, key = {task.public_id for task in request.tasks if task.holding_archive.node is not None}, "task_id"
    if not ids:
        return []
    mentions = [FederationMessage.body.contains(f'"{key}":"{task_id}"') for task_id in sorted(ids)]
    rows = session.scalars(select(FederationMessage).where(FederationMessage.direction == "out", or_(*mentions))
                           .order_by(FederationMessage.id))
    return [m for m in rows if json.loads(m.body).get(key) in ids]


class FederationWorker(Worker):
    name = "federation-outbox"
    failure = "delivering messages to peers failed"

    def start(self) -> None:
        messages.running.add(self)
        self.wake()
        super().start()

    def stop(self) -> None:
        messages.running.discard(self)
        super().stop()

    def work(self) -> None:
        deliver_pending(db.session, self.app.config)


def start_federation_worker_in_each_process(app: Flask) -> None:
    """A FederationWorker where the background work runs; test apps deliver explicitly, unless they
    set FEDERATION_WORKER."""
    in_each_process(app, "federation_worker", lambda: FederationWorker(app, app.config["FEDERATION_INTERVAL"]),
                    enabled=lambda: not app.config.get("TESTING") or bool(app.config.get("FEDERATION_WORKER")))
