"""A phone-sized window (390 x 844) on every section the archive admin and a clerk find on
/admin/, in Chinese and in English: nothing is wider than the screen, and each page links back."""
from __future__ import annotations

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
