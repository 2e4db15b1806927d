"""撤销证明 on the staff page: a reason is required (422 next to the field), a reviewer of the
issuing archive revokes once (then 409), the citizen reads it on the timeline and by email;
clerks get 403, a request without a certificate 404."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.mail.models import MailOutbox
from tests.certificate_pages.conftest import (HTMX, action_url, audit_entries, field_error, form_actions,
                                              form_fields, post_form, post_multipart, request_url, section,
                                              sign_in, staff_url, text_of)

REASON = "出证时误用了他人的缴费记录，已重新核实"


def staff_page(client, req) -> str:
    response = client.get(staff_url(req))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def revoke_mails(session, serial: str) -> list[MailOutbox]:
    """The emails telling of the revocation (request numbers look like serials: match the wording too)."""
    session.expire_all()
    return [m for m in session.scalars(select(MailOutbox).order_by(MailOutbox.id))
            if f"证明 {serial} 已被撤销" in m.subject]


def test_an_empty_reason_is_refused_next_to_the_field_and_nothing_changes(client, session, people, issued):
    sign_in(client, people["issuing_reviewer"])
    response = post_form(client, staff_url(issued), action_url(issued, "revoke"), {"reason": "   "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "revoke-reason") == "请填写撤销原因：申请人会看到"
    assert 'aria-describedby="revoke-reason-error"' in html
    session.expire_all()
    assert issued.certificate.status == "valid" and issued.certificate.revoke_reason == ""
    assert revoke_mails(session, issued.certificate.serial) == []


def test_a_reason_over_500_characters_is_refused_and_what_was_typed_is_kept(client, session, people, issued):
    sign_in(client, people["issuing_reviewer"])
    long_reason = "误" * 501
    response = post_form(client, staff_url(issued), action_url(issued, "revoke"), {"reason": long_reason})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "500" in field_error(html, "revoke-reason")
    assert re.search(r'<textarea id="revoke-reason"[^>]*>' + long_reason + "</textarea>", html)
    session.expire_all()
    assert issued.certificate.status == "valid"


def test_revoking_with_a_reason_revokes_the_certificate_and_emails_the_applicant(client, session, people, issued):
    sign_in(client, people["issuing_reviewer"])
    response = post_form(client, staff_url(issued), action_url(issued, "revoke"), {"reason": REASON})
    assert response.status_code == 303 and response.headers["Location"] == staff_url(issued)
    session.expire_all()
    cert = issued.certificate
    assert (cert.status, cert.revoke_reason, cert.revoked_by_id) == ("revoked", REASON,
                                                                    people["issuing_reviewer"].id)
    assert cert.revoked_at is not None
    assert issued.status == "issued"  # the request keeps its state; the certificate is what changed
    mails = revoke_mails(session, cert.serial)
    assert len(mails) == 1
    assert mails[0].to_address == "wang@example.cn" and "撤销" in mails[0].subject
    assert REASON in mails[0].body and issued.number in mails[0].body
    assert [e.object_id for e in audit_entries(session, "certificate_revoked")] == [cert.serial]


def test_after_revoking_the_staff_page_shows_it_revoked_with_no_revoke_form(client, session, people, issued):
    sign_in(client, people["issuing_reviewer"])
    post_form(client, staff_url(issued), action_url(issued, "revoke"), {"reason": REASON})
    html = staff_page(client, issued)
    assert "证明已撤销" in html  # the flash message
    panel = text_of(section(html, 'class="certificate-panel"'))
    assert "已撤销" in panel and REASON in panel and "有效" not in panel
    assert action_url(issued, "revoke") not in form_actions(html)


def test_revoking_with_htmx_answers_with_the_refreshed_body(client, session, people, issued):
    sign_in(client, people["issuing_reviewer"])
    response = post_form(client, staff_url(issued), action_url(issued, "revoke"), {"reason": REASON},
                         headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith('<div id="staff-request"') and "已撤销" in html
    session.expire_all()
    assert issued.certificate.status == "revoked"


def test_the_citizen_sees_the_revocation_and_its_reason_on_the_timeline(client, second_client, people, issued):
    sign_in(client, people["issuing_reviewer"])
    assert post_form(client, staff_url(issued), action_url(issued, "revoke"),
                     {"reason": REASON}).status_code == 303
    sign_in(second_client, people["applicant"])
    html = second_client.get(request_url(issued)).get_data(as_text=True)
    timeline = html.split('class="timeline"', 1)[1].split("</ol>", 1)[0]
    newest = timeline.split("</li>", 1)[0]
    assert "<strong>撤销证明</strong>" in newest
    assert REASON in newest


def test_revoking_twice_answers_409(client, second_client, session, people, issued):
    sign_in(client, people["issuing_reviewer"])
    sign_in(second_client, people["issuing_reviewer2"])
    stale = form_fields(staff_page(second_client, issued), action_url(issued, "revoke"))
    assert post_form(client, staff_url(issued), action_url(issued, "revoke"), {"reason": REASON}).status_code == 303
    response = post_multipart(second_client, action_url(issued, "revoke"), {**stale, "reason": "另一个原因"})
    assert response.status_code == 409
    assert "这份证明已由吴芳撤销" in response.get_data(as_text=True)
    session.expire_all()
    assert issued.certificate.revoke_reason == REASON
    assert len(revoke_mails(session, issued.certificate.serial)) == 1


def test_a_clerk_posting_revoke_gets_403(client, session, people, issued):
    sign_in(client, people["issuing_clerk"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', staff_page(client, issued)).group(1)
    response = post_multipart(client, action_url(issued, "revoke"),
                              {"csrf_token": token, "version": str(issued.version), "reason": REASON})
    assert response.status_code == 403
    session.expire_all()
    assert issued.certificate.status == "valid"


def test_revoking_on_a_request_without_a_certificate_is_404(client, session, people, approved):
    req = approved()
    sign_in(client, people["issuing_reviewer"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', staff_page(client, req)).group(1)
    response = post_multipart(client, action_url(req, "revoke"),
                              {"csrf_token": token, "version": str(req.version), "reason": REASON})
    assert response.status_code == 404


def test_a_nul_character_in_the_reason_is_refused_not_a_server_error(client, session, people, issued):
    """PostgreSQL refuses NUL in text: the form is refused (400, for every web form), never a 500."""
    sign_in(client, people["issuing_reviewer"])
    response = post_form(client, staff_url(issued), action_url(issued, "revoke"), {"reason": "误发\x00证明"})
    assert response.status_code == 400 and "请求中含有无效字符" in response.get_data(as_text=True)
    session.expire_all()
    assert issued.certificate.status == "valid" and issued.certificate.revoke_reason == ""
