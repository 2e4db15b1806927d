"""JSON API v1. Errors are JSON with the right status, never an HTML page. Callers authenticate
with a bearer token only (see portal.api.auth), so the blueprint is exempt from CSRF."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext as _

from portal.accounts.service import THROTTLE_WINDOW, TooManyAttempts
from portal.accounts.tokens import InvalidCredentials, issue_token
from portal.api.auth import api_error, token_required
from portal.catalog.indexing import get_index
from portal.catalog.search import hit_as_json, parse_query, public_search
from portal.catalog.service import records_of
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.web_util import client_ip
from search_index import SearchUnavailable

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/search")
def search():
    try:
        query = parse_query(request.args)
    except ValidationFailed as exc:
        field, message = next(iter(exc.errors.items()))
        return api_error(message, 400, field=field)
    try:
        page = public_search(db.session, get_index(), query)
    except SearchUnavailable:
        return api_error("检索服务暂时不可用，请稍后再试 (search is temporarily unavailable)", 503)
    return jsonify({
        "total": page.total,
        "page": query.page,
        "per_page": query.per_page,
        "hits": [hit_as_json(h, url_for("catalog.record", archive_code=h.record.archive_code,
                                        reference_code=h.record.reference_code, _external=True))
                 for h in page.hits],
        "facets": {"category": page.facets.get("category", {}), "archive": page.facets.get("archive", {})},
        "took_ms": page.took_ms,
        "backend": page.backend,
    })


def _credentials() -> tuple[str, str]:
    """Email and password from a JSON object body; ValidationFailed names the first bad field."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        raise ValidationFailed({"body": _("请求体应为 JSON 对象 (the request body must be a JSON object)")})
    values = []
    for field in ("email", "password"):
        value = body.get(field)
        if value is None or value == "":
            raise ValidationFailed({field: _("缺少字段 %(field)s (%(field)s is required)", field=field)})
        if not isinstance(value, str):
            raise ValidationFailed({field: _("字段 %(field)s 应为字符串 (%(field)s must be a string)", field=field)})
        values.append(value)
    return values[0], values[1]


@bp.post("/tokens")
def create_token():
    try:
        email, password = _credentials()
    except ValidationFailed as exc:
        field, message = next(iter(exc.errors.items()))
        return api_error(message, 400, field=field)
    try:
        token, expires_at = issue_token(db.session, email, password, ip=client_ip())
    except TooManyAttempts:
        response = api_error(_("登录失败次数过多，请 15 分钟后再试 (too many failed attempts, try again in 15 minutes)"),
                             429)
        response.headers["Retry-After"] = str(int(THROTTLE_WINDOW.total_seconds()))
        return response
    except InvalidCredentials:
        # One message for a wrong email and a wrong password: do not reveal which accounts exist.
        response = api_error(_("邮箱或密码不正确 (wrong email or password)"), 401)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    response = jsonify({"token": token, "expires_at": expires_at.isoformat(timespec="seconds")})
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1: token answers are never cached
    return response


@bp.get("/me/records")
@token_required
def my_records():
    return jsonify({"records": [
        {"archive_code": r.archive.code, "reference_code": r.reference_code, "title": r.title,
         "category": r.category, "year": r.event_year, "access_level": r.access_level}
        for r in records_of(db.session, g.api_user)
    ]})


# The request endpoints live in their own module, on this blueprint.
from portal.api import requests as _requests  # noqa: E402,F401  (registers its routes on bp)
from portal.api import review as _review  # noqa: E402,F401  (the queue and the task actions)
from portal.api import certificates as _certificates  # noqa: E402,F401  (checks, the PDF, revocation)
