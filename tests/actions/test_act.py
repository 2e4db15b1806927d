"""The one dispatcher: every adapter (web form, API, CLI) reaches the same rule through act(), and
act() refuses in one order, changes nothing when it refuses, and issues only with a certificate."""
from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import func, select

from portal.actions import ACTIONS, act, allowed, allowed_actions, spec
from portal.actions.cli import act_command
from portal.certificates.models import Certificate
from portal.core.errors import Conflict, NotAllowed, UnknownAction, ValidationFailed
from portal.requests.models import RequestEvent, UtilizationRequest
from tests.helpers import login, submit


@pytest.fixture
def archive(factory):
    return factory.archive(code="451200", name="河池市档案馆")


@pytest.fixture
def reviewer(factory, archive):
    return factory.user("reviewer", archive=archive, email="reviewer@example.cn", name="周审核")


@pytest.fixture
def in_review(factory, archive):
    return factory.request(factory.user(name="王秀英", email="wang@example.cn"), issuing=archive, status="in_review")


def _events(session, request) -> int:
    return session.scalar(select(func.count()).select_from(RequestEvent).where(RequestEvent.request_id == request.id))


def test_submit_is_declared_but_no_request_takes_it_again(session, in_review):
    assert ACTIONS[("request", "submit")].from_states == ()
    with pytest.raises(UnknownAction):
        act(session, in_review, "submit", in_review.applicant)
    with pytest.raises(UnknownAction):
        spec(in_review, "delete")


def test_refusals_come_in_order_and_change_nothing(session, factory, archive, in_review, reviewer):
    clerk = factory.staff(archive, "clerk")
    before = (in_review.status, in_review.version, _events(session, in_review))
    with pytest.raises(NotAllowed):  # the clerk may not reject, whatever the inputs say
        act(session, in_review, "reject", clerk, {"version": "not a number"})
    with pytest.raises(ValidationFailed) as typed:  # inputs are typed before anything else is read
        act(session, in_review, "reject", reviewer, {"version": "not a number"})
    assert list(typed.value.errors) == ["version"]
    with pytest.raises(ValidationFailed) as extra:
        act(session, in_review, "reject", reviewer, {"reason": "proof", "note": "x", "colour": "red"})
    assert list(extra.value.errors) == ["colour"]
    with pytest.raises(Conflict):  # a version the page did not show
        act(session, in_review, "reject", reviewer, {"reason": "proof", "note": "x", "version": 99})
    with pytest.raises(ValidationFailed) as rules:
        act(session, in_review, "reject", reviewer, {"note": ""})
    assert {k: str(v) for k, v in rules.value.errors.items()} == {"note": "请填写说明", "reason": "请选择不予通过的原因"}
    session.expire_all()
    assert (in_review.status, in_review.version, _events(session, in_review)) == before


def test_a_reject_keeps_the_reason_and_the_note_together(session, in_review, reviewer):
    acting = act(session, in_review, "reject", reviewer, {"reason": "proof", "note": "户口簿模糊", "version": 2})
    assert in_review.status == "rejected" and in_review.version == 3
    assert acting.event.note == "证明材料不足或无效：户口簿模糊" and acting.event.actor_role == "reviewer"


def test_issue_without_a_certificate_does_not_happen(session, factory, archive, reviewer, monkeypatch):
    approved = factory.request(factory.user(name="王秀英"), issuing=archive, status="approved")

    def broken(acting):
        raise OSError("disk full")

    declared = ACTIONS[("request", "issue")]
    monkeypatch.setitem(ACTIONS, ("request", "issue"), dataclasses.replace(declared, steps=(broken,)))
    with pytest.raises(OSError):
        act(session, approved, "issue", reviewer)
    session.expire_all()
    assert approved.status == "approved" and session.scalar(select(func.count()).select_from(Certificate)) == 0
    monkeypatch.undo()
    acting = act(session, approved, "issue", reviewer)
    assert approved.status == "issued" and acting.result is approved.certificate and acting.result.sha256


def test_allowed_follows_the_policy_and_the_state(session, factory, archive, in_review, reviewer):
    clerk = factory.staff(archive, "clerk")
    assert sorted(allowed_actions(reviewer, in_review)) == ["approve", "ask_supplement", "reject"]
    assert allowed_actions(clerk, in_review) == ["ask_supplement"]
    assert allowed(in_review.applicant, "withdraw", in_review) and not allowed(in_review.applicant, "note", in_review)
    assert not allowed(reviewer, "submit", in_review)


def test_the_same_reject_rule_on_the_page_and_in_the_api(client, session, in_review, reviewer):
    """Web and API reach one rule: a reason is required in both, with the same message."""
    login(client, reviewer.email, "Dangan2024")
    page = submit(client, f"/staff/requests/{in_review.number}/reject", {"note": "户口簿模糊", "version": "2"},
                  form_url=f"/staff/requests/{in_review.number}")
    assert page.status_code == 422 and "请选择不予通过的原因" in page.get_data(as_text=True)
    token = client.post("/api/v1/tokens", json={"email": reviewer.email, "password": "Dangan2024"}).get_json()["token"]
    answer = client.post(f"/api/v1/requests/{in_review.number}/actions/reject", data=json.dumps({"note": "户口簿模糊"}),
                         content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and answer.get_json()["errors"] == {"reason": "请选择不予通过的原因"}
    session.expire_all()
    assert session.get(UtilizationRequest, in_review.id).status == "in_review"


def test_the_cli_takes_the_same_path(app, session, factory, archive, in_review, reviewer):
    runner = app.test_cli_runner()
    refused = runner.invoke(act_command, [in_review.number, "approve", "--as", in_review.applicant.email])
    assert refused.exit_code == 2 and "不能" in refused.output
    missing = runner.invoke(act_command, [in_review.number, "reject", "--as", reviewer.email, "--note", "x"])
    assert missing.exit_code == 2 and "reason: 请选择不予通过的原因" in missing.output
    stale = runner.invoke(act_command, [in_review.number, "ask_supplement", "--as", reviewer.email,
                                        "--note", "请补充", "--version", "1"])
    assert stale.exit_code == 2 and "请查看最新状态" in stale.output
    done = runner.invoke(act_command, [in_review.number, "reject", "--as", reviewer.email, "--reason", "other",
                                       "--note", "申请人已在窗口办结"])
    assert done.exit_code == 0, done.output
    assert f"{in_review.number}: rejected" in done.output
    nobody = runner.invoke(act_command, [in_review.number, "withdraw", "--as", "nobody@example.cn"])
    assert nobody.exit_code == 2 and "没有这个账号" in nobody.output
