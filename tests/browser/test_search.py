"""Search in a real browser: results follow the typing (HTMX), the URL follows the results, the back
button works, and the page still works as a plain form."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_results_update_as_you_type_and_the_url_can_be_shared(live_server, page, console, tmp_path):
    page.goto(live_server["url"] + "/search")
    page.wait_for_load_state("networkidle")
    page.evaluate("window.__sameDocument = true")  # survives only if the page is never reloaded
    page.locator("#q").press_sequentially("结婚登记", delay=30)
    page.wait_for_url(re.compile(r"q=%E7%BB%93%E5%A9%9A%E7%99%BB%E8%AE%B0"))
    hits = page.locator("#results .hit")
    hits.first.wait_for()
    assert page.evaluate("window.__sameDocument") is True, "results must arrive without a page load"
    assert page.locator("#results mark").count() > 0
    assert "category=" not in page.url, "the pushed URL carries only the filters in use"
    assert re.search(r"共找到 \d+ 条", page.locator("#results").inner_text())
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)

    shared = page.url
    page.goto(live_server["url"] + "/")
    page.wait_for_load_state("networkidle")
    page.goto(shared)
    assert page.locator("#q").input_value() == "结婚登记"
    assert page.locator("#results .hit").count() == hits.count()
    assert console.problems == []


def test_facet_link_narrows_results_and_back_restores_them(live_server, page, console):
    page.goto(live_server["url"] + "/search?q=登记")
    before = page.locator("#results").inner_text()
    page.locator(".facets a").first.click()
    page.wait_for_url(re.compile(r"category="))
    page.wait_for_function("(b) => document.querySelector('#results').innerText !== b", arg=before)
    page.go_back()
    page.wait_for_url(re.compile(r"/search\?q="))
    page.wait_for_function("(b) => document.querySelector('#results').innerText === b", arg=before)
    assert console.problems == []


def test_traditional_characters_find_simplified_titles(live_server, page):
    page.goto(live_server["url"] + "/search?q=" + "結婚登記")
    assert page.locator("#results .hit").count() > 0


def test_search_works_without_javascript(live_server, browser):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(live_server["url"] + "/")
        page.locator("#q").fill("婚姻")
        page.get_by_role("button", name="检索").click()
        page.wait_for_url(re.compile(r"/search\?q="))
        assert page.locator("#results .hit").count() > 0
    finally:
        context.close()
