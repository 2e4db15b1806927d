"""出具证明 on the staff page: only a reviewer of the issuing archive gets the form; posting it
(plain or htmx) issues and the page shows the certificate; stale pages and a missing signing key
issue nothing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.certificate_pages.conftest import (HTMX, action_url, certificates_in_db, field_error, form_actions,
                                              form_fields, post_form, post_multipart, section, sign_in, staff_url,
                                              text_of)


def staff_page(client, req) -> str:
    response = client.get(staff_url(req))
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ---- who sees the form ----------------------------------------------------------------------------

def test_a_reviewer_of_the_issuing_archive_sees_the_issue_form_on_an_approved_request(client, people, approved):
    req = approved()
    sign_in(client, people["issuing_reviewer"])
    html = staff_page(client, req)
    assert action_url(req, "issue") in form_actions(html)
    assert "出具证明" in html
    assert 'class="certificate-panel"' not in html  # nothing issued yet


@pytest.mark.parametrize("who", ["issuing_clerk", "holding_clerk", "holding_reviewer"])
def test_clerks_and_holding_archive_staff_get_no_issue_form(client, people, approved, who):
    req = approved()
    sign_in(client, people[who])
    assert action_url(req, "issue") not in form_actions(staff_page(client, req))


def test_another_archives_reviewer_cannot_even_open_the_request(client, people, approved):
    req = approved()
    sign_in(client, people["unrelated_reviewer"])
    assert client.get(staff_url(req)).status_code == 404


def test_a_clerk_posting_the_issue_form_is_refused_and_nothing_is_issued(client, session, people, approved):
    req = approved()
    sign_in(client, people["issuing_clerk"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', staff_page(client, req)).group(1)
    response = post_multipart(client, action_url(req, "issue"), {"csrf_token": token, "version": str(req.version)})
    assert response.status_code == 403
    assert certificates_in_db(session) == 0 and req.status == "approved"


# ---- issuing ------------------------------------------------------------------------------------------

def test_issuing_with_the_plain_form_redirects_to_the_page_which_shows_the_certificate(client, session, people,
                                                                                       approved):
    req = approved()
    sign_in(client, people["issuing_reviewer"])
    response = post_form(client, staff_url(req), action_url(req, "issue"), {"note": "已核对"})
    assert response.status_code == 303
    assert response.headers["Location"] == staff_url(req)

    session.expire_all()
    cert = req.certificate
    assert req.status == "issued" and cert is not None and cert.status == "valid"
    html = staff_page(client, req)
    assert "证明已出具并签名" in html  # the flash message
    panel = section(html, 'class="certificate-panel"')
    text = text_of(panel)
    for expected in (cert.serial, cert.code, "有效", "档案查询结果证明", cert.sha256, "吴芳"):
        assert expected in text
    assert f'href="/requests/{req.number}/certificate"' in panel
    assert action_url(req, "revoke") in form_actions(panel)
    assert action_url(req, "issue") not in form_actions(html)  # issued once only


def test_issuing_with_htmx_answers_with_the_refreshed_body(client, session, people, approved):
    req = approved()
    sign_in(client, people["issuing_reviewer"])
    response = post_form(client, staff_url(req), action_url(req, "issue"), headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith('<div id="staff-request"') and "<html" not in html
    session.expire_all()
    cert = req.certificate
    assert cert is not None
    assert "证明已出具并签名" in html
    assert cert.serial in html and cert.code in html and cert.sha256 in html
    assert action_url(req, "revoke") in form_actions(html)


def test_the_clerk_sees_the_issued_certificate_but_no_revoke_form(client, people, issued):
    sign_in(client, people["issuing_clerk"])
    html = staff_page(client, issued)
    panel = section(html, 'class="certificate-panel"')
    assert issued.certificate.serial in panel and "有效" in panel
    assert action_url(issued, "revoke") not in form_actions(html)


def test_holding_archive_staff_see_the_certificate_but_no_revoke_form(client, people, issued):
    sign_in(client, people["holding_reviewer"])
    html = staff_page(client, issued)
    assert issued.certificate.serial in section(html, 'class="certificate-panel"')
    assert action_url(issued, "revoke") not in form_actions(html)


def test_a_stale_page_gets_409_saying_it_was_already_handled_and_issues_nothing_more(
        client, second_client, session, people, approved):
    req = approved()
    sign_in(client, people["issuing_reviewer"])
    sign_in(second_client, people["issuing_reviewer2"])
    stale = form_fields(staff_page(second_client, req), action_url(req, "issue"))
    assert post_form(client, staff_url(req), action_url(req, "issue")).status_code == 303
    session.expire_all()
    serial = req.certificate.serial

    response = post_multipart(second_client, action_url(req, "issue"), stale)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    conflict = text_of(html.split('class="flash flash-error conflict"', 1)[1].split("</div>", 1)[0])
    assert "申请刚刚已有新的办理进展" in conflict
    assert "已由吴芳（" in conflict and "出具证明" in conflict
    assert certificates_in_db(session) == 1 and req.certificate.serial == serial


def test_without_a_signing_key_issuing_answers_503_and_the_request_stays_approved(app, client, session, people,
                                                                                  approved, tmp_path):
    req = approved()
    empty = tmp_path / "no-keys"
    empty.mkdir()
    app.config["SIGNING_KEYS_DIR"] = empty
    sign_in(client, people["issuing_reviewer"])
    response = post_form(client, staff_url(req), action_url(req, "issue"))
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "portal keys init" in html
    session.expire_all()
    assert req.status == "approved" and certificates_in_db(session) == 0
    assert action_url(req, "issue") in form_actions(html)  # can be tried again once the keys exist


def test_a_refused_note_leaves_no_certificate_no_file_and_no_used_serial(app, client, session, people, approved):
    req = approved()
    sign_in(client, people["issuing_reviewer"])
    response = post_form(client, staff_url(req), action_url(req, "issue"), {"note": "长" * 2001})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "issue-note")
    session.expire_all()
    assert req.status == "approved" and certificates_in_db(session) == 0
    folder = Path(app.config["CERTIFICATE_FOLDER"])
    assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]
    # the serial was given back: the next certificate is still number 1
    assert post_form(client, staff_url(req), action_url(req, "issue")).status_code == 303
    session.expire_all()
    assert req.certificate.serial.endswith("-000001")
