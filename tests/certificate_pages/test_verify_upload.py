"""/verify with an uploaded PDF: byte for byte one of ours or not, and whether its signature is
intact and trusted; bad uploads are 400; checks per address are limited."""
from __future__ import annotations

import re

from portal.actions import act
from tests.certificate_pages.conftest import field_error, stored_file, text_of, verdicts, verify_upload
from tests.files import big_file_bytes, pdf_bytes, text_bytes


def checks(html: str) -> list[tuple[str, str]]:
    """The lines of the file check: (ok|bad, text)."""
    return [(kind, text_of(body)) for kind, body in re.findall(r'<li class="check-(ok|bad)">(.*?)</li>', html, re.S)]


def flip_a_byte_inside_a_stream(data: bytes) -> bytes:
    """Change one byte in the first content stream: the file still parses, the signature no longer holds."""
    start = data.index(b"stream", data.index(b"obj")) + len(b"stream\n") + 10
    assert start < len(data) - 1000
    changed = bytearray(data)
    changed[start] ^= 0x01
    return bytes(changed)


def test_the_issued_file_is_identical_and_signed_by_the_issuing_archive(app, client, issued):
    cert = issued.certificate
    response = verify_upload(client, stored_file(app, cert).read_bytes(), f"{cert.serial}.pdf")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    lines = checks(html)
    assert lines[0][0] == "ok" and "完全一致" in lines[0][1] and cert.serial in lines[0][1]
    assert lines[1] == ("ok", "电子签名完好，签名者：河池市档案馆。")
    assert verdicts(html)[0].startswith("有效")
    assert cert.sha256 in html


def test_an_uploaded_revoked_certificate_is_identical_but_shown_revoked(app, client, session, people, issued):
    act(session, issued, "revoke_certificate", people["issuing_reviewer"], {"reason": "出证有误"})
    html = verify_upload(client, stored_file(app, issued.certificate).read_bytes()).get_data(as_text=True)
    assert checks(html)[0][0] == "ok"
    assert verdicts(html)[0].startswith("已撤销") and "出证有误" not in html


def test_one_changed_byte_is_neither_identical_nor_intact(app, client, issued):
    data = flip_a_byte_inside_a_stream(stored_file(app, issued.certificate).read_bytes())
    response = verify_upload(client, data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    lines = checks(html)
    assert [kind for kind, _ in lines] == ["bad", "bad"]
    assert "不完全一致" in lines[0][1]
    assert lines[1][1] == "电子签名已失效：签名后文件被修改过。"
    assert verdicts(html) == [] and issued.certificate.serial not in html


def test_a_pdf_nobody_signed_has_no_signature(client, issued):
    html = verify_upload(client, pdf_bytes(text="Certificate")).get_data(as_text=True)
    assert checks(html) == [("bad", "文件与本平台出具的任何证明都不完全一致：可能被修改过，或不是本平台出具的。"),
                            ("bad", "文件没有电子签名。")]


def test_a_file_that_is_not_a_pdf_is_400_with_a_message(client):
    response = verify_upload(client, text_bytes(), "证明.pdf")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "file") == "这不是 PDF 文件"


def test_no_file_is_400_with_a_message(client):
    response = verify_upload(client, None)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "file") == "请选择要核验的 PDF 文件"


def test_a_file_over_50_mb_is_400(client):
    response = verify_upload(client, big_file_bytes(50, 1))
    assert response.status_code == 400
    assert "50 MB" in field_error(response.get_data(as_text=True), "file")


def test_too_many_checks_from_one_address_is_429(app, client, issued):
    app.config["MAX_CERTIFICATE_FILE_CHECKS"] = 2
    data = pdf_bytes()
    for _ in range(2):
        assert verify_upload(client, data).status_code == 200
    response = verify_upload(client, stored_file(app, issued.certificate).read_bytes())
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    html = response.get_data(as_text=True)
    assert "核验次数过多" in html and checks(html) == []


def test_an_upload_without_the_csrf_token_is_refused(client, app, issued):
    response = verify_upload(client, stored_file(app, issued.certificate).read_bytes(), token="")
    assert response.status_code == 400
    assert checks(response.get_data(as_text=True)) == []
