"""The rules of requests across nodes, in one process: what a peer node's account may do here (the
"peer" role: answer the tasks of its own node's archives, and nothing else), and that the mirrors of
other nodes' archives and records stay out of this node's own lists and pages."""
from __future__ import annotations

import pytest

from portal import policy
from portal.accounts.models import User
from portal.archives.models import Archive
from portal.archives.service import list_archives
from portal.catalog.models import Record
from portal.catalog.service import RecordNotFound, find_records, records_of, view_record
from portal.requests.models import UtilizationRequest
from portal.review.models import VerificationTask


def _peer(session, node: str, active: bool = True) -> User:
    account = User(email=f"peer+{node}@federation.invalid", password_hash="!unusable", real_name=node, role="peer",
                   node=node, is_active_account=active)
    session.add(account)
    session.commit()
    return account


@pytest.fixture
def world(session, factory):
    local = factory.archive("450100", "南宁市档案馆", "南宁市")
    beta = Archive(code="450200", name="柳州市档案馆", region="柳州市", node="beta")
    gamma = Archive(code="451200", name="河池市档案馆", region="河池市", node="gamma")
    session.add_all([beta, gamma])
    session.commit()
    return local, beta, gamma


def test_a_peer_answers_only_the_tasks_of_its_own_nodes_archives(session, world):
    local, beta, gamma = world
    peer = _peer(session, "beta")
    theirs, other_node, ours = (VerificationTask(holding_archive=a, status="open") for a in (beta, gamma, local))
    assert policy.can(peer, "verify", theirs) and policy.can(peer, "not_found", theirs)
    for action in ("claim", "release", "reassign"):
        assert not policy.can(peer, action, theirs), action
    for task in (other_node, ours):
        assert not policy.can(peer, "verify", task) and not policy.can(peer, "not_found", task)
    disabled = _peer(session, "gamma", active=False)  # a peer removed: its account is disabled
    assert not policy.can(disabled, "verify", other_node)


def test_a_peer_holds_no_staff_role_on_requests_it_did_not_send(session, world, factory):
    local, _beta, _gamma = world
    peer = _peer(session, "beta")
    request = UtilizationRequest(number="450100-2026-000001", applicant=factory.user(), issuing_archive=local,
                                 status="submitted")
    for action in ("accept", "approve", "issue", "reject", "withdraw", "note", "claim"):
        assert not policy.can(peer, action, request), action
    sent_by_peer = UtilizationRequest(number="450100-2026-000002", applicant_id=peer.id, issuing_archive=local,
                                      status="in_review")
    assert policy.can(peer, "withdraw", sent_by_peer)  # task.cancel: the peer withdraws what it sent


def test_mirrors_stay_out_of_this_nodes_lists_and_pages(session, world, factory, app):
    local, beta, _gamma = world
    citizen = factory.user(name="王秀英")
    mirror = Record(archive=beta, reference_code="J001-1980-0001", category="marriage", title="王*英结婚登记",
                    subject_name="王*英", event_year=1980, access_level="open",
                    subject_id_hash=citizen.id_number_hash)  # never so for a real mirror: the rule is checked
    session.add(mirror)
    session.commit()
    assert [a.code for a in list_archives(session)] == ["450100"]
    assert find_records(session, [("450200", "J001-1980-0001")])  # the request machinery finds it …
    with pytest.raises(RecordNotFound):  # … but it has no page here
        view_record(session, None, "450200", "J001-1980-0001")
    assert records_of(session, citizen) == []
    from portal.catalog.indexing import _all_documents

    assert [d["reference_code"] for d in _all_documents(session, 100)] == []
