"""What this node does with a message a peer sent (POST /federation/v1/messages, signed): each is
stored as it came (FederationMessage, direction "in": the exact body, files and all) with the
peer's name and the headers its signature covers (Date, Content-Digest, Signature-Input,
Signature), in the same transaction as what it does, so the signed call can be verified again
in any dispute. The (peer, message id) pair is the idempotency key: the same message again does
nothing more and gets the same answer.

    task.create  → a mirror of the peer's request (applicant: the peer's account, channel "peer",
                   issuing archive: the mirror of the peer's archive) and a verification task for
                   this node's holding archive, due in its working days → {"task_id", "due_date"}
    task.answer  → `verify` / `not_found` of this node's task, as the peer's account (policy role
                   "peer"), with the certified copy → {"task_id", "status"}
    task.cancel  → `withdraw` of the mirror request, as the peer's account (its applicant)
                   → {"number", "status"}"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from datetime import datetime
from io import BytesIO

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.actions import act
from portal.archives.models import Archive
from portal.audit.service import log
from portal.catalog.service import find_records
from portal.core import clock, workdays
from portal.core.clock import utcnow
from portal.core.errors import Conflict, NotAllowed, ValidationFailed
from portal.core.idnumber import InvalidIdNumber, normalize_id_number
from portal.core.personal_data import cipher
from portal.core.storable import clean_json
from portal.core.uploads import MAX_FILES, UploadRejected, check_upload, store_with
from portal.federation.messages import KINDS
from portal.federation.models import FederationMessage, Peer
from portal.federation.node import NodeError
from portal.federation.peers import mirror_archive, speaks_for
from portal.policy import audience_for, can_see
from portal.requests.applying import Upload, file_row
from portal.requests.labels import FILE_LABELS
from portal.requests.models import (DELIVERIES, PURPOSES, RELATIONS, RequestRecord, RequestSearchArchive,
                                    UtilizationRequest)
from portal.requests.timeline import record_event
from portal.review.models import VerificationTask


class Refused(Exception):
    """The message cannot be acted on as it is (400, 404, 422: the sender marks it failed). A
    Conflict from the dispatcher (the request not in review at this moment) answers 409, which the
    sender tries again later."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def _text(body: dict, key: str, limit: int, required: bool = True) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise Refused(400, f"{key}: missing or not a string of at most {limit} characters")
    return value.strip()


def _decoded(part: dict, where: str) -> tuple[str, bytes]:
    """A file of a message: its name and bytes, checked against its SHA-256."""
    if not isinstance(part, dict):
        raise Refused(400, f"{where}: not an object")
    name = _text(part, "name", 200)
    try:
        data = base64.b64decode(_text(part, "data", 20_000_000), validate=True)
    except (binascii.Error, ValueError):
        raise Refused(400, f"{where}: data is not base64") from None
    if part.get("sha256") and hashlib.sha256(data).hexdigest() != part["sha256"]:
        raise Refused(400, f"{where}: sha256 does not match")
    return name, data


def receive(session: Session, peer: Peer, message_id, kind, body, signature: str, raw: str) -> tuple[int, dict]:
    """Act on one message from `peer` once; (HTTP status, answer). `raw` is the body exactly as
    signed (its Content-Digest in `signature`), stored as it came."""
    if not isinstance(message_id, str) or not 8 <= len(message_id) <= 64:
        return 400, {"error": "id: 8 to 64 characters"}
    if kind not in KINDS or not isinstance(body, dict):
        return 400, {"error": f"kind must be one of {', '.join(KINDS)}, body an object"}
    if not clean_json(message_id) or not clean_json(body):
        return 400, {"error": "text may not hold a NUL or a lone surrogate"}
    if (done := _stored(session, peer, message_id)) is not None:
        return 200, done
    message = FederationMessage(direction="in", peer=peer.name, message_id=message_id, kind=kind,
                                body=raw, signature=signature,
                                status="received", delivered_at=utcnow())
    try:
        answer = HANDLERS[kind](session, peer, body, message)
    except Refused as exc:
        session.rollback()
        _refusal(session, peer, kind, message_id, exc.reason)
        return exc.status, {"error": exc.reason}
    except (Conflict, ValidationFailed, NotAllowed) as exc:
        session.rollback()
        if (done := _stored(session, peer, message_id)) is not None:  # the same message, at the same moment
            return 200, done
        reason = str(getattr(exc, "message", exc)) if not isinstance(exc, ValidationFailed) else \
            "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        _refusal(session, peer, kind, message_id, reason)
        return 409 if isinstance(exc, Conflict) else 422, {"error": reason}
    except IntegrityError:
        session.rollback()
        if (done := _stored(session, peer, message_id)) is not None:
            return 200, done
        raise
    return 200, answer


