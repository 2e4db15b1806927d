"""JSON API v1: the blueprint, assembled from each module's routes, and the API's own description
(the OpenAPI document and its readable page). Errors are JSON with the right status, never an
HTML page; refused input is answered by one handler (portal.api.errors). Callers authenticate with
a bearer token only (portal.api.auth), so the blueprint is exempt from CSRF.

The modules declare their routes (portal.api.routing) and import nothing from here: only this
module knows them all."""
from __future__ import annotations

from functools import cache

from flask import Blueprint, current_app, jsonify, render_template

from portal.api import catalog, certificates, requests, review, statistics
from portal.api.docs_page import page_context
from portal.api.errors import register_error_handlers
from portal.api.federation_doc import add_to as add_peer_api
from portal.api.openapi import document
from portal.api.routing import Content, Routes

routes = Routes("about", "本接口的说明 (this API's description)")
GROUPS = (catalog.routes, requests.routes, review.routes, certificates.routes, statistics.routes, routes)


@cache
def _document(app) -> dict:
    return add_peer_api(document(list(GROUPS)), app)


def openapi_document() -> dict:
    """Built once per app: it depends on the code only (and the peer API's routes are read from
    the app's URL map, all registered by then)."""
    return _document(current_app._get_current_object())


@routes.get("/openapi.json", auth=False, summary="OpenAPI 3.1 文档 (this document)",
            ok=Content("application/json", {"type": "object"}, "the OpenAPI 3.1 document"))
def openapi_json():
    """Every route under /api/v1, its parameters, bodies, answers and errors."""
    response = jsonify(openapi_document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@routes.get("/docs", auth=False, summary="接口说明页面 (the readable page)",
            ok=Content("text/html", {"type": "string"}, "the OpenAPI document as a page"))
def docs():
    """The OpenAPI document, readable in a browser."""
    return render_template("api/docs.html", **page_context(openapi_document()))


bp = Blueprint("api", __name__, url_prefix="/api/v1")
for group in GROUPS:
    group.register(bp)
register_error_handlers(bp)
