"""A request's own page (/requests/<number>): who may see it, what it shows (timeline, masked ID
number, the archive's question), the progress poll, the applicant's own steps (withdraw,
resubmit) with their refusals, and the proofs' downloads."""
from __future__ import annotations

import re
from io import BytesIO
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from portal.audit.models import AuditLog
from portal.core.masking import mask_id_number
from portal.actions import act
from portal.requests import service
from tests.factories import make_id_number
from tests.files import fake_pdf_bytes, pdf_bytes, png_bytes
from tests.helpers import count, csrf_token, field_error, logout, parse, select_all, select_one, text
from tests.request_pages.conftest import post_multipart, sign_in, stored_files, upload

SUBJECT_NAME = "王小明"
SUBJECT_ID = make_id_number(region="451202", born="19850610", seq=55)
PROOF_NAME = "户口簿（王小明）.pdf"
PROOF = pdf_bytes(text="hukou")
QUESTION = "请补充 1990 年的户口簿复印件"


@pytest.fixture
def req(factory, archive, citizen):
    """The citizen's request for their brother's record, with one proof."""
    record = factory.record(archive, title=f"{SUBJECT_NAME}学籍登记表", subject_name=SUBJECT_NAME,
                            subject_id_number=SUBJECT_ID, category="education")
    return factory.request(citizen, records=[record], relation="relative", subject_name=SUBJECT_NAME,
                           subject_id_number=SUBJECT_ID,
                           uploads=[service.Upload("relationship_proof", PROOF_NAME, BytesIO(PROOF))])


@pytest.fixture
def page_url(req) -> str:
    return f"/requests/{req.number}"


@pytest.fixture
def clerk(factory, archive):
    return factory.user("clerk", archive=archive, email="clerk@example.cn", name="李四")


@pytest.fixture
def reviewer(factory, archive):
    return factory.user("reviewer", archive=archive, email="reviewer@example.cn", name="赵五")


def ask_supplement(session, req, clerk) -> None:
    act(session, req, "accept", clerk)
    act(session, req, "ask_supplement", clerk, {"note": QUESTION})


def has_form(html: str, action: str) -> bool:
    return re.search(rf'<form[^>]*action="/requests/[^"]+/{action}"', html) is not None


def status_badge(html: str) -> str:
    panel = html.split('class="status-panel"', 1)[1]
    return re.search(r'<span class="badge status-[a-z_]+">([^<]+)</span>', panel).group(1)


def action_data(client, url: str, **data) -> dict:
    """The hidden fields of the page's action forms, as a browser would send them."""
    html = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    return {"csrf_token": csrf_token(client, url), "version": version, **data}


# ---- who sees what ------------------------------------------------------------------------------

def test_the_applicant_sees_the_page_with_timeline_and_masked_subject_id(signed_in, req, page_url):
    response = signed_in.get(page_url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert f"利用申请 {req.number}" in html
    assert status_badge(html) == "已提交"
    timeline = html.split('class="timeline"', 1)[1].split("</ol>", 1)[0]
    assert "提交申请" in timeline and "申请人" in timeline
    assert f"{SUBJECT_NAME}（{mask_id_number(SUBJECT_ID)}）" in html
    assert SUBJECT_ID not in html
    assert PROOF_NAME in html
    assert req.due_date.isoformat() in html
    assert has_form(html, "withdraw") and not has_form(html, "resubmit")
    # an open request's page polls for news
    assert f'hx-get="/requests/{req.number}/progress?version={req.version}"' in html


@pytest.mark.parametrize("method,suffix", [("get", ""), ("get", "/progress?version=1"), ("get", "/files/{file}"),
                                           ("post", "/withdraw"), ("post", "/resubmit")])
def test_another_citizen_gets_404_everywhere(client, factory, req, page_url, method, suffix):
    sign_in(client, factory.user(email="nosy@example.cn", name="王秀英"))
    url = page_url + suffix.format(file=req.files[0].public_id)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": csrf_token(client, "/me/records"), "version": req.version,
                                          "note": "撤回"})
    assert response.status_code == 404
    assert req.status == "submitted"


