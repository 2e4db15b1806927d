"""The certificate pages in English (?lang=en): the verify page, the citizen's certificate panel
and the staff's; no Chinese left but the data (names of people and archives)."""
from __future__ import annotations

from tests.certificate_pages.conftest import (CHINESE_PUNCTUATION, section, sign_in, text_of, untranslated,
                                              verdicts)

DATA = ("河池市档案馆", "南宁市档案馆", "王*英")


def english_verify_page(client, cert) -> str:
    html = client.get(f"/verify?serial={cert.serial}&code={cert.code}&lang=en").get_data(as_text=True)
    return html.split('<main', 1)[1].split("</main>", 1)[0]


def test_the_verify_page_is_in_english(client, issued):
    main = english_verify_page(client, issued.certificate)
    text = text_of(main)
    for expected in ("Verify a certificate", "Certificate of archive search results", "Issuing archive"):
        assert expected in text
    assert verdicts(main)[0].startswith("Valid")
    assert untranslated(main, *DATA) == []


def test_the_english_verify_result_has_no_chinese_punctuation(client, issued):
    """The verdict's "：" and the "、" between archive names are written into the template."""
    main = english_verify_page(client, issued.certificate)
    assert untranslated(main, *DATA, pattern=CHINESE_PUNCTUATION) == []


def test_the_citizens_certificate_panel_is_in_english(client, people, issued):
    sign_in(client, people["applicant"])
    html = client.get(f"/requests/{issued.number}?lang=en").get_data(as_text=True)
    panel = section(html, "certificate-panel")
    assert "Download certificate (PDF)" in panel and "Verify this certificate" in panel
    assert untranslated(panel, "河池市档案馆") == []


def test_the_staff_certificate_panel_is_in_english(client, people, issued):
    sign_in(client, people["issuing_reviewer"])
    html = client.get(f"/staff/requests/{issued.number}?lang=en").get_data(as_text=True)
    panel = section(html, 'class="certificate-panel"')
    assert "Revoke certificate" in panel and "Valid" in panel
    assert untranslated(panel, "吴芳") == []
