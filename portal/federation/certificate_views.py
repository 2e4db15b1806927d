"""The peer API's certificate check, GET /federation/v1/certificates/<serial>?code=…: another node
asks for the public facts of a certificate this node issued, for someone checking it there."""
from __future__ import annotations

from flask import g, jsonify, request

from portal import throttle
from portal.certificates import service
from portal.db import db
from portal.federation.certificates import facts_of
from portal.federation.views import bp, from_peer
from portal.throttle import Throttled


@bp.get("/certificates/<serial>")
@from_peer
def certificate(serial: str):
    """The public facts of a certificate this node issued (as its own /verify shows them: status,
    kind, issue and revocation times, SHA-256 of the PDF, issuing and holding archives, the
    subject's masked name), for the serial and `code` a person typed at the asking node. A wrong
    code answers exactly like an unknown serial (404). Throttled per peer (429 with Retry-After);
    the asking node counts each person's failures itself. Never cached: a revocation shows at once."""
    try:
        throttle.check("peer_certificate")
    except Throttled as exc:
        response = jsonify({"error": "too many checks"})
        response.status_code = 429
        return exc.headers_on(response)
    found = service.lookup(db.session, serial, request.args.get("code", ""), peer=g.peer)
    if found is None:
        response = jsonify({"error": "not found"})
        response.status_code = 404
    else:
        response = jsonify(facts_of(found).as_json())
    response.headers["Cache-Control"] = "no-store"
    return response
