"""The corrected journey, on a desktop and on a phone-sized window, as screenshots. `make
screenshots` writes them into docs/screenshots/ (README links them); in `make test` they go to a
temporary folder and the test checks each page rendered, with nothing wider than the window."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.signing_in import signed_in

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _shoot(page, folder: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    assert page.locator("main h1").count() >= 1, f"{name}: no heading on {page.url}"
    # Nothing sticks out sideways (no horizontal scrolling on a phone).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{name} is too wide"
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", SIZES)
def test_the_journey_in_screenshots(live_server, browser, demo_requests, tmp_path, size):
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path) / size
    folder.mkdir(parents=True, exist_ok=True)
    url = live_server["url"]
    viewport = SIZES[size]

    context = browser.new_context(locale="zh-CN", viewport=viewport)
    try:
        page = context.new_page()
        page.goto(url + "/")
        _shoot(page, folder, "01-home")
        page.goto(url + "/search?q=婚姻")
        _shoot(page, folder, "02-search")
        page.goto(url + live_server["open_record"])
        _shoot(page, folder, "03-record")
        page.goto(url + "/verify")
        _shoot(page, folder, "09-verify")
    finally:
        context.close()

    context, page = signed_in(browser, live_server, live_server["citizen_email"])
    try:
        page.set_viewport_size(viewport)
        for name, path in (("04-my-records", "/me/records"), ("05-apply", "/apply"), ("06-my-requests", "/requests"),
                           ("07-request", f"/requests/{demo_requests[0]}")):
            page.goto(url + path)
            _shoot(page, folder, name)
    finally:
        context.close()

    context, page = signed_in(browser, live_server, "clerk.451200@demo.cn")
    try:
        page.set_viewport_size(viewport)
        page.goto(url + "/staff/queue")
        _shoot(page, folder, "08-staff-queue")
        page.goto(url + f"/staff/requests/{demo_requests[0]}")
        _shoot(page, folder, "08-staff-request")
    finally:
        context.close()


def test_on_a_phone_the_queues_cells_say_what_they_are(live_server, browser, demo_requests):
    """A stacked row of names and dates means nothing without its column's name."""
    context, page = signed_in(browser, live_server, "clerk.451200@demo.cn")
    try:
        page.set_viewport_size(SIZES["phone"])
        page.goto(live_server["url"] + "/staff/queue?tab=in_review")
        cell = page.locator("#queue tbody tr").first.locator("td").nth(1)
        label = page.evaluate("el => getComputedStyle(el, '::before').content", cell.element_handle())
        assert label == '"申请人："'
    finally:
        context.close()
