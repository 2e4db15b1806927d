"""Requests across nodes: a citizen on alpha applies for a record held by beta, each node a real
`portal serve` process with its own SQLite database; the task, the answer with the certified copy
and a cancellation travel as signed messages through each node's outbox."""
from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.federation.cluster import Node, running
from tests.federation.requests_journey import (FAST, HOLDING, ISSUING, accept, apply, detail, open_record, sql,
                                               task_on, token, wait_for, web_login, whole_journey)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    base = tmp_path_factory.mktemp("requests")
    a = Node.create(base / "a", "alpha", archives=ISSUING, records=40, extra_env=FAST)
    b = Node.create(base / "b", "beta", archives=HOLDING, records=40, extra_env=FAST)
    with running(a, b):
        yield a, b


def test_the_whole_journey_to_a_certificate_carrying_the_holding_nodes_copy(pair):
    a, b = pair
    number = whole_journey(a, b)
    # The timeline on A shows each cross-node step; B's answer came through the peer's account.
    events = detail(a, number, f"reviewer.{ISSUING}@demo.cn")["events"]
    actions = [e["action"] for e in events]
    assert actions == ["submit", "accept", "peer_task_sent", "verify", "approve", "issue"], actions
    sent = events[2]
    assert sent["actor_role"] == "system" and "beta" in sent["note"] and HOLDING in sent["note"]
    assert events[3]["actor_role"] == "peer"
    # B's due date (4 working days there) is on A's task too.
    due_on_b = sql(b, "SELECT t.due_date FROM verification_task t JOIN utilization_request r ON r.id = t.request_id "
                      "WHERE r.number = :n", n=number)[0][0]
    task_on_a = detail(a, number, f"reviewer.{ISSUING}@demo.cn")["tasks"][0]
    assert task_on_a["node"] == "beta" and task_on_a["holding_archive"] == HOLDING
    assert str(task_on_a["due_date"]) == str(due_on_b)[:10]
    # B keeps what it received with alpha's signature, and the proof (not the applicant's ID card).
    stored = sql(b, "SELECT kind, signature, body FROM federation_message WHERE direction = 'in' AND peer = 'alpha' "
                    "ORDER BY id")
    assert [row[0] for row in stored][:1] == ["task.create"]
    assert 'keyid="alpha"' in stored[0][1]
    body = json.loads(stored[0][2])["body"]
    assert body["request"]["number"] == number and [f["kind"] for f in body["files"]] == ["relationship_proof"]
    assert body["subject"]["id_number"] and "applicant" not in body
    # Kept exactly as signed: alpha's signature over it still verifies (a dispute can be settled).
    assert _signature_holds(b, stored[0][1], stored[0][2], a.public_key)
    with pytest.raises(Exception):  # noqa: B017 — any refusal of the library will do: the body was altered
        _signature_holds(b, stored[0][1], stored[0][2].replace('"relative"', '"self"'), a.public_key)
    files_on_b = sql(b, "SELECT f.kind FROM request_file f JOIN utilization_request r ON r.id = f.request_id "
                        "WHERE r.number = :n ORDER BY f.id", n=number)
    assert [row[0] for row in files_on_b] == ["relationship_proof", "certified_copy"]
    # The staff pages: A's request page names the holding node and the task's delivery.
    page = web_login(a, f"reviewer.{ISSUING}@demo.cn").get(a.url + f"/staff/requests/{number}").text
    assert "馆藏节点" in page and "beta" in page and "已送达" in page
    # … and beta's, the issuing node and whether its answer reached it.
    page = web_login(b, f"clerk.{HOLDING}@demo.cn").get(b.url + f"/staff/requests/{number}").text
    assert "出证节点" in page and "alpha" in page and "核实结果" in page and "已送达" in page
    # A's mirror of beta's archive and record stay out of A's own lists.
    status, archives = a.get_json("/federation/v1/node")
    assert [x["code"] for x in archives["archives"]] == [ISSUING]
    status, hits = a.get_json("/api/v1/search", params={"archive": HOLDING})
    assert status == 200 and hits["total"] == 0


