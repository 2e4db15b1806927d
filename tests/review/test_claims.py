"""Claims ("I'm handling this") on requests and tasks: claim, release, reassign, as the permission
table says, never taking over someone else's claim silently, each step in the audit log."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.actions import act
from portal.audit.models import AuditLog
from portal.core.errors import Conflict, NotAllowed, ValidationFailed
from portal.db import db
from portal.requests.models import UtilizationRequest
from portal.review.models import VerificationTask
from tests.review.conftest import HOLDING, person


def audit(session) -> list[tuple]:
    session.expire_all()
    return [(e.action, e.actor_id, e.actor_role, e.object_type, e.object_id, e.ip, e.details)
            for e in session.scalars(select(AuditLog).where(AuditLog.action.in_(("claim", "release", "reassign")))
                                     .order_by(AuditLog.id))]


def holder(session, obj) -> int | None:
    model = type(obj)
    return session.scalar(select(model.claimed_by_id).where(model.id == obj.id))


@pytest.fixture
def request_(cross):
    return cross()


@pytest.fixture
def task(session, request_) -> VerificationTask:
    [found] = [t for t in request_.tasks if t.holding_archive.code == HOLDING]
    return found


# ---- requests -------------------------------------------------------------------------------------

def test_a_clerk_claims_and_releases_a_request(session, people, request_):
    clerk = people["issuing_clerk"]
    act(session, request_, "claim", clerk, ip="10.0.0.8")
    assert holder(session, request_) == clerk.id
    assert request_.claimed_by.real_name == "周明" and request_.claimed_at is not None
    act(session, request_, "release", clerk, ip="10.0.0.8")
    assert holder(session, request_) is None
    session.expire_all()
    assert session.get(UtilizationRequest, request_.id).claimed_at is None
    assert audit(session) == [
        ("claim", clerk.id, "clerk", "request", request_.number, "10.0.0.8", {"to": clerk.id}),
        ("release", clerk.id, "clerk", "request", request_.number, "10.0.0.8", {"to": None}),
    ]


def test_a_reviewer_claims_a_request_too(session, people, request_):
    act(session, request_, "claim", people["issuing_reviewer"])
    assert holder(session, request_) == people["issuing_reviewer"].id


def test_claiming_ones_own_claim_again_keeps_it(session, people, request_):
    clerk = people["issuing_clerk"]
    act(session, request_, "claim", clerk)
    act(session, request_, "claim", clerk)
    assert holder(session, request_) == clerk.id


def test_another_clerks_claim_is_not_taken_over(session, people, request_):
    act(session, request_, "claim", people["issuing_clerk"])
    before = audit(session)
    for who in ("issuing_clerk2", "issuing_reviewer"):
        with pytest.raises(Conflict) as info:
            act(session, request_, "claim", people[who])
        assert str(info.value) == "已由周明认领"
    assert holder(session, request_) == people["issuing_clerk"].id
    assert audit(session) == before


def test_only_the_holder_or_an_admin_releases(session, people, request_):
    act(session, request_, "claim", people["issuing_clerk"])
    before = audit(session)
    with pytest.raises(Conflict) as info:
        act(session, request_, "release", people["issuing_clerk2"])
    assert str(info.value) == "已由周明认领，只有本人或管理员可以释放"
    assert holder(session, request_) == people["issuing_clerk"].id
    assert audit(session) == before

    admin = people["admin"]
    act(session, request_, "release", admin)
    assert holder(session, request_) is None
    assert audit(session)[-1] == ("release", admin.id, "admin", "request", request_.number, "", {"to": None})


def test_an_admin_reassigns_to_staff_of_the_issuing_archive(session, people, request_):
    admin = people["admin"]
    act(session, request_, "claim", people["issuing_clerk"])
    act(session, request_, "reassign", admin, {"to": people["issuing_clerk2"]})
    assert holder(session, request_) == people["issuing_clerk2"].id
    assert audit(session)[-1] == ("reassign", admin.id, "admin", "request", request_.number, "",
                                  {"to": people["issuing_clerk2"].id})
    act(session, request_, "reassign", admin, {"to": people["issuing_reviewer"]})
    assert holder(session, request_) == people["issuing_reviewer"].id


@pytest.mark.parametrize("to", ["holding_clerk", "unrelated_clerk", "applicant", "admin"])
def test_reassigning_outside_the_issuing_archive_is_refused(session, people, request_, to):
    act(session, request_, "claim", people["issuing_clerk"])
    before = audit(session)
    with pytest.raises(ValidationFailed) as info:
        act(session, request_, "reassign", people["admin"], {"to": people[to]})
    assert {k: str(v) for k, v in info.value.errors.items()} == {"to": "只能指派给该档案馆的工作人员"}
    assert holder(session, request_) == people["issuing_clerk"].id
    assert audit(session) == before


def test_reassigning_to_a_deactivated_clerk_is_refused(session, people, request_):
    people["issuing_clerk2"].is_active_account = False
    session.commit()
    with pytest.raises(ValidationFailed):
        act(session, request_, "reassign", people["admin"], {"to": people["issuing_clerk2"]})
    assert holder(session, request_) is None


@pytest.mark.parametrize("who", ["issuing_clerk", "issuing_reviewer", "holding_clerk", "applicant"])
def test_only_admins_reassign(session, people, request_, who):
    with pytest.raises(NotAllowed):
        act(session, request_, "reassign", people[who], {"to": people["issuing_clerk2"]})
    assert holder(session, request_) is None
    assert audit(session) == []


@pytest.mark.parametrize("who", ["holding_clerk", "holding_reviewer", "unrelated_clerk", "admin", "applicant",
                                 "other_citizen", "anonymous", "anonymous_session"])
def test_who_may_not_claim_a_request(session, people, request_, who):
    with pytest.raises(NotAllowed):
        act(session, request_, "claim", person(people, who))
    assert holder(session, request_) is None
    assert audit(session) == []


def test_a_stale_expected_version_is_a_conflict(session, people, request_):
    version = request_.version
    with pytest.raises(Conflict):
        act(session, request_, "claim", people["issuing_clerk"], {"version": version - 1})
    act(session, request_, "claim", people["issuing_clerk"], {"version": version})
    assert holder(session, request_) == people["issuing_clerk"].id


def test_two_clerks_claiming_at_once_one_wins(app, session, people, request_):
    """Both pages were loaded before either pressed "claim"; the second finds the first's claim."""
    with Session(db.engine, expire_on_commit=False) as other:
        theirs = other.get(UtilizationRequest, request_.id)
        clerk2 = other.get(type(people["issuing_clerk2"]), people["issuing_clerk2"].id)
        act(session, request_, "claim", people["issuing_clerk"])
        with pytest.raises(Conflict) as info:
            act(other, theirs, "claim", clerk2)
        assert str(info.value) == "已由周明认领"
    assert holder(session, request_) == people["issuing_clerk"].id
    assert [entry[0] for entry in audit(session)] == ["claim"]


