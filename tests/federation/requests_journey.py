"""The steps of a request across two real nodes, through the JSON API as the people involved take
them: a citizen on the issuing node A applies for a record of the holding node B, A's clerk
accepts, B's clerk verifies with a certified copy, A's reviewer approves and issues. Shared by
tests/federation/test_requests*.py (SQLite and PostgreSQL pairs)."""
from __future__ import annotations

import json
import re
import time
from io import BytesIO

import requests
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from portal.core.idnumber import with_check_character
from tests.federation.cluster import Node
from tests.files import pdf_bytes

PASSWORD = "Archive2024!"
ISSUING, HOLDING = "450100", "450200"
# Retries every half second, at most two seconds apart: a peer back from the dead is reached at once.
FAST = {"PORTAL_FEDERATION_RETRY_BASE": "0.3", "PORTAL_FEDERATION_RETRY_CAP": "2"}


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def sql(node: Node, query: str, **params) -> list:
    """Rows of a query on the node's own database (what it stored, as its admin would look)."""
    url = node.env.get("DATABASE_URL") or f"sqlite:///{node.data_dir / 'portal.db'}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(query), params))
    finally:
        engine.dispose()


def open_record(node: Node, archive: str, offset: int = 0) -> tuple[str, str]:
    """(reference code, full subject name) of an open record of `archive` on `node` about someone."""
    rows = sql(node, "SELECT r.reference_code, r.subject_name FROM record r JOIN archive a ON a.id = r.archive_id "
                     "WHERE a.code = :code AND r.access_level = 'open' AND length(r.subject_name) >= 2 "
                     "ORDER BY r.id LIMIT 1 OFFSET :offset", code=archive, offset=offset)
    assert rows, f"no open record of {archive} on {node.name}"
    return rows[0][0], rows[0][1]


def wait_for(check, what: str, timeout: float = 30):
    """Poll `check()` until it returns something truthy (messages travel in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


_TOKENS: dict = {}


def token(node: Node, email: str) -> str:
    """A bearer token, made once per node and person (each costs a password hash)."""
    key = (node.url, email)
    if key not in _TOKENS:
        _TOKENS[key] = node.token(email, PASSWORD)
    return _TOKENS[key]


def web_login(node: Node, email: str) -> requests.Session:
    """A browser-like session of `email` on `node` (the log-in form, its CSRF token)."""
    browser = http()
    page = browser.get(node.url + "/login").text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert csrf, page[:500]
    answer = browser.post(node.url + "/login", data={"csrf_token": csrf.group(1), "email": email, "password": PASSWORD},
                          allow_redirects=False)
    assert answer.status_code in (302, 303), answer.text[:500]
    return browser


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def apply(a: Node, b: Node, offset: int = 0, seq: int = 1) -> str:
    """The demo citizen on A applies for an open record of B for a relative, with a proof; the number."""
    reference, name = open_record(b, HOLDING, offset)
    doc = {"records": [{"archive_code": HOLDING, "reference_code": reference, "node": b.name}],
           "relation": "relative", "subject": {"name": name, "id_number": with_check_character(f"45020019400101{seq:03d}")},
           "purpose": "inheritance", "issuing_archive": ISSUING, "delivery": "download", "consent": True}
    bearer = token(a, "citizen@demo.cn")
    answer = http().post(a.url + "/api/v1/requests", headers=auth(bearer), files={
        "request": ("request.json", json.dumps(doc, ensure_ascii=False), "application/json"),
        "relationship_proof": ("户口簿.pdf", pdf_bytes(1, "relationship-proof"), "application/pdf")})
    assert answer.status_code == 201, answer.text
    return answer.json()["number"]


def accept(a: Node, number: str) -> None:
    bearer = token(a, f"clerk.{ISSUING}@demo.cn")
    status, answer = a.post_json(f"/api/v1/requests/{number}/actions/accept", {"identity_checked": True}, token=bearer)
    assert status == 200, answer


def task_on(b: Node, number: str) -> dict | None:
    """The task of request `number` in B's clerk's 协办 tab, once it arrived."""
    bearer = token(b, f"clerk.{HOLDING}@demo.cn")
    status, queue = b.get_json("/api/v1/queue", params={"tab": "tasks"}, token=bearer)
    assert status == 200, queue
    return next((item for item in queue["items"] if item["number"] == number), None)


def verify(b: Node, task_id: str, copy_text: str = "certified-copy-from-beta") -> dict:
    bearer = token(b, f"clerk.{HOLDING}@demo.cn")
    answer = http().post(b.url + f"/api/v1/tasks/{task_id}/actions/verify", headers=auth(bearer),
                         data={"note": "已调阅原件核实无误"},
                         files={"copy": ("婚姻登记审查处理表.pdf", pdf_bytes(1, copy_text), "application/pdf")})
    assert answer.status_code == 200, answer.text
    return answer.json()


def detail(node: Node, number: str, email: str) -> dict:
    status, answer = node.get_json(f"/api/v1/requests/{number}", token=token(node, email))
    assert status == 200, answer
    return answer


def approve_and_issue(a: Node, number: str) -> bytes:
    bearer = token(a, f"reviewer.{ISSUING}@demo.cn")
    for action in ("approve", "issue"):
        status, answer = a.post_json(f"/api/v1/requests/{number}/actions/{action}", {}, token=bearer)
        assert status == 200, (action, answer)
    citizen = token(a, "citizen@demo.cn")
    status, _headers, pdf = a.request("GET", f"/api/v1/requests/{number}/certificate", token=citizen,
                                      headers={"Accept": "application/pdf"})
    assert status == 200 and pdf.startswith(b"%PDF-"), (status, pdf[:200])
    return pdf


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(BytesIO(pdf)).pages]


def whole_journey(a: Node, b: Node, offset: int = 0, seq: int = 1) -> str:
    """Apply on A, accept on A, verify on B, approve and issue on A; the certificate carries B's
    certified copy. Returns the request number."""
    number = apply(a, b, offset, seq)
    mine = detail(a, number, "citizen@demo.cn")
    assert mine["records"][0]["node"] == b.name and mine["records"][0]["archive_code"] == HOLDING
    accept(a, number)
    task = wait_for(lambda: task_on(b, number), "the task on B")
    assert task["issuing_archive"] == ISSUING and task["issuing_node"] == a.name
    verify(b, task["task_id"])
    wait_for(lambda: all(t["result"] == "verified"
                         for t in detail(a, number, f"reviewer.{ISSUING}@demo.cn")["tasks"]), "B's answer on A")
    pdf = approve_and_issue(a, number)
    assert page_texts(pdf)[-1].strip().startswith("certified-copy-from-beta")
    return number
