"""JSON API v1. Errors are JSON with the right status, never an HTML page."""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from portal.catalog.indexing import get_index
from portal.catalog.search import hit_as_json, parse_query, public_search
from portal.core.errors import ValidationFailed
from portal.db import db
from search_index import SearchUnavailable

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(message, status: int, **extra):
    return jsonify({"error": str(message), **extra}), status


@bp.get("/search")
def search():
    try:
        query = parse_query(request.args)
    except ValidationFailed as exc:
        field, message = next(iter(exc.errors.items()))
        return error(message, 400, field=field)
    try:
        page = public_search(db.session, get_index(), query)
    except SearchUnavailable:
        return error("检索服务暂时不可用，请稍后再试 (search is temporarily unavailable)", 503)
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