# ---- tasks ----------------------------------------------------------------------------------------

def test_a_holding_clerk_claims_and_releases_a_task(session, people, task):
    clerk = people["holding_clerk"]
    act(session, task, "claim", clerk, ip="10.0.0.9")
    assert holder(session, task) == clerk.id
    assert task.claimed_by.real_name == "郑强"
    with pytest.raises(Conflict) as info:
        act(session, task, "claim", people["holding_clerk2"])
    assert str(info.value) == "已由郑强认领"
    with pytest.raises(Conflict):
        act(session, task, "release", people["holding_clerk2"])
    act(session, task, "release", clerk)
    assert holder(session, task) is None
    assert audit(session) == [
        ("claim", clerk.id, "clerk", "task", task.public_id, "10.0.0.9", {"to": clerk.id}),
        ("release", clerk.id, "clerk", "task", task.public_id, "", {"to": None}),
    ]


@pytest.mark.parametrize("who", ["holding_reviewer", "issuing_clerk", "issuing_reviewer", "other_holding_clerk",
                                 "unrelated_clerk", "admin", "applicant", "anonymous", "anonymous_session"])
def test_who_may_not_claim_a_task(session, people, task, who):
    with pytest.raises(NotAllowed):
        act(session, task, "claim", person(people, who))
    assert holder(session, task) is None
    assert audit(session) == []


