"""The request state machine: who may take which action from which state, what a transition writes
(status, version, timeline, email), and that refused or concurrent attempts change nothing."""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.actions import ACTIONS as DECLARED, TRANSITIONS, act, allowed_actions
from portal.actions import table
from portal.core.errors import Conflict, NotAllowed, UnknownAction, ValidationFailed
from portal.db import db
from portal.mail.models import MailOutbox
from portal.requests.labels import REJECT_REASONS
from portal.review.models import VerificationTask
from portal.requests.models import STATUSES, RequestEvent, UtilizationRequest

ACTIONS = ("submit", "withdraw", "resubmit", "accept", "ask_supplement", "reject", "approve", "issue")
ROLES = ("applicant", "other_citizen", "issuing_clerk", "issuing_reviewer", "other_clerk", "other_reviewer",
         "admin", "anonymous")

# The expectation, written out from the architecture (NOT derived from portal.actions.TRANSITIONS):
# (role, action) -> the states from which it succeeds. A (role, action) pair listed here with a
# state not in its set is refused with Conflict (the role may, the state forbids); a pair not
# listed at all is refused with NotAllowed. `submit` creates a request: the applicant is its
# role, but no existing request is in a state that allows it (the dispatcher answers that it
# knows no such action on an existing request: UnknownAction, for every role).
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("applicant", "submit"): set(),
    ("applicant", "withdraw"): {"submitted", "in_review", "needs_supplement"},
    ("applicant", "resubmit"): {"needs_supplement"},
    ("issuing_clerk", "accept"): {"submitted"},
    ("issuing_clerk", "ask_supplement"): {"in_review"},
    ("issuing_reviewer", "ask_supplement"): {"in_review"},
    ("issuing_reviewer", "reject"): {"in_review"},
    ("issuing_reviewer", "approve"): {"in_review"},
    ("issuing_reviewer", "issue"): {"approved"},
}
TARGET = {"withdraw": "withdrawn", "resubmit": "in_review", "accept": "in_review",
          "ask_supplement": "needs_supplement", "reject": "rejected", "approve": "approved", "issue": "issued"}
EVENT_ROLE = {"applicant": "applicant", "issuing_clerk": "clerk", "issuing_reviewer": "reviewer"}
# What the applicant's email subject says after each action; resubmit sends none (they did it themselves).
MAIL_SUBJECT_SAYS = {"withdraw": "已撤回", "accept": "已受理", "ask_supplement": "需要补充材料",
                     "reject": "未获通过", "approve": "已审核通过", "issue": "档案证明已出具"}
NOTE = "请补充 1990 年的户口簿复印件"
REASON = "proof"  # a reason code for `reject` (portal.requests.labels.REJECT_REASONS)


def inputs(action: str, note: str = "", **more) -> dict:
    """The action's input: the note, and for `reject` a reason from the list too."""
    return {"note": note, **({"reason": REASON} if action == "reject" else {}), **more}


def timeline_note(action: str, note: str) -> str:
    """What the timeline says: a rejection carries its reason's label before the note."""
    return f"{REJECT_REASONS[REASON]}：{note}" if action == "reject" else note


@dataclass
class World:
    request_id: int
    number: str
    applicant: object
    actors: dict


@pytest.fixture
def archives(factory):
    return (factory.archive(code="451200", name="河池市档案馆"),
            factory.archive(code="450100", name="南宁市档案馆", region="南宁市"))


@pytest.fixture
def world(factory, archives) -> World:
    issuing, other = archives
    applicant = factory.user(name="王秀英", email="wang@example.cn")
    actors = {
        "applicant": applicant,
        "other_citizen": factory.user(name="王秀英"),
        "issuing_clerk": factory.user("clerk", archive=issuing),
        "issuing_reviewer": factory.user("reviewer", archive=issuing),
        "other_clerk": factory.user("clerk", archive=other),
        "other_reviewer": factory.user("reviewer", archive=other),
        "admin": factory.user("admin"),
        "anonymous": None,
    }
    request = factory.request(applicant, issuing=issuing)
    return World(request.id, request.number, applicant, actors)


