"""The peer API (/federation/v1/…, portal.federation.views) in the OpenAPI document: read from the
app's URL map when the document is built, so every route any module registers on the `federation`
blueprint is listed, with its docstring as its description, without being declared twice. Each
operation carries its own `servers` (a node's base URL: the peer API is not under /api/v1), and
the signed ones the `httpSignature` security scheme (RFC 9421), described here once."""
from __future__ import annotations

import inspect
import re

from flask import Flask

BLUEPRINT = "federation"
TAG = {"name": BLUEPRINT, "description": "节点之间的接口 (the peer API: calls between nodes of the network, each signed "
                                          "by the calling node; not for browsers or citizens' clients). See "
                                          "docs/federation.md."}
SERVERS = [{"url": "/", "description": "a node's base URL (another node: the URL its `portal node show` prints)"}]
SECURITY_SCHEME = {
    "type": "http", "scheme": "Signature",
    "description": (
        "HTTP Message Signatures (RFC 9421) made with the calling node's Ed25519 key (alg `ed25519`, "
        "`keyid` = the calling node's name, its public key as this node's admin added it: `portal peers add`). "
        "Covered components: `@method`, `@target-uri`, `content-digest` (RFC 9530, SHA-256, also for an empty "
        "body) and `date`; signature parameters `created` (accepted for 5 minutes) and a random `nonce` (a "
        "call signed with a nonce seen before is refused). Headers `Signature-Input`, `Signature`, "
        "`Content-Digest`, `Date`. Unsigned, stale, replayed, forged or unknown-key calls: 401 with "
        "`WWW-Authenticate: Signature`, logged."),
}
ERROR = {"$ref": "#/components/schemas/Error"}


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _answer(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operations(app: Flask) -> dict[str, dict]:
    """{path: {method: operation}} of every route of the `federation` blueprint."""
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.partition(".")[0] != BLUEPRINT:
            continue
        view = app.view_functions[rule.endpoint]
        doc = inspect.getdoc(view) or ""
        signed = getattr(view, "peer_only", False)
        path = _path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = {
                "tags": [BLUEPRINT], "operationId": rule.endpoint.replace(".", "_") + (
                    f"_{method.lower()}" if len(rule.methods - {"HEAD", "OPTIONS"}) > 1 else ""),
                "summary": doc.split("\n")[0][:120] or rule.endpoint, "servers": SERVERS,
            }
            if doc:
                operation["description"] = doc
            parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                          for name in re.findall(r"{([a-z_]+)}", path)]
            if parameters:
                operation["parameters"] = parameters
            if method in ("POST", "PUT", "PATCH"):
                operation["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"type": "object"}}}}
            responses = {"200": _answer("the answer (see the description)", {"type": "object"}),
                         "404": _answer("not found, or this portal is not a node of a network", ERROR)}
            if signed:
                responses["401"] = _answer("the call is not signed by a trusted peer, or is stale or replayed",
                                           ERROR)
                responses["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"},
                                                                    "description": "Signature"}}
                responses["429"] = _answer("too many calls from this peer",  ERROR)
                if method != "GET":
                    responses["400"] = _answer("a body this node cannot read", ERROR)
                operation["security"] = [{"httpSignature": []}]
            operation["responses"] = dict(sorted(responses.items()))
            paths.setdefault(path, {})[method.lower()] = operation
    return paths


def add_to(document: dict, app: Flask) -> dict:
    """`document` (portal.api.openapi) with the peer API added."""
    found = operations(app)
    if not found:
        return document
    document["paths"].update(found)
    document["tags"].append(TAG)
    document["components"]["securitySchemes"]["httpSignature"] = SECURITY_SCHEME
    return document
