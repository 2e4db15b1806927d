"""GET /requests/<number>/certificate: the stored PDF byte for byte, to those who may see the
request, every download audited; a damaged stored file is never handed out."""
from __future__ import annotations

import hashlib

from tests.certificate_pages.conftest import audit_entries, download_url, sign_in, stored_file


def test_the_applicant_downloads_the_signed_pdf_as_an_attachment(app, client, people, issued):
    cert = issued.certificate
    sign_in(client, people["applicant"])
    response = client.get(download_url(issued))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{cert.serial}.pdf"'
    assert "no-store" in response.headers["Cache-Control"]
    data = response.get_data()
    assert data.startswith(b"%PDF-")
    assert data == stored_file(app, cert).read_bytes()


def test_two_downloads_are_the_same_bytes_matching_the_stored_sha256(client, people, issued):
    sign_in(client, people["applicant"])
    first = client.get(download_url(issued)).get_data()
    second = client.get(download_url(issued)).get_data()
    assert first == second
    assert hashlib.sha256(first).hexdigest() == issued.certificate.sha256
    assert len(first) == issued.certificate.size


def test_each_download_is_written_to_the_audit_log(client, session, people, issued):
    sign_in(client, people["applicant"])
    client.get(download_url(issued))
    client.get(download_url(issued))
    entries = audit_entries(session, "certificate_downloaded")
    assert [(e.actor_id, e.object_type, e.object_id) for e in entries] == \
        [(people["applicant"].id, "certificate", issued.certificate.serial)] * 2
    assert entries[0].details.get("request") == issued.number


def test_another_citizen_gets_404(client, session, people, issued):
    sign_in(client, people["other_citizen"])
    response = client.get(download_url(issued))
    assert response.status_code == 404
    assert not response.get_data().startswith(b"%PDF")
    assert audit_entries(session, "certificate_downloaded") == []


def test_staff_of_an_unrelated_archive_get_404(client, people, issued):
    sign_in(client, people["unrelated_reviewer"])
    assert client.get(download_url(issued)).status_code == 404


def test_staff_of_the_holding_archive_may_download(client, people, issued):
    sign_in(client, people["holding_clerk"])
    response = client.get(download_url(issued))
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_an_anonymous_visitor_is_sent_to_log_in(client, issued):
    response = client.get(download_url(issued))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_request_without_a_certificate_has_nothing_to_download(client, people, approved):
    req = approved()
    sign_in(client, people["applicant"])
    assert client.get(download_url(req)).status_code == 404


def test_a_changed_stored_file_is_never_handed_out(app, client, session, people, issued):
    path = stored_file(app, issued.certificate)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    sign_in(client, people["applicant"])
    response = client.get(download_url(issued))
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    body = response.get_data()
    assert b"%PDF" not in body and bytes(data) not in body
    assert "证明文件校验失败" in response.get_data(as_text=True)
    assert audit_entries(session, "certificate_downloaded") == []


def test_a_missing_stored_file_is_a_503_page_not_a_server_error(app, client, people, issued):
    stored_file(app, issued.certificate).unlink()
    sign_in(client, people["applicant"])
    response = client.get(download_url(issued))
    assert response.status_code == 503
    assert response.mimetype == "text/html"