@pytest.mark.parametrize("suffix", ["", "/progress?version=1", "/files/{file}"])
def test_anonymous_visitors_are_sent_to_login(client, req, page_url, suffix):
    response = client.get(page_url + suffix.format(file=req.files[0].public_id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_clerk_of_an_unrelated_archive_gets_404(client, factory, other_archive, req, page_url):
    sign_in(client, factory.user("clerk", archive=other_archive))
    assert client.get(page_url).status_code == 404
    assert client.get(f"{page_url}/files/{req.files[0].public_id}").status_code == 404


def test_a_clerk_of_the_issuing_archive_sees_the_page_but_not_the_applicants_buttons(client, clerk, page_url):
    sign_in(client, clerk)
    response = client.get(page_url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert SUBJECT_ID not in html
    assert not has_form(html, "withdraw") and not has_form(html, "resubmit")
    forbidden = client.post(f"{page_url}/withdraw", data={"csrf_token": csrf_token(client, page_url), "version": 1})
    assert forbidden.status_code == 403


# ---- progress poll ------------------------------------------------------------------------------

def test_progress_answers_204_while_nothing_changed_and_asks_for_a_reload_when_it_did(
        session, signed_in, req, page_url, clerk):
    unchanged = signed_in.get(f"{page_url}/progress?version={req.version}", headers={"HX-Request": "true"})
    assert unchanged.status_code == 204
    assert "HX-Refresh" not in unchanged.headers

    seen = req.version
    act(session, req, "accept", clerk)
    changed = signed_in.get(f"{page_url}/progress?version={seen}", headers={"HX-Request": "true"})
    assert changed.status_code == 200
    assert changed.headers["HX-Refresh"] == "true"


# ---- withdraw -----------------------------------------------------------------------------------

def test_withdrawing_and_withdrawing_again(session, signed_in, req, page_url):
    data = action_data(signed_in, page_url, note="已在其他渠道办理")
    response = signed_in.post(f"{page_url}/withdraw", data=data)
    assert response.status_code == 303 and response.headers["Location"] == page_url
    html = signed_in.get(page_url).get_data(as_text=True)
    assert "申请已撤回。" in html
    assert status_badge(html) == "已撤回"
    assert "已在其他渠道办理" in html  # the note on the timeline
    assert not has_form(html, "withdraw")
    assert "/progress?" not in html  # a closed request is no longer polled

    # The same form again (double click, back button): a message, not an error page.
    again = signed_in.post(f"{page_url}/withdraw", data=data, follow_redirects=True)
    html = again.get_data(as_text=True)
    assert again.status_code == 200
    flash = re.search(r'<div class="flash flash-error" role="status">([^<]+)</div>', html)
    assert flash and ("已有新的办理进展" in flash.group(1) or "不能撤回" in flash.group(1))
    assert status_badge(html) == "已撤回"
    session.refresh(req)
    assert [e.action for e in req.events] == ["submit", "withdraw"]


def test_withdrawing_with_the_current_version_after_it_was_withdrawn_explains_the_state(
        session, signed_in, req, page_url):
    stale = action_data(signed_in, page_url)
    signed_in.post(f"{page_url}/withdraw", data=stale)
    session.refresh(req)
    html = signed_in.post(f"{page_url}/withdraw", data={**stale, "version": req.version},
                          follow_redirects=True).get_data(as_text=True)
    assert "申请当前状态为“已撤回”，不能撤回申请" in html


def test_no_withdraw_button_once_approved(session, factory, signed_in, req, page_url, clerk, reviewer):
    act(session, req, "accept", clerk)
    factory.verify_all(req)
    act(session, req, "approve", reviewer)
    html = signed_in.get(page_url).get_data(as_text=True)
    assert status_badge(html) == "已通过"
    assert not has_form(html, "withdraw") and not has_form(html, "resubmit")
    refused = signed_in.post(f"{page_url}/withdraw", data={"csrf_token": csrf_token(signed_in, page_url),
                                                          "version": req.version}, follow_redirects=True)
    assert refused.status_code == 200 and "不能撤回申请" in refused.get_data(as_text=True)
    session.refresh(req)
    assert req.status == "approved"


# ---- the archive asks for more ------------------------------------------------------------------

def test_the_archives_question_and_a_resubmit_form_are_shown(session, signed_in, req, page_url, clerk):
    ask_supplement(session, req, clerk)
    html = signed_in.get(page_url).get_data(as_text=True)
    assert status_badge(html) == "待补充材料"
    assert f'<strong class="asked">{QUESTION}</strong>' in html
    assert has_form(html, "resubmit")
    assert has_form(html, "withdraw")  # still possible before approval


def test_resubmitting_nothing_is_refused_with_a_message(session, signed_in, req, page_url, clerk):
    ask_supplement(session, req, clerk)
    response = post_multipart(signed_in, f"{page_url}/resubmit", action_data(signed_in, page_url, note="  "))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "note") == "请填写补充说明，或者上传补充材料"
    # At the resubmit form only: the withdraw form below has a note box of its own.
    assert len(parse(html).find_all(string=lambda s: "请填写补充说明，或者上传补充材料" in s)) == 1
    assert "请填写补充说明" in text(select_one(html, 'section[aria-labelledby="resubmit-h"]'))
    assert count(html, "#note") == 1 and count(html, "#withdraw-note") == 1
    session.refresh(req)
    assert req.status == "needs_supplement"


def test_a_too_long_withdraw_reason_is_named_at_the_withdraw_form(session, signed_in, req, page_url, clerk):
    ask_supplement(session, req, clerk)
    response = signed_in.post(f"{page_url}/withdraw", data=action_data(signed_in, page_url, note="不办了" * 700))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    withdraw_form = str(select_one(html, 'section[aria-labelledby="withdraw-h"]'))
    assert field_error(withdraw_form, "note") == "说明不能超过 2000 字"
    assert len(parse(html).find_all(string=lambda s: "说明不能超过 2000 字" in s)) == 1
    assert [t.get("id") for t in select_all(html, "textarea") if t.get_text().strip() == "不办了" * 700] == ["note"]
    assert ("不办了" * 700) in withdraw_form and count(html, "#resubmit-note") == 1
    session.refresh(req)
    assert req.status == "needs_supplement"


def test_resubmitting_a_broken_file_keeps_the_note_and_names_the_file(session, app, signed_in, req, page_url, clerk):
    ask_supplement(session, req, clerk)
    data = action_data(signed_in, page_url, note="已补充户口簿", files=upload(fake_pdf_bytes(), "户口簿.pdf"))
    response = post_multipart(signed_in, f"{page_url}/resubmit", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "files") == "“户口簿.pdf”已损坏或无法打开"
    # Kept in the resubmit form, not put into the withdraw form.
    assert [t.get("id") for t in select_all(html, "textarea") if t.get_text().strip() == "已补充户口簿"] == ["note"]
    assert select_one(html, 'section[aria-labelledby="resubmit-h"] textarea#note') is not None
    session.refresh(req)
    assert req.status == "needs_supplement" and len(req.files) == 1
    assert len(stored_files(app)) == 1


def test_resubmitting_a_png_puts_the_request_back_in_review_with_the_file_listed(
        session, app, signed_in, req, page_url, clerk):
    ask_supplement(session, req, clerk)
    data = action_data(signed_in, page_url, note="已补充 1990 年户口簿",
                       files=upload(png_bytes(), "户口簿1990.png"))
    response = post_multipart(signed_in, f"{page_url}/resubmit", data)
    assert response.status_code == 303
    html = signed_in.get(page_url).get_data(as_text=True)
    assert "补充材料已提交，档案馆将继续办理。" in html
    assert status_badge(html) == "审核中"
    assert "户口簿1990.png" in html and "其他材料" in html
    assert not has_form(html, "resubmit")
    session.refresh(req)
    assert req.status == "in_review"
    assert sorted(f.original_name for f in req.files) == sorted([PROOF_NAME, "户口簿1990.png"])
    assert len(stored_files(app)) == 2


def test_resubmitting_from_a_stale_page_changes_nothing(session, app, signed_in, req, page_url, clerk, reviewer):
    ask_supplement(session, req, clerk)
    stale = action_data(signed_in, page_url, note="补充说明", files=upload(png_bytes(), "补充.png"))
    # Meanwhile the applicant resubmitted in another tab, and the archive asked again.
    other_tab = action_data(signed_in, page_url, note="另一个标签页的说明")
    assert post_multipart(signed_in, f"{page_url}/resubmit", other_tab).status_code == 303
    act(session, req, "ask_supplement", reviewer, {"note": "还需要出生证明"})
    session.refresh(req)
    version = req.version

    response = post_multipart(signed_in, f"{page_url}/resubmit", stale, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<div class="flash flash-error" role="status">[^<]*已有新的办理进展', html)
    session.refresh(req)
    assert (req.status, req.version) == ("needs_supplement", version)
    assert "补充.png" not in [f.original_name for f in req.files]
    assert len(stored_files(app)) == 1


# ---- downloads ----------------------------------------------------------------------------------

def test_the_applicant_downloads_a_proof_privately_under_its_own_name(session, signed_in, req, page_url):
    proof = req.files[0]
    response = signed_in.get(f"{page_url}/files/{proof.public_id}")
    assert response.status_code == 200
    assert response.data == PROOF
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.mimetype == "application/pdf"
    assert PROOF_NAME in unquote(response.headers["Content-Disposition"])
    response.close()
    assert session.scalar(select(AuditLog).where(AuditLog.action == "download_file")) is None


def test_a_staff_download_is_written_to_the_audit_log(session, client, req, page_url, clerk):
    sign_in(client, clerk)
    proof = req.files[0]
    response = client.get(f"{page_url}/files/{proof.public_id}?download=1")
    assert response.status_code == 200 and response.data == PROOF
    assert response.headers["Content-Disposition"].startswith("attachment")
    response.close()
    session.expire_all()
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "download_file"))
    assert entry is not None
    assert (entry.actor_id, entry.object_type, entry.object_id) == (clerk.id, "request", req.number)
    assert entry.details["file"] == proof.public_id


def test_an_unknown_file_id_is_404(signed_in, page_url):
    assert signed_in.get(f"{page_url}/files/nosuchfile").status_code == 404


def test_a_signed_out_applicant_is_asked_to_log_in_again(signed_in, page_url):
    logout(signed_in)
    response = signed_in.get(page_url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_staff_view_of_the_request_page_is_audited_and_the_applicants_is_not(session, client, signed_in, req,
                                                                                page_url, clerk):
    assert signed_in.get(page_url).status_code == 200
    session.expire_all()
    assert session.scalar(select(AuditLog).where(AuditLog.action == "view_personal_data")) is None
    sign_in(client, clerk)
    assert client.get(page_url).status_code == 200
    session.expire_all()
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "view_personal_data"))
    assert (entry.actor_id, entry.object_type, entry.object_id) == (clerk.id, "request", req.number)
