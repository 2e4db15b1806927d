"""The staff's steps through the pages: accept, ask for more, reject with a reason, verify or
report not found, approve once every task is answered, claims; conflicts between two staff
members; validation errors next to their fields; htmx answers with the tab counts out of band."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.requests.models import RequestEvent
from portal.actions import act
from tests.files import fake_pdf_bytes, pdf_bytes, png_bytes
from tests.helpers import field_error, logout, texts
from tests.review_pages.conftest import (action_url, counts, cross_request, form_actions, form_fields, post_form,
                                         post_multipart, sign_in, staff_url, task_of, task_url)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def req(factory, people, archive_a, archive_b):
    return cross_request(factory, people, archive_a, archive_b)


@pytest.fixture
def second_client(app):
    return app.test_client()


def events(session, req, action: str) -> int:
    return session.scalar(select(func.count()).select_from(RequestEvent)
                          .where(RequestEvent.request_id == req.id, RequestEvent.action == action))


def textarea(html: str, field_id: str) -> str:
    return re.search(rf'<textarea id="{field_id}"[^>]*>(.*?)</textarea>', html, re.S).group(1)


# ---- accepting and conflicts ----------------------------------------------------------------------

def test_accept_redirects_to_the_page_with_a_message(client, session, people, req):
    sign_in(client, people.issuing_clerk)
    response = post_form(client, staff_url(req), action_url(req, "accept"))
    assert response.status_code == 303
    assert response.headers["Location"] == staff_url(req)
    html = client.get(staff_url(req)).get_data(as_text=True)
    assert "已受理" in html and "flash-success" in html
    assert req.status == "in_review" and len(req.tasks) == 2


def test_two_clerks_accept_at_once_one_wins_the_other_is_told_who(client, second_client, session, factory,
                                                                   people, archive_a, req):
    other_clerk = factory.user("clerk", archive=archive_a, email="clerk2.a@example.cn", name="钱同事")
    sign_in(client, people.issuing_clerk)
    sign_in(second_client, other_clerk)
    first_page = client.get(staff_url(req)).get_data(as_text=True)
    second_page = second_client.get(staff_url(req)).get_data(as_text=True)

    first = post_multipart(client, action_url(req, "accept"), form_fields(first_page, action_url(req, "accept")))
    second = post_multipart(second_client, action_url(req, "accept"),
                            form_fields(second_page, action_url(req, "accept")))

    assert first.status_code == 303
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    conflict = html.split('class="flash flash-error conflict"', 1)[1].split("</div>", 1)[0]
    assert "申请刚刚已有新的办理进展" in conflict
    assert "已由李接待（查档接待员）于" in conflict and "受理" in conflict
    # the refreshed page: the new state, and no accept button any more
    assert '<span class="badge status-in_review">' in html
    assert action_url(req, "accept") not in form_actions(html)
    assert events(session, req, "accept") == 1
    assert texts(html, "ol.timeline strong").count("受理") == 1


def test_a_stale_htmx_step_gets_the_refreshed_body_as_409(client, second_client, factory, session, people,
                                                          archive_a, req):
    sign_in(client, people.issuing_clerk)
    sign_in(second_client, factory.user("clerk", archive=archive_a, email="clerk2.a@example.cn", name="钱同事"))
    stale = client.get(staff_url(req)).get_data(as_text=True)
    assert post_form(second_client, staff_url(req), action_url(req, "accept")).status_code == 303
    response = post_multipart(client, action_url(req, "accept"), form_fields(stale, action_url(req, "accept")),
                              headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 409  # base.html tells htmx to swap it
    assert html.startswith('<div id="staff-request"') and "<html" not in html
    assert "已由钱同事（查档接待员）于" in html
    assert events(session, req, "accept") == 1


def test_an_htmx_step_updates_the_tab_counts_out_of_band(client, people, req):
    sign_in(client, people.issuing_clerk)
    before = counts(client.get(staff_url(req)).get_data(as_text=True))
    assert before["to_accept"] == 1 and before["in_review"] == 0
    response = post_form(client, staff_url(req), action_url(req, "accept"), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    body, oob = html.split('<nav id="queue-counts"', 1)
    assert 'id="staff-request"' in body and "已受理" in body
    assert oob.split(">", 1)[0].strip().endswith('hx-swap-oob="true"')
    assert counts(html) == {**before, "to_accept": 0, "in_review": 1, "tasks": 1}


def test_steps_post_back_to_the_partial_with_htmx_and_work_without_it(client, people, req):
    sign_in(client, people.issuing_clerk)
    html = client.get(staff_url(req)).get_data(as_text=True)
    form = re.search(rf'<form method="post" action="{action_url(req, "accept")}"[^>]*>', html).group(0)
    assert f'hx-post="{action_url(req, "accept")}"' in form and 'hx-target="#staff-request"' in form
    assert 'name="version" value="1"' in html.split(action_url(req, "accept"), 1)[1].split("</form>", 1)[0]


# ---- asking for more, rejecting ---------------------------------------------------------------------

def test_asking_for_a_supplement_needs_a_note(client, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review")
    sign_in(client, people.issuing_clerk)
    response = post_form(client, staff_url(req), action_url(req, "ask_supplement"), {"note": ""})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "ask_supplement-note") == "请填写说明"
    assert req.status == "in_review"
    response = post_form(client, staff_url(req), action_url(req, "ask_supplement"), {"note": "请补充户口簿复印件"})
    assert response.status_code == 303 and req.status == "needs_supplement"
    logout(client)
    sign_in(client, people.applicant)
    assert "请补充户口簿复印件" in client.get(f"/requests/{req.number}").get_data(as_text=True)


def test_reject_needs_a_reason_and_keeps_what_was_typed(client, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review")
    sign_in(client, people.issuing_reviewer)
    response = post_form(client, staff_url(req), action_url(req, "reject"), {"reason": "", "note": "户口簿模糊"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "reject-reason") == "请选择不予通过的原因"
    assert field_error(html, "reject-note") is None
    assert textarea(html, "reject-note") == "户口簿模糊"
    assert textarea(html, "ask_supplement-note") == ""  # the other forms stay empty
    response = post_form(client, staff_url(req), action_url(req, "reject"), {"reason": "proof", "note": ""})
    assert field_error(response.get_data(as_text=True), "reject-note")
    assert '<option value="proof" selected>' in response.get_data(as_text=True)
    assert req.status == "in_review"


def test_the_citizen_sees_the_reason_of_a_rejection(client, factory, session, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review")
    sign_in(client, people.issuing_reviewer)
    response = post_form(client, staff_url(req), action_url(req, "reject"),
                         {"reason": "proof", "note": "亲属关系证明不清晰"})
    assert response.status_code == 303 and req.status == "rejected"
    assert req.events[-1].note == "证明材料不足或无效：亲属关系证明不清晰"
    logout(client)
    sign_in(client, people.applicant)
    assert "证明材料不足或无效：亲属关系证明不清晰" in client.get(f"/requests/{req.number}").get_data(as_text=True)


# ---- the holding archive's answers ---------------------------------------------------------------

@pytest.fixture
def in_review(factory, people, archive_a, archive_b):
    return cross_request(factory, people, archive_a, archive_b, status="in_review")


def test_verify_with_a_pdf_copy(client, session, people, archive_b, in_review):
    task = task_of(in_review, archive_b)
    sign_in(client, people.holding_clerk)
    response = post_form(client, staff_url(in_review), task_url(task, "verify"), {"note": "与原件核对无误"},
                         copy=(pdf_bytes(), "结婚登记审查处理表-核实件.pdf"))
    assert response.status_code == 303 and response.headers["Location"] == staff_url(in_review)
    assert task.status == "verified" and task.copy_file is not None
    html = client.get(staff_url(in_review)).get_data(as_text=True)
    assert "结婚登记审查处理表-核实件.pdf" in html and "与原件核对无误" in html
    assert task_url(task, "verify") not in form_actions(html)
    copy_url = f"/requests/{in_review.number}/files/{task.copy_file.public_id}"
    logout(client)
    sign_in(client, people.issuing_reviewer)  # the issuing archive sees the result and the attachment
    response = client.get(copy_url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    response.close()
    logout(client)
    sign_in(client, people.applicant)  # the citizen gets it with the certificate, not before
    assert client.get(copy_url).status_code == 404


def test_verify_accepts_a_png_copy(client, people, archive_b, in_review):
    task = task_of(in_review, archive_b)
    sign_in(client, people.holding_clerk)
    response = post_form(client, staff_url(in_review), task_url(task, "verify"), copy=(png_bytes(), "核实件.png"))
    assert response.status_code == 303 and task.status == "verified"


def test_verify_without_a_copy_keeps_the_note(client, people, archive_b, in_review):
    task = task_of(in_review, archive_b)
    sign_in(client, people.holding_clerk)
    response = post_form(client, staff_url(in_review), task_url(task, "verify"), {"note": "见卷内第 3 页"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请上传核实后的档案复制件" in field_error(html, "verify-copy")
    assert textarea(html, "verify-note") == "见卷内第 3 页"
    assert task.status == "open"


def test_a_fake_pdf_copy_is_refused_next_to_the_field(client, app, people, archive_b, in_review):
    task = task_of(in_review, archive_b)
    sign_in(client, people.holding_clerk)
    response = post_form(client, staff_url(in_review), task_url(task, "verify"), copy=(fake_pdf_bytes(), "核实件.pdf"))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "verify-copy")
    assert task.status == "open" and task.copy_file is None


def test_not_found_needs_a_note(client, people, archive_b, in_review):
    task = task_of(in_review, archive_b)
    sign_in(client, people.holding_clerk)
    response = post_form(client, staff_url(in_review), task_url(task, "not_found"), {"note": ""})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "not_found-note") == "请说明查找了哪些范围"
    response = post_form(client, staff_url(in_review), task_url(task, "not_found"),
                         {"note": "查阅 1980–1990 年婚姻登记全部案卷，未找到"})
    assert response.status_code == 303 and task.status == "not_found"


def test_two_holding_clerks_answer_at_once(client, second_client, factory, session, people, archive_b, in_review):
    task = task_of(in_review, archive_b)
    sign_in(client, people.holding_clerk)
    sign_in(second_client, factory.user("clerk", archive=archive_b, email="clerk2.b@example.cn", name="冯同事"))
    stale = second_client.get(staff_url(in_review)).get_data(as_text=True)
    assert post_form(client, staff_url(in_review), task_url(task, "verify"),
                     copy=(pdf_bytes(), "核实件.pdf")).status_code == 303
    response = post_multipart(second_client, task_url(task, "not_found"),
                              {**form_fields(stale, task_url(task, "not_found")), "note": "未找到"})
    assert response.status_code == 409
    assert "这项协办任务已由孙馆藏处理" in response.get_data(as_text=True)
    assert task.status == "verified"
    assert events(session, in_review, "verify") == 1 and events(session, in_review, "not_found") == 0


# ---- approving -----------------------------------------------------------------------------------

def test_approve_waits_for_every_task_then_works_once(client, factory, session, people, archive_a, archive_b,
                                                      in_review):
    sign_in(client, people.issuing_reviewer)
    response = post_multipart(client, action_url(in_review, "approve"),
                              {"csrf_token": form_fields(client.get(staff_url(in_review)).get_data(as_text=True),
                                                         action_url(in_review, "reject"))["csrf_token"],
                               "version": str(in_review.version)})
    assert response.status_code == 409
    assert "还在等待馆藏馆核实" in response.get_data(as_text=True)
    assert in_review.status == "in_review"
    assert in_review.number not in client.get("/staff/queue?tab=ready").get_data(as_text=True)

    factory.verify_all(in_review)
    assert in_review.number in client.get("/staff/queue?tab=ready").get_data(as_text=True)
    response = post_form(client, staff_url(in_review), action_url(in_review, "approve"))
    assert response.status_code == 303 and in_review.status == "approved"
    html = client.get(staff_url(in_review)).get_data(as_text=True)
    assert action_url(in_review, "approve") not in form_actions(html)
    assert events(session, in_review, "approve") == 1
    assert in_review.number in client.get("/staff/queue?tab=to_issue").get_data(as_text=True)


# ---- claims --------------------------------------------------------------------------------------

def test_a_request_claimed_by_someone_else_cannot_be_claimed(client, factory, session, people, archive_a, req):
    act(session, req, "claim", people.issuing_clerk)
    colleague = factory.user("clerk", archive=archive_a, email="clerk2.a@example.cn", name="钱同事")
    sign_in(client, colleague)
    html = client.get(staff_url(req)).get_data(as_text=True)
    assert action_url(req, "claim") not in form_actions(html)
    response = post_multipart(client, action_url(req, "claim"), {
        "csrf_token": form_fields(html, action_url(req, "note"))["csrf_token"], "version": str(req.version)})
    assert response.status_code == 409
    assert "已由李接待认领" in response.get_data(as_text=True)
    assert req.claimed_by_id == people.issuing_clerk.id


def test_claim_then_release(client, people, req):
    sign_in(client, people.issuing_clerk)
    assert post_form(client, staff_url(req), action_url(req, "claim")).status_code == 303
    assert req.claimed_by_id == people.issuing_clerk.id
    assert post_form(client, staff_url(req), action_url(req, "release")).status_code == 303
    assert req.claimed_by_id is None


def test_an_admin_reassigns_within_the_archive_only(client, people, req):
    sign_in(client, people.admin)
    html = client.get(staff_url(req)).get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)">', html.split('id="reassign-request-to"', 1)[1].split("</select>")[0])
    assert set(options) == {str(people.issuing_clerk.id), str(people.issuing_reviewer.id)}
    response = post_form(client, staff_url(req), action_url(req, "reassign"), {"to": str(people.holding_clerk.id)})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "reassign-request-to") == "只能指派给该档案馆的工作人员"
    response = post_form(client, staff_url(req), action_url(req, "reassign"), {"to": str(people.issuing_reviewer.id)})
    assert response.status_code == 303 and req.claimed_by_id == people.issuing_reviewer.id
    response = post_form(client, staff_url(req), action_url(req, "reassign"), {"to": ""})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "reassign-request-to") == "请选择工作人员"
