"""GET /federation/v1/search: the public search of this node, asked by a peer for its visitors."""
from __future__ import annotations

from flask import jsonify, request

from portal.catalog.indexing import get_index
from portal.catalog.search import parse_query
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.federation.search import answer_as_json, local_answer, peer_name_search_counted
from portal.federation.views import bp, from_peer
from portal.throttle import Throttled
from search_index import SearchUnavailable


@bp.get("/search")
@from_peer
def search():
    """Signed. The search an anonymous visitor of this node gets (open records only, names masked,
    the same words, filters and paging: q, category, archive, year_from, year_to, page, per_page),
    as JSON: `node` (this node's name), `total`, `hits` (each with only public, masked fields, its
    `node`, its `url` on this node, `archive` {code, name} and a `score` in (0, 1] from its rank:
    20 / (20 + position), so answers of different engines merge fairly), `facets` (category,
    archive, decade), `archives` (code → name) and `backend`. A search read with a full name
    counts against the asking peer's limit (FEDERATION_PEER_NAME_SEARCH_LIMIT): 429 once full.
    400 for bad parameters, 503 when the search engine is down."""
    try:
        peer_name_search_counted()
        query = parse_query(request.args)
        answer = local_answer(db.session, get_index(), query)
    except Throttled as exc:
        response = jsonify({"error": exc.text()})
        response.status_code = 429
        return exc.headers_on(response)
    except ValidationFailed as exc:
        return jsonify({"error": "bad parameters", "fields": {k: str(v) for k, v in exc.errors.items()}}), 400
    except SearchUnavailable:
        return jsonify({"error": "search is temporarily unavailable"}), 503
    return jsonify(answer_as_json(answer, get_index().backend))
