"""The catalog over the JSON API: public search, a citizen's own records, and bearer tokens."""
from __future__ import annotations

from flask import g, jsonify, request, url_for
from flask_babel import gettext as _

from portal.accounts.service import THROTTLE_WINDOW, TooManyAttempts
from portal.accounts.tokens import InvalidCredentials, issue_token
from portal.api.bodies import load_json, read_query
from portal.api.errors import BadInput, api_error
from portal.api.responses import OwnRecords, SearchAnswer, TokenAnswer
from portal.api.routing import Routes
from portal.api.schemas import SearchParams, TokenRequest
from portal.catalog.indexing import get_index
from portal.catalog.search import hit_as_json, parse_query, public_search
from portal.catalog.service import records_of
from portal.db import db
from portal.web_util import client_ip
from search_index import SearchUnavailable

routes = Routes("catalog", "档案目录与令牌 (the catalog, and bearer tokens)")


@routes.get("/search", auth=False, summary="检索开放档案 (search the open catalog)", query=SearchParams,
            ok=SearchAnswer, errors=(503,))
def search():
    """Public. Only `open` records, names masked; restricted and closed records are not counted either."""
    params = read_query(SearchParams)
    query = parse_query(params.as_args())  # the catalog's rules: ranges, known categories
    try:
        page = public_search(db.session, get_index(), query)
    except SearchUnavailable:
        return api_error(_("检索服务暂时不可用，请稍后再试 (search is temporarily unavailable)"), 503)
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


@routes.post("/tokens", auth=False, summary="用邮箱和密码换取访问令牌 (get a bearer token)", body=TokenRequest,
             body_required=True, ok=TokenAnswer, errors=(401, 429), response_headers={429: {"Retry-After": "seconds"}})
def create_token():
    """Failed sign-ins count towards the web log-in's limits (10 per email, 50 per address, in 15 minutes)."""
    if not request.is_json:
        raise BadInput({"body": _("请求体应为 JSON 对象 (the request body must be a JSON object)")})
    try:
        doc = load_json(request.get_data(cache=False), "body")
    except BadInput:
        raise BadInput({"body": _("请求体应为 JSON 对象 (the request body must be a JSON object)")}) from None
    credentials = TokenRequest.model_validate(doc)
    try:
        token, expires_at = issue_token(db.session, credentials.email, credentials.password, ip=client_ip())
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


@routes.get("/me/records", summary="本人的档案 (the citizen's own records)", ok=OwnRecords)
def my_records():
    """Records whose subject has the citizen's ID number and name: open and restricted, never closed.
    Staff have none."""
    return jsonify({"records": [
        {"archive_code": r.archive.code, "reference_code": r.reference_code, "title": r.title,
         "category": r.category, "year": r.event_year, "access_level": r.access_level}
        for r in records_of(db.session, g.api_user)
    ]})
