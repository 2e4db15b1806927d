"""The staff view of a request (/staff/requests/<number>): full identities (audited), proofs
inline, tasks, internal notes that never reach the citizen, and only the buttons each person may press."""
from __future__ import annotations

import re
from io import BytesIO

import pytest
from sqlalchemy import select

from portal.audit.models import AuditLog
from portal.requests.applying import SearchSpec, Upload
from tests.factories import make_id_number
from tests.files import pdf_bytes, png_bytes
from tests.helpers import count, field_error, logout, select_one, text
from tests.review_pages.conftest import (APPLICANT_ID, action_url, cross_request, form_actions, post_form, post_raw, sign_in,
                                         staff_url, task_of, task_url)

FATHER = "王大山"
FATHER_ID = make_id_number(region="451202", born="19300205", seq=11)
NOTE = "申请人来电：下周二到馆补交户口簿"


@pytest.fixture
def relative_request(factory, people, archive_a):
    """The applicant asks for her father's record, with an image and a PDF proof."""
    record = factory.record(archive_a, subject_name=FATHER, subject_id_number=FATHER_ID, title="学籍登记表")
    return factory.request(people.applicant, issuing=archive_a, records=[record], relation="relative",
                           subject_name=FATHER, subject_id_number=FATHER_ID,
                           uploads=[Upload("relationship_proof", "户口簿.png", BytesIO(png_bytes())),
                                    Upload("supplement", "出生证明.pdf", BytesIO(pdf_bytes()))])


def page(client, req) -> str:
    response = client.get(staff_url(req))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


# ---- identities, audited --------------------------------------------------------------------------

def test_staff_see_both_full_id_numbers_and_the_view_is_audited(client, session, people, relative_request):
    sign_in(client, people.issuing_clerk)
    html = page(client, relative_request)
    assert APPLICANT_ID in html and FATHER_ID in html
    assert people.applicant.email in html and people.applicant.real_name in html
    assert "查看行为" in html or "审计日志" in html
    entries = list(session.scalars(select(AuditLog).where(AuditLog.action == "view_personal_data")))
    assert [(e.actor_id, e.object_type, e.object_id) for e in entries] == [
        (people.issuing_clerk.id, "request", relative_request.number)]


def test_a_holding_archive_sees_the_subject_but_not_the_applicants_identity(client, factory, people, archive_a,
                                                                            archive_b):
    """The issuing archive checks who applied; the holding archive only needs whose record it is."""
    record = factory.record(archive_b, subject_name=FATHER, subject_id_number=FATHER_ID)
    req = factory.request(people.applicant, issuing=archive_a, records=[record], relation="relative",
                          subject_name=FATHER, subject_id_number=FATHER_ID, status="in_review",
                          uploads=[Upload("relationship_proof", "户口簿.png", BytesIO(png_bytes()))])
    sign_in(client, people.holding_clerk)
    html = page(client, req)
    assert FATHER_ID in html and people.applicant.real_name in html
    assert APPLICANT_ID not in html and people.applicant.email not in html


def test_the_applicants_own_page_keeps_the_id_numbers_masked(client, people, relative_request):
    sign_in(client, people.applicant)
    html = client.get(f"/requests/{relative_request.number}").get_data(as_text=True)
    assert FATHER_ID not in html


