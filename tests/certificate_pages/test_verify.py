"""/verify by serial and code, without logging in: the verdict and what anyone holding the
certificate may confirm (the subject's name masked); a wrong code looks exactly like a serial that
does not exist; failed look-ups are limited per address."""
from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

import pytest

from portal.actions import act
from portal.certificates import service as certificates
from tests.certificate_pages.conftest import MASKED_APPLICANT, audit_entries, field_error, section, text_of, verdicts

REASON = "出证依据的档案有误"


def check(client, serial=None, code=None, **kw):
    params = {k: v for k, v in (("serial", serial), ("code", code)) if v is not None}
    return client.get(f"/verify?{urlencode(params)}", **kw)


def result_section(html: str) -> str:
    return section(html, 'aria-labelledby="by-code-h"')


def test_the_page_works_without_logging_in(client):
    response = client.get("/verify")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "证明核验" in html and 'name="serial"' in html and 'name="code"' in html
    assert verdicts(html) == []


def test_the_right_serial_and_code_show_a_valid_certificate_and_its_facts(client, issued):
    cert = issued.certificate
    response = check(client, cert.serial, cert.code)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    [verdict] = verdicts(html)
    assert verdict.startswith("有效") and "河池市档案馆" in verdict
    facts = text_of(result_section(html))
    for expected in (cert.serial, "档案查询结果证明", "河池市档案馆", "南宁市档案馆", MASKED_APPLICANT, cert.sha256):
        assert expected in facts


def test_the_subjects_full_name_is_never_shown(client, issued):
    cert = issued.certificate
    html = check(client, cert.serial, cert.code).get_data(as_text=True)
    assert MASKED_APPLICANT in html
    assert "王秀英" not in html


def test_a_not_found_certificate_says_which_kind_and_who_searched(client, session, people, not_found_request):
    cert = act(session, not_found_request, "issue", people["issuing_reviewer"]).result
    html = check(client, cert.serial, cert.code).get_data(as_text=True)
    facts = text_of(result_section(html))
    assert "查无档案记录证明" in facts
    assert "南宁市档案馆" in facts and "柳州市档案馆" in facts


def test_a_wrong_code_looks_exactly_like_an_unknown_serial(client, issued):
    cert = issued.certificate
    wrong_code = "ABCDEFGH" if cert.code != "ABCDEFGH" else "HGFEDCBA"
    wrong = check(client, cert.serial, wrong_code)
    unknown = check(client, "ZM-451200-1999-999999", cert.code)  # shaped like a serial, as the real one
    assert wrong.status_code == unknown.status_code == 200
    wrong_html, unknown_html = wrong.get_data(as_text=True), unknown.get_data(as_text=True)
    assert verdicts(wrong_html) == verdicts(unknown_html)
    # the whole result section is the same, but for what the visitor typed (echoed in the inputs)
    typed = re.compile(r'(<input id="(?:serial|code)" name="(?:serial|code)" value=)"[^"]*"')
    assert typed.sub(r'\1""', result_section(wrong_html)) == typed.sub(r'\1""', result_section(unknown_html))
    assert len(verdicts(wrong_html)) == 1 and verdicts(wrong_html)[0].startswith("未找到")
    # nothing of the real certificate leaks through the wrong code
    for html in (wrong_html, unknown_html):
        assert cert.sha256 not in html and "河池市档案馆出具" not in html and '<dl class="facts">' not in html


@pytest.mark.parametrize("given, missing", [("serial", "code"), ("code", "serial")])
def test_only_one_of_serial_and_code_is_400_at_the_missing_field(client, issued, given, missing):
    cert = issued.certificate
    response = check(client, **{given: getattr(cert, given)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, missing) == "请同时填写证明编号和验证码"
    assert field_error(html, given) is None
    assert verdicts(html) == []


def test_a_code_typed_in_lower_case_with_spaces_and_dashes_still_matches(client, issued):
    cert = issued.certificate
    typed = f" {cert.code[:4].lower()} - {cert.code[4:].lower()} "
    [verdict] = verdicts(check(client, cert.serial, typed).get_data(as_text=True))
    assert verdict.startswith("有效")


def test_a_revoked_certificate_is_shown_revoked_without_the_reason(client, session, people, issued):
    """The reason was written for the applicant (who reads it on their page), not for the public."""
    cert = act(session, issued, "revoke_certificate", people["issuing_reviewer"], {"reason": REASON}).result
    html = check(client, cert.serial, cert.code).get_data(as_text=True)
    [verdict] = verdicts(html)
    assert verdict.startswith("已撤销") and "不再有效" in verdict
    assert REASON not in html
    assert "有效：" not in verdict


def test_the_qr_code_link_opens_the_result(client, issued):
    cert = issued.certificate
    link = urlsplit(certificates.verify_url(cert.serial, cert.code))
    assert link.path == "/verify"
    response = client.get(f"{link.path}?{link.query}")
    assert response.status_code == 200
    assert verdicts(response.get_data(as_text=True))[0].startswith("有效")


def test_after_twenty_failures_from_one_address_even_the_right_code_gets_429(app, client, issued):
    assert app.config["MAX_CERTIFICATE_LOOKUP_FAILURES"] == 20
    cert = issued.certificate
    for n in range(20):
        assert check(client, cert.serial, f"WRONG{n:03d}").status_code == 200
    response = check(client, cert.serial, cert.code)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    html = response.get_data(as_text=True)
    assert "核验次数过多" in html and verdicts(html) == []


def test_the_limit_is_per_address_and_only_failures_count(app, client, issued):
    app.config["MAX_CERTIFICATE_LOOKUP_FAILURES"] = 2
    cert = issued.certificate
    for _ in range(4):  # successful look-ups are not failures
        assert check(client, cert.serial, cert.code).status_code == 200
    check(client, cert.serial, "WRONG001")
    check(client, cert.serial, "WRONG002")
    assert check(client, cert.serial, cert.code).status_code == 429
    elsewhere = check(client, cert.serial, cert.code, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert elsewhere.status_code == 200


def test_failed_look_ups_are_logged_with_the_address(client, session, issued):
    check(client, issued.certificate.serial, "WRONG001")
    [entry] = audit_entries(session, "certificate_lookup_failed")
    assert entry.ip == "127.0.0.1" and entry.object_id == issued.certificate.serial


def test_a_nul_character_in_the_serial_is_a_clear_400(client, issued):
    """Anyone can send this: PostgreSQL refuses NUL in text, which must not become a 500."""
    response = client.get("/verify?serial=451200%00&code=ABCDEFGH")
    assert response.status_code == 400 and "请求中含有无效字符" in response.get_data(as_text=True)
