"""利用统计 in a real Chromium: an archive admin opens the statistics from /admin/, sees every
chart drawn (each an SVG response under its own Content-Security-Policy: no console error), the
tables under them, changes the range, and the page passes axe in Chinese and in English."""
from __future__ import annotations

import pytest

from tests.browser.signing_in import signed_in
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def _charts_drawn(page) -> int:
    """How many chart images the browser decoded (an SVG refused or broken has no natural width)."""
    page.wait_for_load_state("networkidle")
    return page.evaluate("""() => Array.from(document.querySelectorAll('img.stats-chart'))
                              .filter(img => img.complete && img.naturalWidth > 0).length""")


def test_an_archive_admin_reads_this_months_statistics(browser, live_server, demo_requests):
    context, page = signed_in(browser, live_server, "manager.451200@demo.cn")
    try:
        page.goto(live_server["url"] + "/admin/")
        page.get_by_role("link", name="利用统计").first.click()
        page.wait_for_url("**/admin/451200/statistics")
        assert page.get_by_role("heading", level=1).inner_text().startswith("利用统计")
        charts = page.locator("img.stats-chart")
        assert charts.count() == 5 and _charts_drawn(page) == 5
        assert all(charts.nth(i).get_attribute("alt") for i in range(charts.count()))
        assert page.locator("section.stats-table table").count() == 6
        assert page.locator("a.stats-csv").count() == 6
        assert violations(page) == []

        page.get_by_label("开始日期").fill("2025-01-01")
        page.get_by_label("结束日期").fill("2025-03-31")
        page.get_by_role("button", name="统计").click()
        page.wait_for_url("**from=2025-01-01**")
        months = page.locator("#stats-months ~ .table-scroll tbody th")
        assert [months.nth(i).inner_text() for i in range(months.count())] == ["2025-01", "2025-02", "2025-03"]
        assert _charts_drawn(page) == 5

        page.goto(live_server["url"] + "/admin/451200/statistics?lang=en")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Statistics")
        assert _charts_drawn(page) == 5
        assert violations(page) == []
    finally:
        context.close()


def test_a_wrong_range_is_explained_next_to_the_field(browser, live_server):
    context, page = signed_in(browser, live_server, "manager.451200@demo.cn")
    try:
        page.goto(live_server["url"] + "/admin/451200/statistics?from=2026-03-01&to=2026-02-01")
        assert "结束日期不能早于开始日期" in page.locator("#to-error").inner_text()
        assert page.get_by_label("结束日期").get_attribute("aria-invalid") == "true"
        assert violations(page) == []
    finally:
        context.close()
