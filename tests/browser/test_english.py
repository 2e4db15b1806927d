"""English pages speak English punctuation in a real browser: the interface text of the journey's
pages (navigation, headings, labels, buttons, table and list headers, hints, the footer) holds no
full-width mark such as ，。：（）. Data — record titles, names, places — may be Chinese; it is not
looked at here. tests/i18n checks the catalog and the templates statically."""
from __future__ import annotations

import re

import pytest

from tests.browser.signing_in import signed_in

pytestmark = pytest.mark.browser

FULL_WIDTH = re.compile(r"[\u3000-\u303f\uff00-\uffef]")
INTERFACE = "nav, footer, label, button, th, dt, legend, h2, summary, .hint, .flash, .pager, .chips"


def _offending(page, url: str) -> list[str]:
    page.goto(url + ("&" if "?" in url else "?") + "lang=en")
    texts = page.locator(INTERFACE).all_inner_texts()
    return [f"{url}: {text.strip()[:120]!r}" for text in texts if FULL_WIDTH.search(text)]


def test_english_pages_use_english_punctuation(live_server, browser, demo_requests):
    numbers = demo_requests
    url = live_server["url"]
    found = []
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        for path in ("/", "/search?q=婚姻", "/search?q=婚姻&category=marriage&year_from=1950&year_to=1979",
                     live_server["open_record"], "/verify", "/register", "/login", "/privacy"):
            found += _offending(page, url + path)
    finally:
        context.close()
    for who, paths in ((live_server["citizen_email"], ("/me/records", "/apply", "/requests",
                                                       *(f"/requests/{n}" for n in numbers), "/account",
                                                       "/account/data")),
                       ("clerk.451200@demo.cn", ("/staff/queue", "/staff/queue?tab=done", f"/staff/requests/{numbers[0]}"))):
        context, page = signed_in(browser, live_server, who)
        try:
            for path in paths:
                found += _offending(page, url + path)
        finally:
            context.close()
    assert found == [], "\n".join(found)