def test_a_holding_node_offline_during_delivery_gets_the_task_when_back(pair):
    a, b = pair
    number = apply(a, b, offset=1, seq=2)
    b.stop()
    try:
        accept(a, number)
        wait_for(lambda: sql(a, "SELECT attempts FROM federation_message WHERE direction = 'out' AND kind = 'task.create' "
                                "AND body LIKE :n AND attempts >= 2", n=f"%{number}%"), "retries while beta is down")
        pending = sql(a, "SELECT status, last_error FROM federation_message WHERE body LIKE :n", n=f"%{number}%")
        assert pending[0][0] == "pending" and pending[0][1]
    finally:
        b.start()
    task = wait_for(lambda: task_on(b, number), "the task on beta once it is back")
    assert task["issuing_node"] == "alpha"
    # Beta's clerk sees it in the 协办 tab with alpha's node and archive named.
    page = web_login(b, f"clerk.{HOLDING}@demo.cn").get(b.url + "/staff/queue", params={"tab": "tasks"}).text
    assert number in page and "节点 alpha" in page
    assert sql(a, "SELECT status FROM federation_message WHERE body LIKE :n", n=f"%{number}%")[0][0] == "delivered"


def test_the_same_message_twice_makes_one_task_and_the_same_answer(pair):
    a, b = pair
    number = apply(a, b, offset=2, seq=3)
    accept(a, number)
    wait_for(lambda: task_on(b, number), "the task on beta")
    message_id, body = sql(a, "SELECT message_id, body FROM federation_message WHERE direction = 'out' "
                              "AND kind = 'task.create' AND body LIKE :n", n=f"%{number}%")[0]
    first = json.loads(sql(a, "SELECT response FROM federation_message WHERE message_id = :m", m=message_id)[0][0])
    again = _send(a, b, {"id": message_id, "kind": "task.create", "body": json.loads(body)})
    assert again.status_code == 200 and again.json() == first
    # The same task under a new id (a sender that lost its outbox row) is still one task.
    fresh = _send(a, b, {"id": uuid.uuid4().hex, "kind": "task.create", "body": json.loads(body)})
    assert fresh.status_code == 200 and fresh.json()["task_id"] == first["task_id"]
    tasks = sql(b, "SELECT count(*) FROM verification_task t JOIN utilization_request r ON r.id = t.request_id "
                   "WHERE r.number = :n", n=number)
    assert tasks[0][0] == 1


def test_a_withdrawal_on_the_issuing_node_cancels_the_holding_nodes_task(pair):
    a, b = pair
    number = apply(a, b, offset=3, seq=4)
    accept(a, number)
    wait_for(lambda: task_on(b, number), "the task on beta")
    citizen = token(a, "citizen@demo.cn")
    status, answer = a.post_json(f"/api/v1/requests/{number}/actions/withdraw", {}, token=citizen)
    assert status == 200, answer
    wait_for(lambda: task_on(b, number) is None, "the task leaving beta's queue")
    assert sql(b, "SELECT r.status, t.status FROM utilization_request r JOIN verification_task t "
                  "ON t.request_id = r.id WHERE r.number = :n", n=number)[0] == ("withdrawn", "cancelled")
    events = wait_for(lambda: [e["action"] for e in detail(a, number, f"reviewer.{ISSUING}@demo.cn")["events"]
                               if e["action"] == "peer_task_cancelled"], "the cancellation's delivery on A")
    assert events == ["peer_task_cancelled"]
    # The peer account was never emailed (it is no one's mailbox).
    assert not sql(b, "SELECT id FROM mail_outbox WHERE to_address LIKE 'peer+%'")


def test_peer_accounts_cannot_log_in_and_unsigned_messages_are_refused(pair):
    a, b = pair
    status, _answer = b.post_json("/api/v1/tokens", {"email": "peer+alpha@federation.invalid", "password": "!"})
    assert status == 401
    status, _answer = b.post_json("/federation/v1/messages", {"id": "x" * 10, "kind": "task.cancel", "body": {}})
    assert status == 401
    status, _answer = b.get_json(f"/federation/v1/records/{HOLDING}/anything")
    assert status == 401