def _stored(session: Session, peer: Peer, message_id: str) -> dict | None:
    done = session.scalar(select(FederationMessage).where(
        FederationMessage.direction == "in", FederationMessage.peer == peer.name,
        FederationMessage.message_id == message_id))
    return json.loads(done.response) if done is not None else None


def _refusal(session: Session, peer: Peer, kind: str, message_id: str, reason: str) -> None:
    current_app.logger.warning("message %s (%s) from %s refused: %s", message_id, kind, peer.name, reason)
    log(session, "federation_message_refused", object_type="peer", object_id=peer.name, kind=kind,
        message_id=message_id, reason=reason[:300])
    session.commit()


def _answered(session: Session, message: FederationMessage, answer: dict) -> dict:
    message.response = json.dumps(answer, ensure_ascii=False)
    session.add(message)
    return answer


# ---- task.create: the holding node --------------------------------------------------------------

def task_create(session: Session, peer: Peer, body: dict, message: FederationMessage) -> dict:
    request_part, issuing = body.get("request"), body.get("issuing")
    if not isinstance(request_part, dict) or not isinstance(issuing, dict):
        raise Refused(400, "request and issuing must be objects")
    if issuing.get("node") != peer.name:
        raise Refused(400, "issuing.node is not the sender")
    task_id = _text(body, "task_id", 32)
    key = f"peer-task:{task_id}"
    existing = session.scalar(select(UtilizationRequest).where(
        UtilizationRequest.applicant_id == peer.account_id, UtilizationRequest.idempotency_key == key))
    if existing is not None:  # sent again under another id: the same task
        task = existing.tasks[0]
        return _answered(session, message, {"task_id": task.public_id, "due_date": task.due_date.isoformat()})
    holding = session.scalar(select(Archive).where(Archive.code == _text(body, "holding_archive", 12),
                                                   Archive.node.is_(None)))
    if holding is None:
        raise Refused(404, "holding_archive is not an archive of this node")
    kind = request_part.get("kind")
    if kind not in ("records", "search") or request_part.get("relation") not in RELATIONS \
            or request_part.get("purpose") not in PURPOSES:
        raise Refused(400, "request.kind, relation or purpose unknown")
    records = _records(session, peer, body, holding) if kind == "records" else []
    subject = body.get("subject") if isinstance(body.get("subject"), dict) else {}
    try:
        id_number = normalize_id_number(_text(subject, "id_number", 18))
    except InvalidIdNumber:
        raise Refused(400, "subject.id_number is not a valid resident ID number") from None
    try:
        submitted = datetime.fromisoformat(_text(request_part, "submitted_at", 40))
    except ValueError:
        raise Refused(400, "request.submitted_at is not an ISO date-time") from None

    number = _text(request_part, "number", 32)
    if not number.startswith(f"{_text(issuing, 'code', 12)}-"):  # numbers are made per issuing archive: a
        # peer's may not take one this node (or another peer) gives its own applicants
        raise Refused(422, "request.number is not one of the issuing archive's")
    if session.scalar(select(UtilizationRequest.id).where(UtilizationRequest.number == number)):
        raise Refused(422, f"request {number} exists here already")
    if not speaks_for(session, peer, _text(issuing, "code", 12)):
        raise Refused(422, "the issuing archive is not one the sender listed as its own")
    try:
        issuing_archive = mirror_archive(session, peer.name, _text(issuing, "code", 12), _text(issuing, "name", 100),
                                         _text(issuing, "region", 100, required=False))
    except NodeError as exc:
        raise Refused(422, str(exc)) from None
    calendar = workdays.load_calendar(current_app.config["HOLIDAYS_FILE"])
    due = calendar.add_working_days(clock.china_today(), holding.task_due_working_days)
    search = body.get("search") if isinstance(body.get("search"), dict) else {}
    request = UtilizationRequest(
        number=number, applicant=peer.account, issuing_archive=issuing_archive, status="in_review", kind=kind,
        channel="peer", relation=request_part["relation"], purpose=request_part["purpose"],
        purpose_note=_text(request_part, "purpose_note", 200, required=False),
        subject_name=_text(subject, "name", 50), subject_id_enc=cipher().encrypt(id_number),
        subject_id_hash=cipher().lookup_hash(id_number),
        delivery=request_part.get("delivery") if request_part.get("delivery") in DELIVERIES else "pickup",
        consent_at=submitted, submitted_at=submitted, idempotency_key=key, due_date=due,
        search_category=str(search.get("category") or "")[:32], search_place=str(search.get("place") or "")[:200],
        search_year_from=_year(search.get("year_from")), search_year_to=_year(search.get("year_to")))
    for position, record in enumerate(records):
        request.items.append(RequestRecord(record=record, position=position))
    if kind == "search":
        request.search_archives.append(RequestSearchArchive(archive=holding))
    session.add(request)
    _store_files(session, peer, request, body.get("files"))
    task = VerificationTask(public_id=secrets.token_urlsafe(12), request=request, holding_archive=holding,
                            status="open", due_date=due)
    session.add(task)
    session.flush()
    record_event(session, request, "peer_received", peer.account, "peer", None,
                 f"{peer.name} · {issuing_archive.code} {issuing_archive.name}")
    answer = _answered(session, message, {"task_id": task.public_id, "due_date": due.isoformat()})
    session.commit()
    return answer


