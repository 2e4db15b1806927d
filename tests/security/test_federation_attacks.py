"""A trusted peer that turns hostile: what its messages (portal.federation.messages_inbox) may not do
here, whatever its valid signature. In one process: the inbox is called as the signed route calls it."""
from __future__ import annotations

import uuid
from types import SimpleNamespace
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.archives.models import Archive
from portal.federation.messages_inbox import receive
from portal.federation.models import Peer
from portal.requests.models import UtilizationRequest
from tests.factories import make_id_number


@pytest.fixture
def beta(session, factory):
    """This node holds 450100; the peer "beta" is trusted and holds 450200."""
    factory.archive("450100", "南宁市档案馆", "南宁市")
    account = User(email="peer+beta@federation.invalid", password_hash="!unusable", real_name="beta", role="peer",
                   node="beta")
    peer = Peer(name="beta", url="https://beta.example", public_key="x" * 43, account=account,
                archives='[{"code": "450200", "name": "柳州市档案馆", "region": "柳州市"}]')
    session.add_all([account, peer])
    session.commit()
    return peer


def _task(number: str, **search) -> dict:
    return {"task_id": uuid.uuid4().hex[:16],
            "request": {"number": number, "kind": "search", "relation": "self", "purpose": "pension",
                        "submitted_at": datetime.now(timezone.utc).isoformat()},
            "issuing": {"node": "beta", "code": "450200", "name": "柳州市档案馆"},
            "holding_archive": "450100", "search": {"category": "marriage", **search},
            "subject": {"name": "覃秀兰", "id_number": make_id_number()}}


def _send(session, peer, body: dict):
    return receive(session, peer, uuid.uuid4().hex, "task.create", body, "", "{}")


def test_a_peer_cannot_take_a_request_number_of_this_nodes_own_archives(session, beta):
    """Numbers are "<issuing archive code>-<year>-<n>", made here from a sequence: a peer's task
    numbered as one of this node's archives would take the number a local applicant gets next, and
    that citizen's submission would fail on the unique number."""
    status, answer = _send(session, beta, _task(f"450100-{datetime.now().year}-000001"))
    assert status == 422, answer
    assert session.scalar(select(UtilizationRequest.id).where(UtilizationRequest.applicant_id == beta.account_id)) \
        is None
    status, answer = _send(session, beta, _task(f"450200-{datetime.now().year}-000001"))  # its own archive's: fine
    assert status == 200, answer


@pytest.mark.parametrize("year", [10**20, -10**20])
def test_absurd_years_of_a_search_task_are_refused_not_a_server_error(session, beta, year):
    status, answer = _send(session, beta, _task(f"450200-{datetime.now().year}-000002", year_from=year))
    assert status in (200, 400), answer


def test_nul_characters_in_a_task_are_refused_not_a_server_error(session, beta):
    body = _task(f"450200-{datetime.now().year}-000003", place="柳州\x00")
    body["subject"]["name"] = "覃\x00秀兰"
    assert _send(session, beta, body)[0] == 400
    body = _task(f"450200-{datetime.now().year}-000004")
    body["request"]["purpose_note"] = "\ud800"  # a lone surrogate: not UTF-8
    assert _send(session, beta, body)[0] == 400
    assert receive(session, beta, "id\x00" + uuid.uuid4().hex, "task.cancel", {}, "", "{}")[0] == 400


@pytest.mark.parametrize("hostile", [{}, {"event_year": 10**20}, {"event_year": 40_000}, {"title": "结婚\x00登记"},
                                     {"archive": {"code": "450200", "name": "柳州\x00"}}])
def test_a_peers_record_that_cannot_be_stored_is_left_out_not_a_server_error(session, beta, monkeypatch, hostile):
    """The facts of a peer's record are mirrored here when a citizen applies for it."""
    from portal.federation import records

    facts = {"archive": {"code": "450200", "name": "柳州市档案馆"}, "reference_code": "J001-1", "category": "marriage",
             "title": "结婚登记", "subject_name": "覃*兰", "event_year": 1980, **hostile}
    monkeypatch.setattr(records, "this_node", lambda: True)
    monkeypatch.setattr(records, "call", lambda *_args, **_kwargs: SimpleNamespace(status_code=200, json=lambda: facts))
    mirrored = records.mirror_records(session, [("450200", "J001-1")])
    session.commit()
    assert list(mirrored) == ([] if hostile else [("450200", "J001-1")])


