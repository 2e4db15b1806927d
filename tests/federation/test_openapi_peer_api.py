"""The OpenAPI document lists the peer API: every route of the `federation` blueprint (read from the
app's URL map, so routes other modules add are listed too), its docstring as the description, on a
node's base URL, the signed ones with the RFC 9421 security scheme."""
from __future__ import annotations

import inspect
import re


def test_every_peer_route_is_listed_with_its_docstring(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("federation.")]
    assert {"federation.node_info", "federation.ping", "federation.certificate"} <= {r.endpoint for r in rules}
    for rule in rules:
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = document["paths"][path][method.lower()]
            assert op["tags"] == ["federation"] and op["servers"][0]["url"] == "/"
            assert op["description"] == inspect.getdoc(view), rule.endpoint
            signed = getattr(view, "peer_only", False)
            assert (op.get("security") == [{"httpSignature": []}]) is signed, rule.endpoint
            assert ("401" in op["responses"]) is signed
    assert "security" not in document["paths"]["/federation/v1/node"]["get"]  # public: a node's identity
    scheme = document["components"]["securitySchemes"]["httpSignature"]
    assert scheme["scheme"] == "Signature"
    assert all(part in scheme["description"] for part in ("RFC 9421", "Ed25519", "@method", "@target-uri",
                                                          "content-digest", "created", "nonce"))
    assert any(tag["name"] == "federation" for tag in document["tags"])
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "GET /federation/v1/certificates/{serial}" in page