def test_only_open_records_are_given_to_a_peer(pair):
    a, b = pair
    closed = sql(b, "SELECT r.reference_code FROM record r JOIN archive a ON a.id = r.archive_id "
                    "WHERE a.code = :c AND r.access_level != 'open' LIMIT 1", c=HOLDING)
    reference = sql(b, "SELECT r.reference_code FROM record r JOIN archive a ON a.id = r.archive_id "
                       "WHERE a.code = :c AND r.access_level = 'open' LIMIT 1", c=HOLDING)[0][0]
    found = _signed_get(a, b, f"/federation/v1/records/{HOLDING}/{reference}")
    assert found.status_code == 200 and set(found.json()) == {
        "archive", "reference_code", "category", "title", "subject_name", "event_year", "event_month", "event_day",
        "place"}
    if closed:
        assert _signed_get(a, b, f"/federation/v1/records/{HOLDING}/{closed[0][0]}").status_code == 404


def _send(a: Node, b: Node, payload: dict):
    import requests

    from tests.federation.test_signatures import _signed

    http = requests.Session()
    http.trust_env = False
    return http.send(_signed(a, b.url + "/federation/v1/messages", method="POST",
                             body=json.dumps(payload, ensure_ascii=False).encode()))


def _signed_get(a: Node, b: Node, path: str):
    import requests

    from tests.federation.test_signatures import _signed

    http = requests.Session()
    http.trust_env = False
    return http.send(_signed(a, b.url + path))


def test_messages_that_cannot_be_acted_on_are_refused_and_not_stored(pair):
    a, b = pair
    before = sql(b, "SELECT count(*) FROM federation_message WHERE direction = 'in'")[0][0]
    cases = [({"id": "short", "kind": "task.cancel", "body": {}}, 400),
             ({"id": uuid.uuid4().hex, "kind": "task.delete", "body": {}}, 400),
             ({"id": uuid.uuid4().hex, "kind": "task.cancel", "body": {"task_id": "no-such-task"}}, 404),
             ({"id": uuid.uuid4().hex, "kind": "task.answer", "body": {"task_id": "no-such-task", "status": "verified"}},
              404),
             ({"id": uuid.uuid4().hex, "kind": "task.create", "body": {"task_id": "t" * 12, "request": {},
                                                                     "issuing": {"node": "gamma"}}}, 400)]
    for payload, status in cases:
        answer = _send(a, b, payload)
        assert answer.status_code == status and "error" in answer.json(), (payload, answer.text)
    assert sql(b, "SELECT count(*) FROM federation_message WHERE direction = 'in'")[0][0] == before


def test_a_peers_record_goes_into_the_basket_as_network_search_offers_it(pair):
    a, b = pair
    reference, name = open_record(b, HOLDING, offset=5)
    browser = web_login(a, "citizen@demo.cn")
    page = browser.get(a.url + "/apply").text
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    added = browser.post(a.url + "/basket/add", data={"csrf_token": csrf, "archive_code": HOLDING,
                                                      "reference_code": reference}, allow_redirects=False)
    assert added.status_code in (302, 303), added.text[:300]
    page = browser.get(a.url + "/apply").text
    # Beta's record, as the public sees it there: its reference code, its archive, the name masked.
    assert reference in page and name not in page
    assert sql(a, "SELECT a.node FROM archive a WHERE a.code = :c", c=HOLDING) == [("beta",)]
    status, _headers, _page = a.request("GET", f"/records/{HOLDING}/{reference}", headers={"Accept": "text/html"})
    assert status == 404  # a mirror has no page here: the record's page is on beta


def _signature_holds(receiver: Node, headers_text: str, raw: str, public_key: str) -> bool:
    """Verify a stored message's signature again, long after: the exact body and the covered headers."""
    from datetime import timedelta
    from types import SimpleNamespace

    import requests
    from http_message_signatures import algorithms
    from requests_http_signature import HTTPSignatureAuth

    from portal.federation.signing import _Keys

    headers = dict(line.split(": ", 1) for line in headers_text.splitlines())
    keyid = re.search(r'keyid="([^"]+)"', headers["Signature-Input"]).group(1)
    call = requests.Request("POST", receiver.url + "/federation/v1/messages", data=raw.encode(),
                            headers={**headers, "Content-Type": "application/json"}).prepare()
    HTTPSignatureAuth.verify(call, signature_algorithm=algorithms.ED25519, max_age=timedelta(days=3650),
                             key_resolver=_Keys(peers={keyid: SimpleNamespace(public_key=public_key)}),
                             require_components=("@method", "@target-uri", "content-digest"))
    return True