@dataclass(frozen=True)
class Snapshot:
    status: str
    version: int
    events: int
    outbox: tuple[int, ...]


def snapshot(session, request_id: int) -> Snapshot:
    """What the database holds now (column queries, so nothing comes from the identity map)."""
    status, version = session.execute(select(UtilizationRequest.status, UtilizationRequest.version)
                                      .where(UtilizationRequest.id == request_id)).one()
    events = session.scalar(select(func.count()).select_from(RequestEvent).where(RequestEvent.request_id == request_id))
    outbox = tuple(session.scalars(select(MailOutbox.id).order_by(MailOutbox.id)))
    return Snapshot(status, version, events, outbox)


def put_in_state(session, request_id: int, state: str) -> UtilizationRequest:
    """Set the status directly (no event, no version bump), then load the request afresh. Tasks an
    earlier accept created are removed: here every case starts from the state alone (the tasks
    and the approval that waits for them are tested in tests/review)."""
    table = UtilizationRequest.__table__
    session.execute(table.update().where(table.c.id == request_id).values(status=state))
    session.execute(delete(VerificationTask).where(VerificationTask.request_id == request_id))
    session.commit()
    session.expire_all()
    return session.get(UtilizationRequest, request_id)


def latest_event(session, request_id: int) -> RequestEvent:
    return session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id)
                           .order_by(RequestEvent.id.desc()).limit(1)).one()


def new_mail(session, before: Snapshot) -> list[MailOutbox]:
    return list(session.scalars(select(MailOutbox).where(MailOutbox.id > max(before.outbox, default=0))
                                .order_by(MailOutbox.id)))


def expected_refusal(role: str, action: str) -> type[Exception]:
    if action == "submit":  # no existing request takes it: not an action on a request at all
        return UnknownAction
    return Conflict if (role, action) in ALLOWED else NotAllowed


def test_the_expectation_covers_every_state_and_role():
    assert set(STATUSES) == {"submitted", "in_review", "needs_supplement", "approved", "issued", "rejected",
                             "withdrawn"}
    assert set(TRANSITIONS) == set(ACTIONS)
    assert sum(len(states) for states in ALLOWED.values()) == 10


def test_every_action_in_every_state_by_every_role(session, world, subtests):
    """8 actions × 7 states × 8 people (7 roles and an anonymous visitor), one request put into each state."""
    for role in ROLES:
        actor = world.actors[role]
        for state in STATUSES:
            for action in ACTIONS:
                with subtests.test(msg=f"{role} {action} from {state}"):
                    request = put_in_state(session, world.request_id, state)
                    before = snapshot(session, world.request_id)
                    assert before.status == state
                    if state in ALLOWED.get((role, action), set()):
                        event = act(session, request, action, actor, inputs(action, NOTE)).event
                        after = snapshot(session, world.request_id)
                        assert after.status == TARGET[action] == request.status
                        assert after.version == before.version + 1 == request.version
                        assert after.events == before.events + 1
                        latest = latest_event(session, world.request_id)
                        assert latest.id == event.id
                        assert (latest.actor_id, latest.actor_role, latest.action, latest.from_status,
                                latest.to_status, latest.note) == (actor.id, EVENT_ROLE[role], action, state,
                                                                   TARGET[action], timeline_note(action, NOTE))
                        mails = new_mail(session, before)
                        if action == "resubmit":
                            assert mails == []
                        else:
                            assert [m.to_address for m in mails] == ["wang@example.cn"]
                            assert world.number in mails[0].subject
                            assert MAIL_SUBJECT_SAYS[action] in mails[0].subject
                            assert world.number in mails[0].body
                    else:
                        with pytest.raises(expected_refusal(role, action)):
                            act(session, request, action, actor, inputs(action, NOTE))
                        # Nothing pending that a later commit in the same request would write…
                        assert not session.new and not session.dirty and not session.deleted
                        assert request.status == state
                        session.commit()
                        # …and nothing written.
                        assert snapshot(session, world.request_id) == before


