"""The catalog over the JSON API: public search, a citizen's own records, and bearer tokens."""
from __future__ import annotations

from flask import Response, g, jsonify, request
from flask_babel import gettext as _

from portal.accounts import tokens
from portal.accounts.tokens import InvalidCredentials, issue_token
from portal.api.auth import bearer_token
from portal.api.bodies import load_json, read_query
from portal.api.errors import BadInput, api_error
from portal.api.responses import OwnRecords, SearchAnswer, TokenAnswer
from portal.api.routing import Routes
from portal.api.schemas import SearchParams, TokenRequest
from portal.catalog.indexing import get_index
from portal.catalog.search import hit_as_json, parse_query, public_search
from portal.catalog.service import records_of
from portal.db import db
from portal.federation.search import network_json, network_offered, network_search
from portal import throttle
from portal.web_util import client_ip, public_url
from search_index import SearchUnavailable

routes = Routes("catalog", "档案目录与令牌 (the catalog, and bearer tokens)")


@routes.get("/search", auth=False, summary="检索开放档案 (search the open catalog)", query=SearchParams,
            ok=SearchAnswer, errors=(429, 503), response_headers={429: {"Retry-After": "seconds"}})
def search():
    """Public. Only `open` records, names masked; restricted and closed records are not counted either.
    Searches read with a full name (王秀英结婚) are limited per address (60 an hour by default).
    `scope=network`: this node's hits and its peers', merged by score, each with its `node`, `url`
    on its own node, `archive` and `score`; facets count hits per `node` too; `unavailable` names
    the peers that could not be searched within the timeout (still 200). Paging: every node is
    asked for its first page * per_page hits (100 at most), merged, and the page sliced."""
    params = read_query(SearchParams)
    throttle.check("name_search")
    query = parse_query(params.as_args())  # the catalog's rules: ranges, known categories
    network = params.scope == "network" and network_offered(db.session)  # no peers: as scope=local
    try:
        if network:
            return jsonify(network_json(network_search(db.session, get_index(), query)))
        page = public_search(db.session, get_index(), query)
    except SearchUnavailable:
        return api_error(_("检索服务暂时不可用，请稍后再试 (search is temporarily unavailable)"), 503)
    return jsonify({
        "total": page.total,
        "page": query.page,
        "per_page": query.per_page,
        "hits": [hit_as_json(h, public_url("catalog.record", archive_code=h.record.archive_code,
                                           reference_code=h.record.reference_code))
                 for h in page.hits],
        "facets": {"category": page.facets.get("category", {}), "archive": page.facets.get("archive", {})},
        "took_ms": page.took_ms,
        "backend": page.backend,
    })


@routes.post("/tokens", auth=False, summary="用邮箱和密码换取访问令牌 (get a bearer token)", body=TokenRequest,
             body_required=True, ok=TokenAnswer, errors=(401, 429), response_headers={429: {"Retry-After": "seconds"}})
def create_token():
    """Every attempt counts towards the web log-in's limits (portal/throttle.py: 10 per email from one
    address, 50 per address, in 15 minutes): the API is no way around them."""
    if not request.is_json:
        raise BadInput({"body": _("请求体应为 JSON 对象 (the request body must be a JSON object)")})
    try:
        doc = load_json(request.get_data(cache=False), "body")
    except BadInput:
        raise BadInput({"body": _("请求体应为 JSON 对象 (the request body must be a JSON object)")}) from None
    credentials = TokenRequest.model_validate(doc)
    throttle.check("login", credentials.email)
    try:
        token, expires_at = issue_token(db.session, credentials.email, credentials.password, ip=client_ip())
    except InvalidCredentials:
        # One message for a wrong email and a wrong password: do not reveal which accounts exist.
        response = api_error(_("邮箱或密码不正确 (wrong email or password)"), 401)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    response = jsonify({"token": token, "expires_at": expires_at.isoformat(timespec="seconds")})
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1: token answers are never cached
    return response


@routes.delete("/tokens", summary="注销当前令牌 (revoke the token of this request)", status=204)
def revoke_token():
    """The token in the Authorization header stops working at once. Logging out everywhere on the
    web and changing the password revoke all of a person's tokens."""
    tokens.revoke_token(db.session, bearer_token())
    response = Response(status=204)
    del response.headers["Content-Type"]  # no content, no type
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
