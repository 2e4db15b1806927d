"""Smoke test in a real browser: the pages load, render Chinese, run their scripts without errors."""
from __future__ import annotations

import pytest

from portal.core.masking import mask_name, mask_personal_text

pytestmark = pytest.mark.browser


def test_home_page_shows_title_search_box_and_archives_without_console_errors(live_server, page, console, tmp_path):
    page.goto(live_server["url"] + "/")
    page.wait_for_load_state("networkidle")
    assert page.title() == "档案利用服务平台"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", name="民生档案查询与利用").is_visible()
    assert page.get_by_role("search").is_visible()
    assert page.locator("#q").is_visible()
    assert page.locator(".cards .card").count() == live_server["archive_count"]
    for name in live_server["archive_names"]:
        assert page.get_by_role("heading", name=name, exact=True).is_visible()
    assert page.evaluate("typeof htmx") == "object", "htmx did not load"
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    assert console.problems == []


def test_open_record_page_shows_the_masked_name(live_server, page, console, tmp_path):
    page.goto(live_server["url"] + live_server["open_record"])
    page.wait_for_load_state("networkidle")
    name = live_server["citizen_name"]
    assert page.get_by_role("heading", level=1).inner_text() == mask_personal_text(live_server["open_record_title"], name)
    masked = mask_name(name)
    assert page.locator("dd", has_text=masked).first.is_visible()
    body = page.locator("body").inner_text()
    assert name not in body
    assert "身份证号码" not in body, "the public never sees an ID number, not even masked"
    page.screenshot(path=str(tmp_path / "record.png"), full_page=True)
    assert console.problems == []


def test_citizen_logs_in_and_sees_their_restricted_record_in_full(live_server, page, console):
    page.goto(live_server["url"] + "/login?next=" + live_server["restricted_record"])
    page.get_by_label("电子邮箱").fill(live_server["citizen_email"])
    page.get_by_label("密码").fill(live_server["password"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**" + live_server["restricted_record"])
    assert page.get_by_role("heading", level=1).inner_text() == live_server["restricted_record_title"]
    assert page.locator(".who").inner_text() == live_server["citizen_name"]
    assert page.locator("dd", has_text=live_server["citizen_name"]).first.is_visible()
    assert page.get_by_text("本页显示完整个人信息").is_visible()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(live_server["url"] + "/")
    assert page.get_by_text("您已安全退出").is_visible()
    assert console.problems == []
