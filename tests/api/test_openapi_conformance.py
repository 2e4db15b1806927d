"""The API keeps its own description: schemathesis reads GET /api/v1/openapi.json from the portal
served over HTTP on a loopback port (the live API, as a service platform meets it) and calls every
operation in it with generated input — as a citizen and as a member of staff, on
SQLite and on PostgreSQL, against a small seeded world — and requires that no answer is a 5xx and
that every answer's status code, media type, headers and body are those the document declares.

Generated input mostly misses (random request numbers are 404s, random bodies 400s); dictionaries
of the seeded world's real values (request numbers, task ids, a certificate's serial and code,
archive codes, staff emails, the password) make many calls reach the real work. Bounded for CI:
few examples per operation, no deadline, derandomized (the same cases every run)."""
from __future__ import annotations

import json
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from portal.core import clock
from portal.review.models import VerificationTask
from tests import files
from tests.factories import PASSWORD, make_id_number
from tests.helpers import serving

CITIZEN_ID = make_id_number("451202", "19470316", 62)
MAX_EXAMPLES = 6
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance")


@pytest.fixture
def world(app, factory, session, monkeypatch):
    """Two archives (A issues, B holds), a citizen with records in both, staff of each, and the
    citizen's requests in every open state, one of them issued (a certificate to check and revoke)."""
    monkeypatch.setattr(clock, "china_today", lambda: date(2026, 3, 2))
    a = factory.archive(code="451200", name="河池市档案馆")
    b = factory.archive(code="451202", name="金城江区档案馆", region="金城江区")
    citizen = factory.user(email="citizen@example.cn", name="韦秀英", id_number=CITIZEN_ID)
    staff = {"a_clerk": factory.user("clerk", email="a_clerk@example.cn", archive=a, name="李四"),
             "a_reviewer": factory.user("reviewer", email="a_reviewer@example.cn", archive=a, name="覃六"),
             "b_clerk": factory.user("clerk", email="b_clerk@example.cn", archive=b, name="陆七"),
             "admin": factory.user("admin", email="admin@example.cn", name="管理员")}
    own_a = factory.record(a, reference_code="J001-1985-0001", subject_name="韦秀英", subject_id_number=CITIZEN_ID)
    own_b = factory.record(b, reference_code="J032-1990-0007", subject_name="韦秀英", subject_id_number=CITIZEN_ID,
                           access_level="restricted", category="social_insurance", title="职工养老保险缴费记录")
    requests = {status: factory.request(citizen, records=[own_a], status=status)
                for status in ("submitted", "in_review", "needs_supplement", "approved", "issued")}
    requests["cross"] = factory.request(citizen, records=[own_b], issuing=a, status="in_review")  # B's task is open
    issued = requests["issued"]
    session.expire_all()
    return {
        "citizen": citizen, "staff": staff, "requests": requests,
        "numbers": [r.number for r in requests.values()],
        "task_ids": [t.public_id for t in session.query(VerificationTask).order_by(VerificationTask.id)],
        "serial": issued.certificate.serial, "code": issued.certificate.code,
        "archives": ["451200", "451202"],
        "references": [own_a.reference_code, own_b.reference_code],
        "emails": [citizen.email, *(user.email for user in staff.values())],
    }


@pytest.fixture
def live_api(app):
    """The app over real HTTP: the world is committed for real (`real_commits`), so the server's
    own sessions see it."""
    with serving(app) as url:
        yield url


def token(client, user) -> str:
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()["token"]