def test_allowed_actions_agree_with_the_expectation(session, world, subtests):
    for state in STATUSES:
        request = put_in_state(session, world.request_id, state)
        for role in ROLES:
            with subtests.test(msg=f"{role} in {state}"):
                expected = {action for (who, action), states in ALLOWED.items() if who == role and state in states}
                offered = allowed_actions(world.actors[role], request)
                assert len(offered) == len(set(offered))
                assert set(offered) == expected


def test_allowed_actions_literal_spot_checks(session, world):
    actors = world.actors
    assert allowed_actions(actors["applicant"], put_in_state(session, world.request_id, "needs_supplement")) \
        == ["withdraw", "resubmit"]
    assert sorted(allowed_actions(actors["issuing_reviewer"],
                                           put_in_state(session, world.request_id, "in_review"))) \
        == ["approve", "ask_supplement", "reject"]
    assert allowed_actions(actors["issuing_clerk"], put_in_state(session, world.request_id, "submitted")) \
        == ["accept"]
    assert allowed_actions(actors["admin"], put_in_state(session, world.request_id, "in_review")) == []


def test_staff_of_the_holding_archive_cannot_take_the_issuing_archives_steps(session, factory, archives):
    issuing, holding = archives
    applicant = factory.user(name="王秀英")
    record = factory.record(holding, subject_name="王秀英")
    request = factory.request(applicant, issuing=issuing, records=[record])
    clerk, reviewer = factory.user("clerk", archive=holding), factory.user("reviewer", archive=holding)
    for state in ("submitted", "in_review", "approved"):
        request = put_in_state(session, request.id, state)
        for actor in (clerk, reviewer):
            assert allowed_actions(actor, request) == []
            for action in ("accept", "ask_supplement", "approve", "reject", "issue"):
                with pytest.raises(NotAllowed):
                    act(session, request, action, actor, inputs(action, NOTE))
    assert snapshot(session, request.id).events == 1


@pytest.mark.parametrize(("action", "role"), [("ask_supplement", "issuing_clerk"),
                                              ("ask_supplement", "issuing_reviewer"),
                                              ("reject", "issuing_reviewer")])
@pytest.mark.parametrize("note", ["", "   \n\t "])
def test_a_required_note_missing_is_refused_and_changes_nothing(session, world, action, role, note):
    request = put_in_state(session, world.request_id, "in_review")
    before = snapshot(session, world.request_id)
    with pytest.raises(ValidationFailed) as info:
        act(session, request, action, world.actors[role], inputs(action, note))
    assert list(info.value.errors) == ["note"]
    assert str(info.value.errors["note"]) == "请填写说明"
    assert request.status == "in_review" and not session.dirty and not session.new
    session.commit()
    assert snapshot(session, world.request_id) == before


@pytest.mark.parametrize(("reason", "error"), [("", "请选择不予通过的原因"),
                                               ("rude", "未知的不予通过理由 rude (unknown reason rude)")])
def test_a_rejection_needs_a_reason_from_the_list(session, world, reason, error):
    request = put_in_state(session, world.request_id, "in_review")
    before = snapshot(session, world.request_id)
    with pytest.raises(ValidationFailed) as info:
        act(session, request, "reject", world.actors["issuing_reviewer"], {"reason": reason, "note": NOTE})
    assert {k: str(v) for k, v in info.value.errors.items()} == {"reason": error}
    assert request.status == "in_review" and not session.dirty and not session.new
    session.commit()
    assert snapshot(session, world.request_id) == before


def test_a_note_over_2000_characters_is_refused(session, world):
    request = put_in_state(session, world.request_id, "in_review")
    before = snapshot(session, world.request_id)
    with pytest.raises(ValidationFailed) as info:
        act(session, request, "reject", world.actors["issuing_reviewer"], inputs("reject", "长" * 2001))
    assert list(info.value.errors) == ["note"]
    session.commit()
    assert snapshot(session, world.request_id) == before
    # 2000 is fine, and kept whole.
    act(session, request, "reject", world.actors["issuing_reviewer"], inputs("reject", "长" * 2000))
    assert latest_event(session, world.request_id).note == timeline_note("reject", "长" * 2000)


