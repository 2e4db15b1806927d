"""Messages between nodes for requests across the network, and the steps of the declared actions
(portal.actions.table) that queue them. A message is a row of the outbox (FederationMessage,
direction "out"), written in the same transaction as the change that caused it; the background
process delivers it (portal.federation.messages_worker) with retries, as a signed
`POST /federation/v1/messages` {"id", "kind", "body"}; the id is the idempotency key.

    task.create  issuing node A → holding node B   on `accept`, one per task of a peer's archive
    task.answer  B → A                             on `verify` / `not_found` of such a task
    task.cancel  A → B                             on `withdraw` / `reject` while the task is open

The receiving side is portal.federation.messages_inbox; docs/federation.md lists the bodies.

What leaves this node with a task: the request number, the issuing archive, the kind, relation
and purpose, the records (archive and reference codes) or what to search for, the subject's name
and ID number (the holding archive finds the records by them, or checks that the records named are
that person's: only it can see its records' ID numbers), and the proofs of the applicant's right
to the subject's records (REQUIRED_PROOFS of the relation: relationship, death, entrustment, a
lawyer's or an institution's letters) — not the applicant's own ID card, which the issuing archive
checked, nor anything else."""
from __future__ import annotations

import base64
import json
import uuid

from flask import current_app
from sqlalchemy.orm import Session

from portal.core.acting import Acting
from portal.core.after_commit import after_commit
from portal.core.clock import utcnow
from portal.core.personal_data import cipher
from portal.core.uploads import stored_path
from portal.federation.models import FederationMessage
from portal.federation.node import this_node
from portal.requests.applying import REQUIRED_PROOFS
from portal.requests.models import UtilizationRequest
from portal.review.models import VerificationTask

KINDS = ("task.create", "task.answer", "task.cancel")
running: set = set()  # the delivery workers of this process (portal.federation.messages_worker)


def kick() -> None:
    """Wake this process's delivery worker (after a commit that queued a message); without one
    (the web workers of `portal serve`), the background process finds it at its next round."""
    for worker in tuple(running):
        worker.wake()


def queue_message(session: Session, peer: str, kind: str, body: dict) -> FederationMessage:
    """An outgoing message to `peer`, sent after this transaction commits."""
    message = FederationMessage(direction="out", peer=peer, message_id=uuid.uuid4().hex, kind=kind,
                                body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                                status="pending", next_attempt_at=utcnow())
    session.add(message)
    after_commit(session, kick)
    return message


def without_file_data(body: dict) -> dict:
    """A body once delivered: the files' bytes dropped (this node keeps them as files), their names,
    types and SHA-256 kept, so the message still says what was sent."""
    kept = dict(body)
    if isinstance(body.get("files"), list):
        kept["files"] = [{k: v for k, v in f.items() if k != "data"} for f in body["files"]]
    if isinstance(body.get("copy"), dict):
        kept["copy"] = {k: v for k, v in body["copy"].items() if k != "data"}
    return kept


def file_json(request_file) -> dict:
    """A stored file as a message carries it (base64; the receiver checks it as an upload)."""
    data = stored_path(current_app.config["UPLOAD_FOLDER"], request_file.stored_name).read_bytes()
    return {"kind": request_file.kind, "name": request_file.original_name,
            "content_type": request_file.content_type, "sha256": request_file.sha256,
            "data": base64.b64encode(data).decode()}


def task_body(request: UtilizationRequest, task: VerificationTask) -> dict:
    """The body of task.create: what the holding archive needs, and nothing else (see above)."""
    node, issuing = this_node(), request.issuing_archive
    proofs = set(REQUIRED_PROOFS.get(request.relation, ()))
    records = [{"archive_code": item.record.archive.code, "reference_code": item.record.reference_code}
               for item in request.items if item.record.archive.code == task.holding_archive.code]
    search = None
    if request.kind == "search":
        search = {"category": request.search_category, "year_from": request.search_year_from,
                  "year_to": request.search_year_to, "place": request.search_place}
    return {
        "task_id": task.public_id,
        "request": {"number": request.number, "kind": request.kind, "relation": request.relation,
                    "purpose": request.purpose, "purpose_note": request.purpose_note,
                    "delivery": request.delivery, "submitted_at": request.submitted_at.isoformat()},
        "issuing": {"node": node.name, "code": issuing.code, "name": issuing.name, "region": issuing.region},
        "holding_archive": task.holding_archive.code,
        "records": records,
        "search": search,
        "subject": {"name": request.subject_name, "id_number": cipher().decrypt(request.subject_id_enc)},
        "files": [file_json(f) for f in request.files if f.kind in proofs],
    }


def _peer_tasks(request: UtilizationRequest, status: str = "open") -> list[VerificationTask]:
    return [t for t in request.tasks if t.status == status and t.holding_archive.node is not None]


def send_tasks(acting: Acting) -> None:
    """Step of `accept`, after the tasks are made: each task of another node's archive goes to that
    node as task.create (its timeline shows when it is delivered)."""
    for task in _peer_tasks(acting.request):
        queue_message(acting.session, task.holding_archive.node, "task.create", task_body(acting.request, task))


def send_cancels(acting: Acting) -> None:
    """Step of `withdraw` and `reject`, before the open tasks are cancelled: each open task of
    another node's archive is cancelled there too (task.cancel)."""
    for task in _peer_tasks(acting.request):
        queue_message(acting.session, task.holding_archive.node, "task.cancel",
                      {"task_id": task.public_id, "number": acting.request.number, "reason": acting.action})


def send_answer(acting: Acting) -> None:
    """Step of `verify` and `not_found` on a task another node sent: the answer goes back to it
    (task.answer) with the certified copy. The clerk's note goes only when it is printed on the
    certificate or says what was searched (not found); otherwise the verified facts."""
    task, request = acting.target, acting.request
    node = request.issuing_archive.node
    if node is None:
        return
    note = acting.inputs.note or ""
    print_note = bool(task.print_note)
    body = {"task_id": task_reference(request), "holding_task_id": task.public_id, "number": request.number,
            "status": task.status,
            "note": note if (print_note or task.status == "not_found") else "", "print_note": print_note,
            "answered_at": task.answered_at.isoformat(), "holding_archive": task.holding_archive.code,
            "records": [{"archive_code": item.record.archive.code, "reference_code": item.record.reference_code,
                         "title": item.record.title, "event_date": item.record.event_date_text}
                        for item in request.items],
            "copy": None}
    checked = acting.inputs.checked
    if checked is not None:
        body["copy"] = {"name": checked.original_name, "content_type": checked.content_type,
                        "sha256": checked.sha256, "data": base64.b64encode(checked.data).decode()}
    queue_message(acting.session, node, "task.answer", body)


def task_reference(request: UtilizationRequest) -> str:
    """The issuing node's task id of a request it sent (kept as the request's idempotency key)."""
    return (request.idempotency_key or "").removeprefix("peer-task:")
