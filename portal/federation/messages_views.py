"""The peer API of requests across nodes: a peer's record as the public may see it (what a
citizen there applies for), and the messages of the verification tasks (portal.federation.messages)."""
from __future__ import annotations

import json

from flask import g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from portal.archives.models import Archive
from portal.catalog.models import Record
from portal.db import db
from portal.federation.messages_inbox import receive
from portal.federation.records import public_facts
from portal.federation.views import bp, from_peer

# A message carries up to five proofs of 10 MB each, base64: more than a form upload may.
MAX_MESSAGE_BYTES = 80 * 1024 * 1024


@bp.before_request
def _message_size() -> None:
    if request.endpoint == "federation.messages":
        request.max_content_length = MAX_MESSAGE_BYTES


@bp.get("/records/<archive_code>/<path:reference_code>")
@from_peer
def record(archive_code: str, reference_code: str):
    """One open record of this node's archives, as the public catalog shows it (masked name, no ID
    number, no summary): what the peer's citizen applies for, mirrored there. 404 for a record that
    does not exist, is not open, or is a mirror of another node's."""
    found = db.session.scalar(
        select(Record).join(Record.archive).options(contains_eager(Record.archive))
        .where(Archive.code == archive_code, Archive.node.is_(None), Record.reference_code == reference_code,
               Record.access_level == "open"))
    if found is None:
        return jsonify({"error": "not found"}), 404
    return jsonify(public_facts(found))


@bp.post("/messages")
@from_peer
def messages():
    """A message of a verification task across nodes: {"id", "kind", "body"}, kind task.create,
    task.answer or task.cancel. Acted on once per (peer, id): the same message again answers as the
    first time. Stored with the signature it came with."""
    try:
        payload = json.loads(request.get_data())
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        payload = None
    if not isinstance(payload, dict):
        return jsonify({"error": "the body must be a JSON object {id, kind, body}"}), 400
    # What the signature covers, kept with the exact body: the call can be verified again in a dispute.
    signature = "\n".join(f"{name}: {request.headers.get(name, '')}"
                          for name in ("Date", "Content-Digest", "Signature-Input", "Signature"))
    status, answer = receive(db.session, g.peer, payload.get("id"), payload.get("kind"), payload.get("body"),
                             signature, request.get_data(as_text=True))
    return jsonify(answer), status