def config(world, bearer: str) -> schemathesis.Config:
    """What schemathesis checks, how many cases, and the seeded values it mixes into its own."""
    def use(name: str, probability: float = 0.6) -> dict:
        return {"dictionary": name, "probability": probability}

    return schemathesis.Config.from_dict({
        "seed": 20261204,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "dictionaries": {
            "numbers": {"values": world["numbers"]},
            "task_ids": {"values": world["task_ids"]},
            "serials": {"values": [world["serial"]]},
            "codes": {"values": [world["code"]]},
            "archives": {"values": world["archives"]},
            "references": {"values": world["references"]},
            "emails": {"values": world["emails"]},
            "passwords": {"values": [PASSWORD]},
        },
        "parameters": {
            "path.number": use("numbers", 0.8), "path.task_id": use("task_ids", 0.8),
            "path.serial": use("serials", 0.8),
            "query.code": use("codes", 0.7), "query.archive": use("archives"), "query.other_archive": use("archives"),
            "body.to": use("emails"), "body.email": use("emails", 0.8), "body.password": use("passwords", 0.5),
            "body.issuing_archive": use("archives"), "body.archives[*]": use("archives", 0.8),
            "body.records[*].archive_code": use("archives", 0.8),
            "body.records[*].reference_code": use("references", 0.8),
        },
        "auth": {"openapi": {"bearerAuth": {"bearer": bearer}}},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    })


def known_good_calls(world) -> list[tuple[str, str, dict]]:
    """(who, operation, the case's parts): calls that succeed, so that the 2xx answers random input
    rarely reaches (a new request, the PDF, a verified task, an issued certificate) are checked too.
    They run first, on the world as seeded."""
    requests, pdf = world["requests"], files.pdf_bytes()
    doc = {"records": [{"archive_code": "451200", "reference_code": world["references"][0]}], "relation": "self",
           "purpose": "pension", "issuing_archive": "451200", "delivery": "download", "consent": True}
    task_of_a = next(t.public_id for t in requests["in_review"].tasks)
    return [
        ("citizen", "POST /requests", {"body": doc, "media_type": "application/json"}),
        ("citizen", "POST /requests", {"body": {"request": json.dumps(doc), "supplement": [pdf]},
                                       "media_type": "multipart/form-data"}),
        ("citizen", "GET /requests/{number}/certificate", {"path_parameters": {"number": requests["issued"].number}}),
        ("citizen", "POST /requests/{number}/actions/resubmit", {
            "path_parameters": {"number": requests["needs_supplement"].number},
            "body": {"note": "已补充", "supplement": [pdf]}, "media_type": "multipart/form-data"}),
        ("a_clerk", "GET /requests/{number}", {"path_parameters": {"number": requests["cross"].number}}),
        ("a_clerk", "POST /tasks/{task_id}/actions/verify", {
            "path_parameters": {"task_id": task_of_a}, "body": {"note": "已核实", "copy": pdf},
            "media_type": "multipart/form-data"}),
        ("a_reviewer", "POST /requests/{number}/actions/issue", {
            "path_parameters": {"number": requests["approved"].number}, "body": {}, "media_type": "application/json"}),
        ("a_reviewer", "POST /certificates/{serial}/revoke", {"path_parameters": {"serial": world["serial"]},
                                                              "body": {"reason": "出证依据的档案有误"},
                                                              "media_type": "application/json"}),
    ]


@pytest.mark.real_commits
def test_every_answer_is_as_documented(app, client, world, live_api):
    """Every operation, with valid and with invalid input, as the citizen and as each member of
    staff. All failures are reported together, each with the call that shows it."""
    tokens = {who: token(client, user) for who, user in {"citizen": world["citizen"], **world["staff"]}.items()}
    schemas = {who: schemathesis.openapi.from_url(f"{live_api}/api/v1/openapi.json", config=config(world, bearer))
               for who, bearer in tokens.items()}
    assert all(schema.get_base_url().startswith(live_api) for schema in schemas.values())  # over HTTP
    failures = []
    for who, label, parts in known_good_calls(world):
        method, path = label.split(" ")
        case = schemas[who][path][method].Case(**parts)
        response = case.call_and_validate(headers={"Authorization": f"Bearer {tokens[who]}"})
        assert 200 <= response.status_code < 300, (who, label, response.status_code, response.text)
    for who, schema in schemas.items():
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.label == "DELETE /tokens":
                continue  # it would end the token the other operations use (tests/security/test_sessions.py)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    run_cases(operation.as_strategy(generation_mode=mode))
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: no parameters, no body
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 — one operation's failure
                    failures.append(f"{who} {operation.label} ({mode.value}): {str(exc)[:2000]}")
    assert not failures, "\n\n".join(failures)


def run_cases(strategy) -> None:
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def call(case):
        case.call_and_validate()

    call()