def test_an_admin_releases_and_reassigns_a_task(session, people, task):
    admin = people["admin"]
    act(session, task, "claim", people["holding_clerk"])
    act(session, task, "release", admin)
    assert holder(session, task) is None
    act(session, task, "reassign", admin, {"to": people["holding_clerk2"]})
    assert holder(session, task) == people["holding_clerk2"].id
    assert [e[0] for e in audit(session)] == ["claim", "release", "reassign"]
    assert audit(session)[-1] == ("reassign", admin.id, "admin", "task", task.public_id, "",
                                  {"to": people["holding_clerk2"].id})


@pytest.mark.parametrize("to", ["issuing_clerk", "other_holding_clerk", "holding_reviewer"])
def test_a_task_is_reassigned_only_to_a_clerk_of_its_holding_archive(session, people, task, to):
    """Reviewers do not verify (the permission table gives tasks to clerks): a task handed to one
    would sit with someone who may not answer it."""
    with pytest.raises(ValidationFailed):
        act(session, task, "reassign", people["admin"], {"to": people[to]})
    assert holder(session, task) is None
    assert audit(session) == []


def test_answering_a_task_clears_its_claim(session, people, task):
    act(session, task, "claim", people["holding_clerk"])
    act(session, task, "not_found", people["holding_clerk"], {"note": "未找到"})
    assert holder(session, task) is None


def test_claims_on_request_and_task_are_independent(session, people, request_, task):
    act(session, request_, "claim", people["issuing_clerk"])
    act(session, task, "claim", people["holding_clerk"])
    assert (holder(session, request_), holder(session, task)) == (people["issuing_clerk"].id,
                                                                   people["holding_clerk"].id)
    assert session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "claim")) == 2


def test_a_claim_shows_on_the_loaded_object_at_once(session, people, request_, task):
    """The page rendered after "claim" (same session) names the holder, and a second clerk working in
    that same session cannot take the claim over because a stale relationship says "nobody"."""
    assert request_.claimed_by is None and task.claimed_by is None  # loaded before anyone claimed
    act(session, request_, "claim", people["issuing_clerk"])
    assert request_.claimed_by.real_name == "周明"
    with pytest.raises(Conflict):
        act(session, request_, "claim", people["issuing_clerk2"])
    act(session, task, "claim", people["holding_clerk"])
    assert task.claimed_by.real_name == "郑强"
    act(session, task, "reassign", people["admin"], {"to": people["holding_clerk2"]})
    assert task.claimed_by.real_name == "钱多多"
    act(session, task, "not_found", people["holding_clerk2"], {"note": "未找到"})
    assert task.claimed_by is None and task.answered_by.real_name == "钱多多"


@pytest.mark.parametrize("status", ["issued", "rejected", "withdrawn"])
def test_a_finished_request_is_not_claimed_but_a_claim_on_it_can_be_released(session, people, cross, status):
    request = cross("in_review")
    act(session, request, "claim", people["issuing_clerk"])
    table = UtilizationRequest.__table__
    session.execute(table.update().where(table.c.id == request.id).values(status=status))
    session.commit()
    session.expire_all()
    request = session.get(UtilizationRequest, request.id)
    with pytest.raises(Conflict) as info:
        act(session, request, "claim", people["issuing_clerk2"])
    assert str(info.value) == "已经办结，无需认领"
    act(session, request, "release", people["issuing_clerk"])
    assert holder(session, request) is None


def test_an_answered_task_is_not_claimed(session, people, task):
    act(session, task, "not_found", people["holding_clerk"], {"note": "未找到"})
    with pytest.raises(Conflict) as info:
        act(session, task, "claim", people["holding_clerk2"])
    assert str(info.value) == "已经办结，无需认领"
    with pytest.raises(Conflict):
        act(session, task, "reassign", people["admin"], {"to": people["holding_clerk2"]})


def test_an_approved_request_waits_for_its_certificate_and_can_be_claimed(session, people, cross):
    request = cross("approved")
    act(session, request, "claim", people["issuing_reviewer"])
    assert holder(session, request) == people["issuing_reviewer"].id
