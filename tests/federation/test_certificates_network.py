"""Certificates verifiable anywhere, with real nodes: alpha issues a certificate (its serial names
alpha), beta — a peer — verifies it on /verify and through the API by asking alpha (signed),
naming alpha as the node that answered; a revocation on alpha shows at beta on the next check;
alpha down → beta says it cannot be reached (503), never "not found". Alpha runs on PostgreSQL
when PORTAL_TEST_POSTGRES_URL is set, beta on SQLite."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.federation.cluster import Node, PG_URL, REPO, close, link

PASSWORD = "Archive2024!"


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    base = tmp_path_factory.mktemp("certs")
    # The issuing node on PostgreSQL where the tests have one (.ci/run), the asking node on SQLite.
    a = Node.create(base / "a", "alpha", archives="451200,451202,451203", records=60, postgres=bool(PG_URL))
    b = Node.create(base / "b", "beta")
    try:
        done = subprocess.run([sys.executable, "-m", "tests.federation.certs_setup"], env=a.env, cwd=REPO,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        ready = json.loads(done.stdout.strip().splitlines()[-1])
        link(a, b)
        a.start(), b.start()
        reviewer = a.token(ready["reviewer"], PASSWORD)
        status, answer = a.post_json(f"/api/v1/requests/{ready['number']}/actions/issue", {}, token=reviewer)
        assert status == 200, answer
        status, request = a.get_json(f"/api/v1/requests/{ready['number']}", token=reviewer)
        certificate = request["certificate"]
        yield {"a": a, "b": b, "serial": certificate["serial"], "code": certificate["code"], "reviewer": reviewer}
    finally:
        close(a, b)


def page(node: Node, **params) -> tuple[int, dict, str]:
    status, headers, body = node.request("GET", "/verify", params=params, headers={"Accept": "text/html"})
    return status, headers, body.decode()


def test_the_serial_names_the_issuing_node(network):
    assert network["serial"].startswith("ZM-ALPHA-4512")


def test_a_peer_verifies_it_by_asking_the_issuing_node(network):
    a, b, serial, code = network["a"], network["b"], network["serial"], network["code"]
    status, there = b.get_json(f"/api/v1/certificates/{serial}", params={"code": code})
    status_home, home = a.get_json(f"/api/v1/certificates/{serial}", params={"code": code})
    assert status == status_home == 200
    assert there["valid"] is True and there["node"] == "alpha" and home["node"] == "alpha"
    assert {k: v for k, v in there.items()} == home  # the same facts, wherever asked
    status, _headers, html = page(b, serial=serial.lower(), code=code)  # typed in lower case
    assert status == 200 and "verdict-valid" in html and "alpha" in html and serial in html


def test_a_wrong_code_through_a_peer_is_not_found_like_an_unknown_serial(network):
    b, serial = network["b"], network["serial"]
    wrong = b.get_json(f"/api/v1/certificates/{serial}", params={"code": "AAAAAAAA"})
    unknown = b.get_json(f"/api/v1/certificates/{serial[:-6]}999999", params={"code": "AAAAAAAA"})
    stranger = b.get_json("/api/v1/certificates/ZM-GAMMA-451200-2026-000001", params={"code": "AAAAAAAA"})
    assert wrong == unknown == stranger and wrong[0] == 404
    status, _headers, html = page(b, serial=serial, code="AAAAAAAA")
    assert status == 200 and "verdict-unknown" in html and "verdict-valid" not in html


def test_the_peer_endpoint_takes_only_signed_calls(network):
    a, serial, code = network["a"], network["serial"], network["code"]
    status, _answer = a.get_json(f"/federation/v1/certificates/{serial}", params={"code": code})
    assert status == 401


def test_a_revocation_shows_at_the_peer_on_the_next_check(network):
    a, b, serial, code = network["a"], network["b"], network["serial"], network["code"]
    status, _answer = a.post_json(f"/api/v1/certificates/{serial}/revoke", {"reason": "出证依据的档案有误"},
                                  token=network["reviewer"])
    assert status == 200
    status, there = b.get_json(f"/api/v1/certificates/{serial}", params={"code": code})
    assert status == 200 and there["valid"] is False and there["status"] == "revoked" and there["revoked_at"]
    status, _headers, html = page(b, serial=serial, code=code)
    assert status == 200 and "verdict-revoked" in html


def test_the_issuing_node_down_is_said_so_never_not_found(network):
    a, b, serial, code = network["a"], network["b"], network["serial"], network["code"]
    a.stop()
    try:
        status, headers, body = b.request("GET", f"/api/v1/certificates/{serial}", params={"code": code})
        assert status == 503 and int(headers["Retry-After"]) > 0 and "alpha" in json.loads(body)["error"]
        status, headers, html = page(b, serial=serial, code=code)
        assert status == 503 and "verdict-unknown" in html and "alpha" in html and "Retry-After" in headers
        assert "没有与该证明编号和验证码相符的证明" not in html
    finally:
        a.start()
