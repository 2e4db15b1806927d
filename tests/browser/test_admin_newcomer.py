"""A phone-sized window (390 x 844) on every section the archive admin and a clerk find on
/admin/, in Chinese and in English: nothing is wider than the screen, and each page links back."""
from __future__ import annotations

import re

import pytest

from tests.browser.signing_in import signed_in

WIDER_THAN_THE_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll('main *'))
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .map(e => e.tagName.toLowerCase() + ': ' + (e.textContent || '').trim().slice(0, 40));
}"""


@pytest.mark.parametrize("email", ["manager.451200@demo.cn", "clerk.451200@demo.cn"])
def test_every_section_fits_a_phone_and_links_back(browser, live_server, email):
    context, page = signed_in(browser, live_server, email)
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live_server["url"] + "/admin/")
        sections = [a.get_attribute("href") for a in page.locator(".admin-sections a").all()]
        assert sections
        for href in sections:
            for lang in ("zh", "en"):
                page.goto(f"{live_server['url']}{href}?lang={lang}")
                assert page.evaluate(WIDER_THAN_THE_SCREEN) == [], (href, lang)
                assert page.locator("main p a[href='/admin/']").count() >= 1, (href, lang)
    finally:
        page.goto(live_server["url"] + "/admin/?lang=zh")  # the session's language back to Chinese
        context.close()


def test_the_counters_choices_stand_one_a_line_on_a_phone(browser, live_server):
    """The radio choices of the intake form used to run on into the next field's label
    ("请档案馆代为查找 查找档案（档号或题名）")."""
    from portal.catalog.demo import citizen_id_number

    context, page = signed_in(browser, live_server, "clerk.451200@demo.cn")
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live_server["url"] + "/admin/451200/counter")
        page.get_by_label(re.compile("^身份证号码")).fill(citizen_id_number())
        page.get_by_role("button", name="查找").click()
        page.get_by_role("group", name="申请人与档案当事人的关系").wait_for()
        tops = [page.locator(css).bounding_box()["y"] for css in (
            "label:has(input[name=kind][value=records])", "label:has(input[name=kind][value=search])",
            "label[for=catalog-q]")]
        assert tops == sorted(tops) and len({round(y) for y in tops}) == 3, tops
        assert page.evaluate(WIDER_THAN_THE_SCREEN) == []
    finally:
        context.close()
