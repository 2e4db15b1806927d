"""GET /api/v1/openapi.json describes every /api/v1 route (each action of an `/actions/<action>`
route on its own path), with its bodies, answers, errors and the bearer token; GET /api/v1/docs
shows it; the action bodies take what the action dispatcher takes."""
from __future__ import annotations

import re

import jsonschema_rs
import pytest

from portal.actions import ACTIONS
from portal.api.schemas import REQUEST_ACTION_BODIES, TASK_ACTION_BODIES
from tests.conftest import make_test_app

PUBLIC = {("get", "/search"), ("post", "/tokens"), ("get", "/certificates/{serial}"), ("get", "/openapi.json"),
          ("get", "/docs")}


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    data = tmp_path_factory.mktemp("openapi")
    app = make_test_app(data, f"sqlite:///{data}/p.db")
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return app, response.get_json()


def operations(document):
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            yield method, path, op


def test_every_api_route_is_in_the_document(doc):
    app, document = doc
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": "/api/v1"}]
    paths = set(document["paths"])
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if "{action}" in path:
                bodies = REQUEST_ACTION_BODIES if path.startswith("/requests") else TASK_ACTION_BODIES
                expanded = {path.replace("{action}", action) for action in bodies}
                assert expanded <= paths, sorted(expanded - paths)
                assert all(method.lower() in document["paths"][p] for p in expanded)
            else:
                assert method.lower() in document["paths"].get(path, {}), (method, path)


def test_each_action_has_its_own_body_and_answers(doc):
    _app, document = doc
    reject = document["paths"]["/requests/{number}/actions/reject"]["post"]
    assert reject["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RejectBody"}
    assert reject["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/RequestConflict")
    claim = document["paths"]["/requests/{number}/actions/claim"]["post"]
    assert claim["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ClaimAnswer")
    verify = document["paths"]["/tasks/{task_id}/actions/verify"]["post"]
    form = verify["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["copy"] == {"type": "string", "format": "binary"}
    assert "copy" not in document["components"]["schemas"]["TaskAnswerBody"]["properties"]  # a file is a part
    resubmit = document["paths"]["/requests/{number}/actions/resubmit"]["post"]
    parts = resubmit["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert {"supplement", "death_proof", "files", "note", "version"} <= set(parts)


def test_tokens_and_errors_are_declared(doc):
    _app, document = doc
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for method, path, op in operations(document):
        responses = op["responses"]
        if path.startswith("/federation/"):  # the peer API: signed calls (tests/federation/test_openapi_peer_api.py)
            continue
        if (method, path) in PUBLIC:
            assert "security" not in op, (method, path)
            assert "401" not in responses or path == "/tokens", (method, path)  # a wrong password is a 401
        else:
            assert op["security"] == [{"bearerAuth": []}], (method, path)
            assert "401" in responses, (method, path)
        if "requestBody" in op or any(p["in"] == "query" for p in op.get("parameters", ())):
            assert "400" in responses, (method, path)
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                schema = answer["content"]["application/json"]["schema"]["$ref"]
                assert schema.rsplit("/", 1)[1] in document["components"]["schemas"]


def test_every_schema_is_valid_json_schema(doc):
    _app, document = doc
    for name, schema in document["components"]["schemas"].items():
        jsonschema_rs.meta.validate(schema)
        # Unknown keys are refused, in input and in answers; the log-in has always ignored them.
        assert schema.get("additionalProperties") is False or name == "TokenRequest", name


@pytest.mark.parametrize(("kind", "bodies"), [("request", REQUEST_ACTION_BODIES), ("task", TASK_ACTION_BODIES)])
def test_action_bodies_take_what_the_dispatcher_takes(kind, bodies):
    """portal.actions.act takes each body's values (Strict.inputs) as the action's input model."""
    for action, body in bodies.items():
        declared = {field.alias or name for name, field in ACTIONS[(kind, action)].input.model_fields.items()}
        sent = {field.alias or name for name, field in body.model_fields.items()}
        assert sent <= declared, (kind, action, sent - declared)


def test_the_document_is_public_and_cacheable(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Authorization" not in response.headers.get("Vary", "")


def test_the_docs_page_shows_every_operation(client, doc):
    _app, document = doc
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for method, path, op in operations(document):
        base = op["servers"][0]["url"].rstrip("/") if "servers" in op else "/api/v1"  # the peer API: its own
        assert f"{method.upper()} {base}{path}" in page
        assert f'id="{op["operationId"]}"' in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    assert "<script" not in re.sub(r'<script src="/static/[\w/.]+\.js(?:\?v=[0-9a-f]+)?" defer></script>', "", page)  # the site's own files only


def test_the_docs_page_speaks_english_too(client):
    page = client.get("/api/v1/docs?lang=en").get_data(as_text=True)
    assert "Request body" in page and "Responses" in page and "请求体" not in page