def test_proofs_are_shown_inline_images_and_pdf_links(client, people, relative_request):
    sign_in(client, people.issuing_reviewer)
    html = page(client, relative_request)
    image = next(f for f in relative_request.files if f.original_name == "户口簿.png")
    pdf = next(f for f in relative_request.files if f.original_name == "出生证明.pdf")
    assert f'<img src="/requests/{relative_request.number}/files/{image.public_id}"' in html
    assert f'<img src="/requests/{relative_request.number}/files/{pdf.public_id}"' not in html
    assert f'<a href="/requests/{relative_request.number}/files/{pdf.public_id}" target="_blank"' in html
    response = client.get(f"/requests/{relative_request.number}/files/{image.public_id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    response.close()


def test_records_tasks_and_timeline_are_shown(client, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review")
    sign_in(client, people.issuing_clerk)
    html = page(client, req)
    for item in req.items:
        assert item.record.reference_code in html and item.record.archive.name in html
    assert count(html, ".task.task-open") == 2
    timeline = text(select_one(html, "ol.timeline"))
    assert "受理" in timeline and "李接待" in timeline and "提交申请" in timeline


# ---- internal notes -------------------------------------------------------------------------------

def test_internal_notes_are_for_staff_only(client, app, people, relative_request):
    sign_in(client, people.issuing_clerk)
    response = post_form(client, staff_url(relative_request), action_url(relative_request, "note"), {"text": NOTE})
    assert response.status_code == 303
    assert NOTE in page(client, relative_request)
    logout(client)
    sign_in(client, people.applicant)
    citizen_page = client.get(f"/requests/{relative_request.number}").get_data(as_text=True)
    assert NOTE not in citizen_page and "内部备注" not in citizen_page


def test_an_empty_note_is_refused_next_to_the_field(client, people, relative_request):
    sign_in(client, people.issuing_clerk)
    response = post_form(client, staff_url(relative_request), action_url(relative_request, "note"), {"text": "  "})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "note-text") == "请填写备注内容"


def test_the_holding_archive_reads_the_notes_but_cannot_add_any(client, factory, session, people, archive_a,
                                                               archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review")
    from portal.actions import act
    act(session, req, "note", people.issuing_clerk, {"text": NOTE})
    sign_in(client, people.holding_clerk)
    html = page(client, req)
    assert NOTE in html
    assert action_url(req, "note") not in form_actions(html)


# ---- only the buttons one may press ---------------------------------------------------------------

def buttons(html: str) -> set[str]:
    return set(re.findall(r"<button[^>]*>([^<]+)</button>", html))


def steps(html: str, req) -> set[str]:
    """The request's steps the page offers, by the forms it renders."""
    prefix = f"/staff/requests/{req.number}/"
    return {url[len(prefix):] for url in form_actions(html) if url.startswith(prefix)}


def task_steps(html: str, task) -> set[str]:
    prefix = f"/staff/tasks/{task.public_id}/"
    return {url[len(prefix):] for url in form_actions(html) if url.startswith(prefix)}


def test_a_submitted_request_offers_accept_to_the_clerk_only(client, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b)
    sign_in(client, people.issuing_clerk)
    html = page(client, req)
    assert steps(html, req) == {"accept", "claim", "note"}
    assert "受理" in buttons(html) and not {"审核通过", "不予通过"} & buttons(html)
    logout(client)
    sign_in(client, people.issuing_reviewer)
    html = page(client, req)
    assert steps(html, req) == {"claim", "note"}
    assert "受理" not in buttons(html)


def test_in_review_with_open_tasks(client, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review")
    own_task, their_task = task_of(req, archive_a), task_of(req, archive_b)

    sign_in(client, people.issuing_clerk)
    html = page(client, req)
    assert steps(html, req) == {"ask_supplement", "claim", "note"}
    assert task_steps(html, own_task) == {"claim", "verify", "not_found"}  # A holds one record itself
    assert task_steps(html, their_task) == set()
    logout(client)

    sign_in(client, people.issuing_reviewer)
    html = page(client, req)
    assert steps(html, req) == {"ask_supplement", "reject", "claim", "note"}  # approve waits for the tasks
    assert "还在等待馆藏馆核实" in html and "南宁市档案馆" in html
    assert task_steps(html, own_task) == task_steps(html, their_task) == set()
    logout(client)

    sign_in(client, people.holding_clerk)
    html = page(client, req)
    assert steps(html, req) == set()
    assert task_steps(html, their_task) == {"claim", "verify", "not_found"}
    assert task_steps(html, own_task) == set()
    assert not {"受理", "审核通过", "不予通过", "要求补充材料"} & buttons(html)
    logout(client)

    sign_in(client, people.admin)
    html = page(client, req)
    assert steps(html, req) == {"reassign"}
    assert task_steps(html, their_task) == {"reassign"}


def test_approve_appears_only_when_every_task_is_answered(client, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review")
    factory.verify_all(req)
    sign_in(client, people.issuing_reviewer)
    html = page(client, req)
    assert steps(html, req) == {"approve", "ask_supplement", "reject", "claim", "note"}
    assert "审核通过" in buttons(html) and "还在等待馆藏馆核实" not in html
    logout(client)
    sign_in(client, people.issuing_clerk)
    html = page(client, req)
    assert steps(html, req) == {"ask_supplement", "claim", "note"}
    assert "审核通过" not in buttons(html)


def test_a_finished_request_offers_nothing_but_notes(client, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="rejected")
    sign_in(client, people.issuing_reviewer)
    html = page(client, req)
    assert steps(html, req) == {"note"}
    assert not any(task_steps(html, task) for task in req.tasks)


def test_a_claim_shows_who_and_offers_release_to_that_person_only(client, factory, session, people, archive_a,
                                                                  archive_b):
    req = cross_request(factory, people, archive_a, archive_b)
    sign_in(client, people.issuing_clerk)
    assert post_form(client, staff_url(req), action_url(req, "claim")).status_code == 303
    html = page(client, req)
    assert "办理人：<strong>李接待</strong>" in html
    assert {"release"} <= steps(html, req) and "claim" not in steps(html, req)
    logout(client)
    sign_in(client, people.issuing_reviewer)
    html = page(client, req)
    assert "李接待" in html and not {"claim", "release"} & steps(html, req)
    queue = client.get("/staff/queue?tab=to_accept").get_data(as_text=True)
    assert '<td data-label="认领人">李接待</td>' in queue


def test_unknown_requests_tasks_and_steps_are_404(client, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review")
    sign_in(client, people.issuing_clerk)
    assert client.get("/staff/requests/451200-2020-999999").status_code == 404
    assert post_raw(client, "/staff/tasks/no-such-task/verify", {"version": "1"}).status_code == 404
    assert post_raw(client, action_url(req, "publish"), {"version": str(req.version)}).status_code == 404
    assert post_raw(client, action_url(req, "issue"), {"version": str(req.version)}).status_code == 403  # reviewers'
    assert post_raw(client, action_url(req, "withdraw"), {"version": str(req.version)}).status_code == 404
    assert post_raw(client, task_url(task_of(req, archive_a), "approve"), {"version": "1"}).status_code == 404
    # a form without its version is a bad request, not a blind step
    assert post_raw(client, action_url(req, "ask_supplement"), {"note": "x"}).status_code == 400


def test_a_please_search_request_shows_what_to_look_for_and_where(client, factory, session, people, archive_a,
                                                                   archive_b):
    req = factory.request(people.applicant, issuing=archive_a, relation="self", status="in_review",
                          search=SearchSpec(category="marriage", year_from=1980, year_to=1985, place="金城江区",
                                            archives=["450100"]))
    sign_in(client, people.issuing_clerk)
    html = page(client, req)
    assert "请档案馆代为查找" in html and "婚姻登记" in html and "1980–1985" in html and "金城江区" in html
    logout(client)
    sign_in(client, people.holding_clerk)
    html = page(client, req)
    task = task_of(req, archive_b)
    assert "在本馆馆藏中查找" in html
    assert task_steps(html, task) == {"claim", "verify", "not_found"}
    queue = client.get("/staff/queue?tab=tasks").get_data(as_text=True)
    assert req.number in queue and "代为查找" in queue
