"""The staff side's permission table, checked against `can()` person by person, and internal notes
(written by the issuing archive's staff, never shown to citizens)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.actions import act
from portal.core.errors import NotAllowed, ValidationFailed
from portal.actions import allowed as can  # what pages ask: the policy, and the state for state changes
from portal.policy import PERMISSIONS
from portal.policy import roles_on as task_roles
from portal.review.models import RequestNote
from portal.review.service import notes_of
from tests.review.conftest import HOLDING, ISSUING, person

WHO = ("issuing_clerk", "issuing_reviewer", "holding_clerk", "holding_reviewer", "unrelated_clerk", "admin",
       "applicant", "other_citizen", "anonymous", "anonymous_session")

# Written out from the issue, NOT derived from PERMISSIONS. One column per person in WHO's order;
# Y = allowed. "holding" is the archive holding the task's records; "unrelated" has nothing to do
# with the request. The request is in review, issued by the issuing archive.
EXPECTED = {
    #                          iss.clerk iss.rev hold.clerk hold.rev unrel.clerk admin applicant other anon anon-session
    ("request", "claim"):     "Y         Y       .          .        .           .     .         .     .    .",
    ("request", "release"):   "Y         Y       .          .        .           Y     .         .     .    .",
    ("request", "reassign"):  ".         .       .          .        .           Y     .         .     .    .",
    ("request", "note"):      "Y         Y       .          .        .           .     .         .     .    .",
    ("request", "revoke_certificate"):
                              ".         Y       .          .        .           .     .         .     .    .",
    ("task", "verify"):       ".         .       Y          .        .           .     .         .     .    .",
    ("task", "not_found"):    ".         .       Y          .        .           .     .         .     .    .",
    ("task", "claim"):        ".         .       Y          .        .           .     .         .     .    .",
    ("task", "release"):      ".         .       Y          .        .           Y     .         .     .    .",
    ("task", "reassign"):     ".         .       .          .        .           Y     .         .     .    .",
}


def expected(kind: str, action: str) -> dict[str, bool]:
    marks = EXPECTED[(kind, action)].split()
    assert len(marks) == len(WHO) and set(marks) <= {"Y", "."}
    return dict(zip(WHO, (m == "Y" for m in marks), strict=True))


@pytest.fixture
def request_(cross):
    return cross()


@pytest.fixture
def task(request_):
    [found] = [t for t in request_.tasks if t.holding_archive.code == HOLDING]
    return found


def test_the_table_names_every_entry_of_the_code():
    assert set(EXPECTED) == set(PERMISSIONS)


@pytest.mark.parametrize(("kind", "action"), sorted(EXPECTED))
def test_can_agrees_with_the_table(session, people, request_, task, kind, action, subtests):
    obj = request_ if kind == "request" else task
    for who, allowed in expected(kind, action).items():
        with subtests.test(msg=f"{who} {kind} {action}"):
            assert can(person(people, who), action, obj) is allowed


def test_the_issuing_archives_own_task_is_its_clerks(session, people, request_):
    [own] = [t for t in request_.tasks if t.holding_archive.code == ISSUING]
    assert can(people["issuing_clerk"], "verify", own) and can(people["issuing_clerk"], "claim", own)
    assert not can(people["issuing_reviewer"], "verify", own)
    assert not can(people["holding_clerk"], "verify", own)


def test_task_roles(session, people, task):
    assert task_roles(people["holding_clerk"], task) == {"clerk"}
    assert task_roles(people["holding_reviewer"], task) == {"reviewer"}
    assert task_roles(people["admin"], task) == {"admin"}
    for who in ("issuing_clerk", "unrelated_clerk", "applicant", "anonymous", "anonymous_session"):
        assert task_roles(person(people, who), task) == set()


def test_workflow_actions_need_the_role_and_the_state(session, people, cross):
    submitted, in_review = cross("submitted"), cross("in_review")
    assert can(people["issuing_clerk"], "accept", submitted)
    assert not can(people["issuing_clerk"], "accept", in_review)  # the state forbids it
    assert not can(people["issuing_reviewer"], "accept", submitted)
    assert not can(people["holding_clerk"], "accept", submitted)
    assert can(people["issuing_reviewer"], "approve", in_review)
    assert not can(people["issuing_clerk"], "approve", in_review)
    assert not can(people["admin"], "approve", in_review)
    assert can(people["applicant"], "withdraw", in_review)
    assert not can(people["other_citizen"], "withdraw", in_review)


def test_unknown_actions_and_objects_are_refused(session, people, request_, task):
    for who in WHO:
        viewer = person(people, who)
        assert not can(viewer, "delete", request_)
        assert not can(viewer, "approve", task)
        assert not can(viewer, "claim", object())
        assert not can(viewer, "claim", None)


# ---- internal notes -------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["issuing_clerk", "issuing_reviewer"])
def test_the_issuing_archives_staff_write_notes(session, people, request_, who):
    note = act(session, request_, "note", people[who], {"text": "  申请人电话已核对 "}).result
    session.expire_all()
    stored = session.get(RequestNote, note.id)
    assert (stored.request_id, stored.author_id, stored.text) == (request_.id, people[who].id, "申请人电话已核对")
    assert stored.at is not None and stored.author.real_name == people[who].real_name


@pytest.mark.parametrize("who", ["holding_clerk", "holding_reviewer", "unrelated_clerk", "admin", "applicant",
                                 "other_citizen", "anonymous", "anonymous_session"])
def test_no_one_else_writes_notes(session, people, request_, who):
    with pytest.raises(NotAllowed):
        act(session, request_, "note", person(people, who), {"text": "备注"})
    assert session.scalars(select(RequestNote)).all() == []


@pytest.mark.parametrize(("text", "error"), [("", "请填写备注内容"), (" \n ", "请填写备注内容"),
                                             ("字" * 2001, "备注不能超过 2000 字")])
def test_a_note_must_say_something_short(session, people, request_, text, error):
    with pytest.raises(ValidationFailed) as info:
        act(session, request_, "note", people["issuing_clerk"], {"text": text})
    assert {k: str(v) for k, v in info.value.errors.items()} == {"text": error}
    assert session.scalars(select(RequestNote)).all() == []


@pytest.fixture
def noted(session, people, request_):
    act(session, request_, "note", people["issuing_clerk"], {"text": "第一条"})
    act(session, request_, "note", people["issuing_reviewer"], {"text": "第二条"})
    return request_


@pytest.mark.parametrize("who", ["issuing_clerk", "issuing_reviewer", "holding_clerk", "holding_reviewer", "admin"])
def test_staff_involved_read_the_notes_in_order(session, people, noted, who):
    assert [n.text for n in notes_of(session, people[who], noted)] == ["第一条", "第二条"]


@pytest.mark.parametrize("who", ["applicant", "other_citizen", "unrelated_clerk", "unrelated_reviewer", "anonymous",
                                 "anonymous_session"])
def test_notes_are_never_shown_to_citizens_or_uninvolved_staff(session, people, noted, who):
    assert notes_of(session, person(people, who), noted) == []


def test_notes_belong_to_their_request(session, people, noted, cross):
    other = cross()
    assert notes_of(session, people["issuing_clerk"], other) == []