@pytest.mark.parametrize("named", [None, "alpha"])
def test_a_peer_cannot_claim_another_peers_archive_by_answering_first(session, beta, monkeypatch, named):
    """No mirror of 451200 yet: a citizen here adds one of its records (the basket asks every peer;
    the API may name the node a network search hit came from). "alpha" answers for any archive
    code; the archive is gamma's. Had alpha won the code, every request for 451200's records would
    send it the subject's ID number and proofs, and gamma's records could no longer be applied for."""
    from portal.federation import records

    for name in ("alpha", "gamma"):
        account = User(email=f"peer+{name}@federation.invalid", password_hash="!", real_name=name, role="peer", node=name)
        session.add(Peer(name=name, url=f"https://{name}.example", public_key="x" * 43, account=account))
    session.commit()

    def answer(peer, method, path, **_kwargs):
        facts = {"archive": {"code": "451200", "name": "河池市档案馆"}, "reference_code": "J001-1",
                 "category": "marriage", "title": "结婚登记", "subject_name": "覃*兰", "event_year": 1980}
        return SimpleNamespace(status_code=200 if peer.name in ("alpha", "gamma") else 404, json=lambda: facts)

    monkeypatch.setattr(records, "this_node", lambda: True)
    monkeypatch.setattr(records, "call", answer)
    nodes = {("451200", "J001-1"): named} if named else None
    assert records.mirror_records(session, [("451200", "J001-1")], nodes) == {}
    assert session.scalar(select(Archive).where(Archive.code == "451200")) is None


def test_a_peer_cannot_claim_another_peers_archive_as_the_issuing_archive_of_a_task(session, beta):
    """beta names gamma's 451200 (not mirrored here yet) as the issuing archive of a task: the
    mirror of 451200 becomes beta's, and every record of 451200 a citizen here applies for is then
    asked of beta, and its task (ID number, proofs) sent to beta."""
    body = _task(f"451200-{datetime.now().year}-000001")
    body["issuing"]["code"] = "451200"
    _send(session, beta, body)
    assert session.scalar(select(Archive.node).where(Archive.code == "451200")) is None


def test_a_peer_that_trickles_its_answer_does_not_hold_the_network_search(session, beta, monkeypatch):
    """requests' read timeout is per read: a peer sending a byte a second never times out, and
    each search asked of it held one of the search pool's threads (8): nine searches later every
    peer, however quick, was "unavailable"."""
    import socket
    import threading
    import time

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from flask import current_app

    from portal.catalog.indexing import get_index
    from portal.federation import client, search
    from search_index import SearchQuery

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle(conn):
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            while not stop.is_set():
                try:
                    conn.sendall(b" ")
                except OSError:
                    return
                time.sleep(0.1)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    beta.url = "http://127.0.0.1:%d" % listener.getsockname()[1]
    session.commit()
    me = SimpleNamespace(name="alpha")
    monkeypatch.setattr(search, "this_node", lambda: me)
    monkeypatch.setattr(client, "this_node", lambda: me)
    monkeypatch.setattr(client, "this_private_key", Ed25519PrivateKey.generate)
    monkeypatch.setitem(current_app.config, "FEDERATION_SEARCH_TIMEOUT", 0.5)
    try:
        for _ in range(3):
            page = search.network_search(session, get_index(), SearchQuery(q="结婚"))
            assert page.unavailable == ["beta"]
        time.sleep(1.5)  # longer than the search's timeout: no thread of the pool may still be reading
        busy = [t for t in threading.enumerate() if t.name.startswith("network-search") and _reading(t)]
        assert not busy, f"{len(busy)} search threads still reading from the peer"
    finally:
        stop.set()
        listener.close()


def _reading(thread) -> bool:
    import sys
    import traceback

    frame = sys._current_frames().get(thread.ident)
    return frame is not None and any("ask_peer" in line for line in traceback.format_stack(frame))


def test_a_peers_task_may_name_only_records_open_to_the_public(session, beta, factory):
    """The peer's citizens were shown only open records (GET /federation/v1/records): a task for a
    restricted or closed one answered apart from one that does not exist — whether it exists — and,
    once verified, sent its certified copy to the peer."""
    holding = session.scalar(select(Archive).where(Archive.code == "450100"))
    hidden = [factory.record(holding, access_level=level).reference_code for level in ("restricted", "closed")]
    for number, reference in enumerate([*hidden, "J001-0000-0000"], start=10):
        body = _task(f"450200-{datetime.now().year}-{number:06d}")
        body["request"]["kind"], body["records"] = "records", [{"archive_code": "450100", "reference_code": reference}]
        assert _send(session, beta, body)[0] == 404
    body["records"][0]["reference_code"] = factory.record(holding).reference_code  # an open one: taken
    assert _send(session, beta, body)[0] == 200