def _year(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 9999 else None


def _records(session: Session, peer: Peer, body: dict, holding: Archive) -> list:
    wanted = body.get("records")
    if not isinstance(wanted, list) or not 1 <= len(wanted) <= 20:
        raise Refused(400, "records: a list of 1 to 20")
    keys = []
    for item in wanted:
        if not isinstance(item, dict):
            raise Refused(400, "records: objects with archive_code and reference_code")
        keys.append((_text(item, "archive_code", 12), _text(item, "reference_code", 64)))
    found = find_records(session, keys)
    # A peer's citizen applies for what the peer was told (the public's records): a record not open
    # here is answered as one that does not exist.
    missing = [f"{a}/{r}" for a, r in keys if (a, r) not in found or found[(a, r)].archive_id != holding.id
               or not can_see(found[(a, r)], audience_for(peer.account, found[(a, r)]))]
    if missing:
        raise Refused(404, f"no such records of {holding.code}: {', '.join(missing)[:200]}")
    return [found[key] for key in dict.fromkeys(keys)]


def _store_files(session: Session, peer: Peer, request: UtilizationRequest, files) -> None:
    """The proofs the task came with, checked as the uploads they were (type, size, count)."""
    if files is None:
        return
    if not isinstance(files, list) or len(files) > MAX_FILES:
        raise Refused(400, f"files: a list of at most {MAX_FILES}")
    folder = current_app.config["UPLOAD_FOLDER"]
    for index, part in enumerate(files):
        name, data = _decoded(part, f"files[{index}]")
        if part.get("kind") not in FILE_LABELS:
            raise Refused(400, f"files[{index}].kind unknown")
        try:
            checked = check_upload(name, BytesIO(data))
        except UploadRejected as exc:
            raise Refused(400, f"files[{index}]: {exc.message}") from None
        session.add(file_row(peer.account, part["kind"], checked, store_with(session, checked.data, folder),
                             request=request))


# ---- task.answer: the issuing node --------------------------------------------------------------

def task_answer(session: Session, peer: Peer, body: dict, message: FederationMessage) -> dict:
    task = session.scalar(select(VerificationTask).where(VerificationTask.public_id == _text(body, "task_id", 32)))
    if task is None or task.holding_archive.node != peer.name:
        raise Refused(404, "no such task sent to this peer")
    status = body.get("status")
    if status not in ("verified", "not_found"):
        raise Refused(400, "status must be verified or not_found")
    if task.status != "open":  # cancelled here, or answered by another message: never applies (a request
        # waiting for a supplement is a 409 from `act`, tried again by the sender until it is back in review)
        raise Refused(422, f"the task is {task.status} here")
    inputs = {"note": _text(body, "note", 2000, required=False)}
    if status == "verified":
        inputs["print_note"] = bool(body.get("print_note")) and bool(inputs["note"])
    if isinstance(body.get("copy"), dict):
        name, data = _decoded(body["copy"], "copy")
        inputs["copy"] = Upload("certified_copy", name, BytesIO(data))
    _answered(session, message, {"task_id": task.public_id, "status": status})
    act(session, task, "verify" if status == "verified" else "not_found", peer.account, inputs)
    return json.loads(message.response)


# ---- task.cancel: the holding node --------------------------------------------------------------

def task_cancel(session: Session, peer: Peer, body: dict, message: FederationMessage) -> dict:
    key = f"peer-task:{_text(body, 'task_id', 32)}"
    request = session.scalar(select(UtilizationRequest).where(
        UtilizationRequest.applicant_id == peer.account_id, UtilizationRequest.idempotency_key == key))
    if request is None:
        raise Refused(404, "no task of this peer with that id")
    if request.status not in ("submitted", "in_review", "needs_supplement"):  # answered or ended already
        answer = _answered(session, message, {"number": request.number, "status": request.status})
        session.commit()
        return answer
    _answered(session, message, {"number": request.number, "status": "withdrawn"})
    # The timeline's note is data, in the archives' language, as every other note.
    act(session, request, "withdraw", peer.account, {"note": f"出证节点 {peer.name} 已撤回或不予通过这份申请"})
    return json.loads(message.response)


HANDLERS = {"task.create": task_create, "task.answer": task_answer, "task.cancel": task_cancel}