def test_an_unknown_action_is_refused(session, world):
    request = put_in_state(session, world.request_id, "in_review")
    before = snapshot(session, world.request_id)
    with pytest.raises(UnknownAction):
        act(session, request, "delete", world.actors["admin"])
    assert snapshot(session, world.request_id) == before


def test_a_stale_expected_version_is_a_conflict_naming_the_latest_step(session, world):
    clerk = world.actors["issuing_clerk"]
    request = session.get(UtilizationRequest, world.request_id)
    assert request.version == 1
    accepted = act(session, request, "accept", clerk, {"version": 1}).event
    assert request.version == 2
    before = snapshot(session, world.request_id)

    # The reviewer's page was rendered at version 1; the request has moved on since.
    with pytest.raises(Conflict) as info:
        act(session, request, "ask_supplement", world.actors["issuing_reviewer"], {"note": NOTE, "version": 1})
    assert str(info.value) == "申请刚刚已有新的办理进展，请查看最新状态后再操作"
    assert info.value.latest.id == accepted.id and info.value.latest.actor_id == clerk.id
    session.commit()
    assert snapshot(session, world.request_id) == before

    # With the version the page shows now, it works.
    act(session, request, "ask_supplement", world.actors["issuing_reviewer"], {"note": NOTE, "version": 2})
    assert snapshot(session, world.request_id).status == "needs_supplement"


def test_a_conflict_by_state_says_what_the_state_is(session, world):
    request = put_in_state(session, world.request_id, "approved")
    with pytest.raises(Conflict) as info:
        act(session, request, "withdraw", world.actors["applicant"])
    assert str(info.value) == "申请当前状态为“已通过”，不能撤回申请"


def test_a_failure_at_commit_time_rolls_back_the_event_and_the_email(session, world, monkeypatch):
    request = session.get(UtilizationRequest, world.request_id)
    before = snapshot(session, world.request_id)

    def boom(_acting):
        raise RuntimeError("disk full")

    accept = DECLARED[("request", "accept")]
    monkeypatch.setitem(table.ACTIONS, ("request", "accept"), dataclasses.replace(accept, steps=(*accept.steps, boom)))
    with pytest.raises(RuntimeError, match="disk full"):
        act(session, request, "accept", world.actors["issuing_clerk"])
    assert snapshot(session, world.request_id) == before
    session.refresh(request)
    assert (request.status, request.version) == ("submitted", 1)


@pytest.mark.parametrize(("second_action", "second_role"), [("accept", "issuing_clerk"), ("withdraw", "applicant")])
def test_two_sessions_acting_on_the_same_request_one_wins(app, session, world, second_action, second_role):
    clerk = world.actors["issuing_clerk"]
    with Session(db.engine, expire_on_commit=False) as other:
        # Both pages were loaded before anyone acted.
        theirs = other.get(UtilizationRequest, world.request_id)
        mine = session.get(UtilizationRequest, world.request_id)
        assert theirs.status == mine.status == "submitted"

        first = act(session, mine, "accept", clerk).event
        before = snapshot(session, world.request_id)

        with pytest.raises(Conflict) as info:
            act(other, theirs, second_action, world.actors[second_role], {"note": ""})
        assert str(info.value) == "申请刚刚已有新的办理进展，请查看最新状态后再操作"
        assert info.value.latest.id == first.id and info.value.latest.action == "accept"
        # The loser's copy now shows the truth.
        assert (theirs.status, theirs.version) == ("in_review", 2)

    session.expire_all()
    assert snapshot(session, world.request_id) == before
    actions = session.scalars(select(RequestEvent.action).where(RequestEvent.request_id == world.request_id)
                              .order_by(RequestEvent.id)).all()
    assert actions == ["submit", "accept"]
    assert [m.subject for m in session.scalars(select(MailOutbox).order_by(MailOutbox.id))] == [
        f"您的档案利用申请 {world.number} 已提交", f"您的档案利用申请 {world.number} 已受理"]


