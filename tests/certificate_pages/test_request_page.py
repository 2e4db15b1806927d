"""The citizen's request page once a certificate is issued: its serial, code, a download link and
a link to check it; after revocation, a notice with the reason."""
from __future__ import annotations

import html as html_lib
import re
from urllib.parse import parse_qs, urlsplit

from portal.actions import act
from tests.certificate_pages.conftest import download_url, request_url, section, sign_in, text_of

REASON = "档案当事人身份有误"


def page(client, req) -> str:
    response = client.get(request_url(req))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_before_issue_there_is_no_certificate_panel(client, people, approved):
    req = approved()
    sign_in(client, people["applicant"])
    html = page(client, req)
    assert "certificate-panel" not in html and download_url(req) not in html


def test_the_panel_shows_serial_code_and_a_download_link(client, people, issued):
    cert = issued.certificate
    sign_in(client, people["applicant"])
    panel = section(page(client, issued), "certificate-panel")
    text = text_of(panel)
    assert "档案查询结果证明" in text
    assert cert.serial in text and cert.code in text
    assert f'href="{download_url(issued)}"' in panel
    assert "已撤销" not in text


def test_the_panel_links_to_the_check_of_this_certificate(client, people, issued):
    cert = issued.certificate
    sign_in(client, people["applicant"])
    panel = section(page(client, issued), "certificate-panel")
    links = [html_lib.unescape(h) for h in re.findall(r'href="([^"]+)"', panel)]
    verify = [urlsplit(h) for h in links if urlsplit(h).path == "/verify"]
    assert len(verify) == 1
    assert parse_qs(verify[0].query) == {"serial": [cert.serial], "code": [cert.code]}
    # and the link works without logging in
    anonymous = client.application.test_client()
    response = anonymous.get(f"/verify?{verify[0].query}")
    assert response.status_code == 200 and "有效" in response.get_data(as_text=True)


def test_after_revocation_the_panel_says_so_with_the_reason(client, session, people, issued):
    act(session, issued, "revoke_certificate", people["issuing_reviewer"], {"reason": REASON})
    sign_in(client, people["applicant"])
    panel = text_of(section(page(client, issued), "certificate-panel"))
    assert "被撤销，不再有效" in panel and f"原因：{REASON}" in panel
