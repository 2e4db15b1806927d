"""The peer API, /federation/v1/…: what other nodes of the network call. Every route but /node
(this node's public identity) takes only calls signed by a trusted peer (`from_peer`); anything
else is 401, logged. Not for browsers: no session, no CSRF token (the signature is the
credential). Listed in the OpenAPI document (portal.api.openapi, tag "federation")."""
from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, jsonify, request
from sqlalchemy import select

from portal.archives.models import Archive
from portal.audit.service import log
from portal.db import db
from portal.federation.node import this_node
from portal.federation.signing import Refused, verify
from portal.web_util import client_ip

bp = Blueprint("federation", __name__, url_prefix="/federation/v1")
logger = logging.getLogger(__name__)


def _addressed_url(base: str) -> str:
    """The URL the caller signed: this node's base URL (what peers know it by) and the path and
    query exactly as they arrived."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        query = request.query_string.decode("latin-1")
        raw = request.path + (f"?{query}" if query else "")
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}{raw}"


def refused(reason: str, keyid: str = ""):
    logger.warning("federation call refused from %s (keyid %r): %s", client_ip(), keyid, reason)
    db.session.rollback()
    log(db.session, "federation_refused", object_type="peer", object_id=keyid[:40], ip=client_ip(),
        reason=reason[:200], path=request.path[:200])
    db.session.commit()
    response = jsonify({"error": "签名无效或已过期 (signature missing, invalid, stale or replayed)"})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Signature realm="federation"'
    return response


def from_peer(view):
    """Run `view` with flask.g.peer set to the trusted peer that signed the call; else 401."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        node = this_node()
        if node is None:
            abort(404)
        try:
            g.peer = verify(db.session, request.method, _addressed_url(node.url), dict(request.headers),
                            lambda: request.get_data(cache=True))
        except Refused as exc:
            return refused(exc.reason, exc.keyid)
        return view(*args, **kwargs)
    wrapper.peer_only = True  # the OpenAPI document marks it signed (portal.api.federation_doc)
    return wrapper


def local_archives() -> list[dict]:
    return [{"code": a.code, "name": a.name, "region": a.region}
            for a in db.session.scalars(select(Archive).where(Archive.node.is_(None)).order_by(Archive.code))]


@bp.get("/node")
def node_info():
    """This node's name, URL and public key, and its archives: public, so an admin can compare the
    key with what the other node's admin read out before adding it."""
    node = this_node()
    if node is None:
        abort(404)
    return jsonify({**node.as_json(), "archives": local_archives()})


@bp.get("/ping")
@from_peer
def ping():
    """A signed call that does nothing: `portal peers check NAME` and the tests of the signatures."""
    return jsonify({"node": this_node().name, "peer": g.peer.name})


@bp.errorhandler(404)
def _not_found(_exc):
    return jsonify({"error": "not found"}), 404