def test_threads_racing_to_accept_the_same_request_exactly_one_wins(app, session, factory, world):
    """Several clerks of the issuing archive, each at their own desk (thread, app context, session and
    connection), press "accept" at the same moment. On PostgreSQL the losers wait for the winner's row
    lock and then find another version; SQLite serialises the writers."""
    clerk_ids = [world.actors["issuing_clerk"].id]
    issuing = session.get(UtilizationRequest, world.request_id).issuing_archive
    clerk_ids += [factory.user("clerk", archive=issuing).id for _ in range(5)]
    start = threading.Barrier(len(clerk_ids))
    outcomes: list[str] = []
    lock = threading.Lock()

    def desk(clerk_id: int) -> None:
        with app.app_context():
            own = db.session
            clerk = own.get(User, clerk_id)
            request = own.get(UtilizationRequest, world.request_id)
            start.wait(timeout=10)
            try:
                act(own, request, "accept", clerk)
                outcome = "accepted"
            except Conflict:
                outcome = "conflict"
            except Exception as exc:  # noqa: BLE001 — reported below
                outcome = repr(exc)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=desk, args=(clerk_id,)) for clerk_id in clerk_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["accepted"] + ["conflict"] * (len(clerk_ids) - 1)
    session.expire_all()
    after = snapshot(session, world.request_id)
    assert (after.status, after.version, after.events) == ("in_review", 2, 2)
    assert session.scalar(select(func.count()).select_from(RequestEvent)
                          .where(RequestEvent.action == "accept")) == 1
    subjects = session.scalars(select(MailOutbox.subject).order_by(MailOutbox.id)).all()
    assert subjects == [f"您的档案利用申请 {world.number} 已提交", f"您的档案利用申请 {world.number} 已受理"]


# ---- emails along the way ---------------------------------------------------------------------

def _mails(session) -> list[MailOutbox]:
    return list(session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


def test_the_applicant_hears_about_each_step_exactly_once(session, factory, world):
    actors, number = world.actors, world.number
    request = session.get(UtilizationRequest, world.request_id)
    submitted = _mails(session)
    assert [(m.to_address, m.subject) for m in submitted] == [("wang@example.cn", f"您的档案利用申请 {number} 已提交")]
    assert request.due_date.isoformat() in submitted[0].body

    steps = [
        ("accept", "issuing_clerk", "", f"您的档案利用申请 {number} 已受理"),
        ("ask_supplement", "issuing_reviewer", "请补充 1990 年的户口簿复印件", f"您的档案利用申请 {number} 需要补充材料"),
        ("resubmit", "applicant", "已上传户口簿复印件", None),
        ("approve", "issuing_reviewer", "", f"您的档案利用申请 {number} 已审核通过"),
        ("issue", "issuing_reviewer", "", f"您申请的档案证明已出具（{number}）"),
    ]
    for action, role, note, subject in steps:
        before = len(_mails(session))
        if action == "approve":
            factory.verify_all(request)  # the holding archive's answer: no email of its own
            assert len(_mails(session)) == before
        act(session, request, action, actors[role], inputs(action, note))
        new = _mails(session)[before:]
        if subject is None:
            assert new == [], action
        else:
            assert [(m.to_address, m.subject) for m in new] == [("wang@example.cn", subject)], action
            assert f"申请编号：{number}" in new[0].body
            assert f"/requests/{number}" in new[0].body
            if note:
                assert note in new[0].body
    assert len(_mails(session)) == 5


def test_a_rejection_email_gives_the_reason(session, world):
    request = put_in_state(session, world.request_id, "in_review")
    act(session, request, "reject", world.actors["issuing_reviewer"], inputs("reject", "经查，馆藏中没有 1985 年的该登记"))
    mail = _mails(session)[-1]
    assert mail.subject == f"您的档案利用申请 {world.number} 未获通过"
    assert "原因：\n\n证明材料不足或无效：经查，馆藏中没有 1985 年的该登记" in mail.body
    assert "0778-2222222" in mail.body  # whom to ask


def test_a_withdrawal_email_warns_if_it_was_not_them(session, world):
    request = session.get(UtilizationRequest, world.request_id)
    act(session, request, "withdraw", world.actors["applicant"])
    mail = _mails(session)[-1]
    assert (mail.to_address, mail.subject) == ("wang@example.cn", f"您的档案利用申请 {world.number} 已撤回")
    assert "如果不是您本人操作" in mail.body
