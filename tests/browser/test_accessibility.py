"""axe-core (from npm, pinned in package.json) on the pages of the journey, in Chinese and in
English: no serious or critical violation. And the citizen's journey with the keyboard alone."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.db import db
from portal.requests.models import UtilizationRequest
from tests.browser.signing_in import signed_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices that matter for these pages.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
               "resultTypes": ["violations"]}


@pytest.fixture(scope="module")
def requests_of(live_server, demo_requests):
    """The demo requests, and the cross-archive one's number and issuing archive."""
    with live_server["app"].app_context():
        cross = db.session.scalar(select(UtilizationRequest).where(UtilizationRequest.number == demo_requests[0]))
        return {"numbers": demo_requests, "cross": cross.number, "issuing": cross.issuing_archive.code}


def violations(page) -> list[str]:
    """Serious and critical axe violations of the page as it is now. axe is evaluated through
    the DevTools protocol, which the page's Content-Security-Policy does not govern."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make setup` installs it (npm ci)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] if isinstance(n["target"][0], str)
                                                                    else str(n["target"]) for n in v["nodes"][:5])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _check(page, url: str, lang: str) -> list[str]:
    page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")
    page.wait_for_load_state("networkidle")
    return [f"{url} [{lang}] {v}" for v in violations(page)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_pages_have_no_serious_violations(live_server, page, lang):
    url = live_server["url"]
    found = []
    for path in ("/", "/search?q=婚姻", "/search?q=zzzzqqq", live_server["open_record"], "/verify", "/login",
                 "/register"):
        found += _check(page, url + path, lang)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_citizen_pages_have_no_serious_violations(live_server, browser, requests_of, lang):
    context, page = signed_in(browser, live_server, live_server["citizen_email"])
    try:
        url = live_server["url"]
        found = []
        for path in ("/me/records", "/apply", "/requests", *(f"/requests/{n}" for n in requests_of["numbers"])):
            found += _check(page, url + path, lang)
        assert found == [], "\n".join(found)
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_staff_pages_have_no_serious_violations(live_server, browser, requests_of, lang):
    context, page = signed_in(browser, live_server, f"clerk.{requests_of['issuing']}@demo.cn")
    try:
        url = live_server["url"]
        found = []
        for path in ("/staff/queue", "/staff/queue?tab=done", f"/staff/requests/{requests_of['cross']}"):
            found += _check(page, url + path, lang)
        assert found == [], "\n".join(found)
    finally:
        context.close()


def _tab_to(page, matches, limit: int = 120) -> None:
    """Press Tab until the focused element satisfies `matches` (a JS predicate of the element)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => ({matches}))(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached an element where {matches}")


def test_the_citizen_journey_works_with_the_keyboard_alone(live_server, page):
    """Log in, search, open a record of one's own, put it in the basket, apply, follow the request:
    no mouse, only Tab, typing, Space and Enter."""
    url = live_server["url"]
    page.goto(url + "/")
    _tab_to(page, "el.tagName === 'A' && el.getAttribute('href') === '/login'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/login")
    _tab_to(page, "el.name === 'email'")
    page.keyboard.type(live_server["citizen_email"])
    _tab_to(page, "el.name === 'password'")
    page.keyboard.type(live_server["password"])
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: "/login" not in u)

    # My records → the first record of one's own → its page.
    _tab_to(page, "el.tagName === 'A' && el.getAttribute('href') === '/me/records'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/me/records")
    _tab_to(page, "el.tagName === 'BUTTON' && el.textContent.includes('加入申请清单')")
    page.keyboard.press("Enter")
    page.get_by_text("已加入申请清单").first.wait_for()
    assert page.locator("#basket-count").inner_text() == "1"

    # The basket → the application form, filled in by keyboard.
    _tab_to(page, "el.tagName === 'A' && el.getAttribute('href') === '/apply'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/apply")
    _tab_to(page, "el.type === 'radio' && el.name === 'relation'")
    # Arrow keys move within a radio group; the first is "本人" (myself).
    page.keyboard.press("Space")
    assert page.get_by_label("本人", exact=True).is_checked()
    _tab_to(page, "el.tagName === 'SELECT' && el.name === 'purpose'")
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("利用目的", exact=True).input_value() != ""
    _tab_to(page, "el.tagName === 'SELECT' && el.name === 'issuing_archive'")
    page.keyboard.press("ArrowDown")
    _tab_to(page, "el.type === 'radio' && el.name === 'delivery'")
    page.keyboard.press("Space")
    _tab_to(page, "el.type === 'checkbox' && el.name === 'consent'")
    page.keyboard.press("Space")
    _tab_to(page, "el.tagName === 'BUTTON' && el.textContent.includes('提交申请')")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/requests/\d{6}-\d{4}-\d{6}$"))
    assert page.locator(".status-panel .badge").inner_text() == "已提交"

    # Back to the list by keyboard; the new request is there.
    number = page.url.rsplit("/", 1)[1]
    _tab_to(page, "el.tagName === 'A' && el.getAttribute('href') === '/requests'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/requests")
    assert page.get_by_role("link", name=number).is_visible()


def test_focus_moves_into_the_part_an_htmx_swap_replaced(live_server, browser):
    """The pressed button is gone after the swap: the focus lands on what replaced it, not on
    nothing (the page's body), so the next Tab goes on from there."""
    context, page = signed_in(browser, live_server, live_server["citizen_email"])
    try:
        page.goto(live_server["url"] + "/me/records")
        button = page.get_by_role("button", name="加入申请清单").first
        button.focus()
        page.keyboard.press("Enter")
        page.get_by_text("已加入申请清单").first.wait_for()
        page.wait_for_function("document.activeElement !== document.body")
        assert page.evaluate("document.activeElement.textContent.trim()") == "已加入申请清单"
    finally:
        context.close()
