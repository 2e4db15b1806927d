"""A citizen's search, in a real browser, as issue 15 found it: the filters stay in the form (as chips
one can remove) through typing and the back button, a phone sees the first hit without scrolling, the
title follows a live search, bad paging is answered in the page's language, and screen-reader and
keyboard users hear the count and land on the results after a facet, a chip or a page link."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

WORDS = {
    "zh": {"remove": "移除筛选：", "archive": "档案馆", "category": "档案类别", "filters": "筛选",
           "marriage": "婚姻登记", "found": r"共找到 (\d+) 条已开放档案",
           "title": "档案检索：婚姻 · 档案利用服务平台",
           "page_abc": "页码应为整数", "last_page": "没有第 99 页，显示的是最后一页。"},
    "en": {"remove": "Remove filter: ", "archive": "Archive", "category": "Category", "filters": "Filters",
           "marriage": "Marriage registration", "found": r"Open records found: (\d+)",
           "title": "Search records: 婚姻 · Archive Access Portal",
           "page_abc": "The page number must be a whole number", "last_page": "There is no page 99; this is the last page."},
}


def _speak(page, server, lang: str) -> dict:
    """The page's language: the cookie the language link (?lang=) sets."""
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server["url"]}])
    return WORDS[lang]


def _params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chosen_filters_stay_in_the_form_as_chips_through_typing_and_back(live_server, page, console, lang):
    words = _speak(page, live_server, lang)
    page.goto(live_server["url"] + "/search?q=登记")
    page.wait_for_load_state("networkidle")

    archive_link = page.locator(".facets a[href*='archive=']").first
    archive_name = archive_link.inner_text()
    archive_link.click()
    page.wait_for_url(re.compile(r"archive="))
    archive_code = _params(page.url)["archive"][0]
    archive_chip = page.get_by_role("link", name=f"{words['remove']}{words['archive']} {archive_name}", exact=True)
    archive_chip.wait_for()
    assert page.locator("form[role=search] input[name=archive]").input_value() == archive_code

    page.locator(".facets a[href*='category=marriage']").click()
    page.wait_for_url(re.compile(r"category=marriage"))
    category_chip = page.get_by_role("link", name=f"{words['remove']}{words['category']} {words['marriage']}",
                                     exact=True)
    category_chip.wait_for()
    assert page.locator("#search-category").input_value() == "marriage", "the select shows the facet chosen"
    assert archive_chip.is_visible()

    # Another word: the filters chosen by links go with it.
    page.locator("#q").fill("结婚")
    page.wait_for_url(lambda url: _params(url).get("q") == ["结婚"])
    params = _params(page.url)
    assert params == {"q": ["结婚"], "archive": [archive_code], "category": ["marriage"]}, "no empty parameters"
    page.locator("#results .hit").first.wait_for()
    for meta in page.locator("#results .hit p.muted").all_inner_texts():
        assert meta.startswith(archive_name)

    # Back, step by step: the results and the form as they were.
    page.go_back()
    page.wait_for_url(lambda url: _params(url).get("q") == ["登记"] and "category" in _params(url))
    page.wait_for_function("() => document.querySelector('#q').value === '登记'")
    assert category_chip.is_visible() and archive_chip.is_visible()

    page.go_back()
    page.wait_for_url(lambda url: "category" not in _params(url) and "archive" in _params(url))
    category_chip.wait_for(state="detached")
    assert page.locator("#search-category").input_value() == ""
    assert archive_chip.is_visible()
    assert page.locator("form[role=search] input[name=archive]").input_value() == archive_code

    page.go_back()
    page.wait_for_url(lambda url: _params(url) == {"q": ["登记"]})
    archive_chip.wait_for(state="detached")
    assert page.locator("form[role=search] input[name=archive]").count() == 0
    assert page.locator(".filter-chips").count() == 0
    assert console.problems == []


def test_a_chip_removes_its_filter_and_leaves_the_others(live_server, page, console):
    page.goto(live_server["url"] + "/search?q=登记&category=marriage&year_from=1950&year_to=1959")
    page.get_by_role("link", name="移除筛选：年份 1950–1959", exact=True).click()
    page.wait_for_url(lambda url: _params(url) == {"q": ["登记"], "category": ["marriage"]})
    page.wait_for_function("() => document.querySelector('#search-year-from').value === ''")
    assert page.locator("#search-year-to").input_value() == ""
    assert page.locator("#search-category").input_value() == "marriage"
    assert page.get_by_role("link", name="移除筛选：档案类别 婚姻登记").is_visible()
    assert console.problems == []


def test_chips_work_without_javascript(live_server, browser):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(live_server["url"] + "/search?q=登记&category=marriage")
        page.get_by_role("link", name="移除筛选：档案类别 婚姻登记").click()
        page.wait_for_url(lambda url: _params(url) == {"q": ["登记"]})
        assert page.locator("#results .hit").count() > 0
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_on_a_phone_the_first_hit_is_in_sight_and_the_facets_behind_a_disclosure(live_server, browser, lang):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        words = _speak(page, live_server, lang)
        page.goto(live_server["url"] + "/search?q=登记")
        first = page.locator("#results .hit").first.bounding_box()
        assert first is not None and first["y"] >= 0 and first["y"] + first["height"] <= 844, first
        assert page.evaluate("window.scrollY") == 0
        facets = page.locator(".facets a")
        assert not facets.first.is_visible()

        toggle = page.locator("#results summary")
        assert toggle.inner_text().strip() == words["filters"]
        toggle.focus()
        page.keyboard.press("Enter")
        facets.first.wait_for(state="visible")
        assert facets.count() >= 10
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('.facets') !== null"), "Tab goes into the facets"
    finally:
        context.close()


def test_on_a_desktop_the_facets_show_without_a_disclosure(live_server, page):
    page.goto(live_server["url"] + "/search?q=登记")
    assert page.locator(".facets a").first.is_visible()
    assert not page.locator("#results summary").is_visible()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_title_follows_a_live_search(live_server, page, console, lang):
    words = _speak(page, live_server, lang)
    page.goto(live_server["url"] + "/search")
    page.wait_for_load_state("networkidle")
    page.evaluate("window.__sameDocument = true")
    page.locator("#q").press_sequentially("婚姻", delay=30)
    page.locator("#results .hit").first.wait_for()
    page.wait_for_function("(t) => document.title === t", arg=words["title"])
    assert page.evaluate("window.__sameDocument") is True, "a live search, not a page load"
    assert console.problems == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_page_number_that_is_not_a_number_is_named_in_words(live_server, page, lang):
    words = _speak(page, live_server, lang)
    page.goto(live_server["url"] + "/search?q=登记&page=abc")
    alert = page.locator("#results [role=alert]").inner_text()
    assert words["page_abc"] in alert
    assert "page" not in alert.replace(words["page_abc"], ""), alert
    if lang == "zh":
        assert not re.search(r"[A-Za-z]", alert), "no English or parameter names in a Chinese page"
    assert page.locator("#q").input_value() == "登记", "what was typed is kept"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_page_past_the_last_shows_the_last_and_says_so(live_server, page, lang):
    words = _speak(page, live_server, lang)
    page.goto(live_server["url"] + "/search?q=登记&per_page=5")
    total = int(re.search(words["found"], page.locator("#results").inner_text()).group(1))
    last = -(-total // 5)
    assert last > 1
    page.goto(live_server["url"] + "/search?q=登记&per_page=5&page=99")
    assert page.locator("#results .hit").count() == total - 5 * (last - 1)
    assert words["last_page"] in page.locator("#results").inner_text()
    previous = page.locator(".pager a[rel=prev]").get_attribute("href")
    assert _params(previous)["page"] == [str(last - 1)]


def test_the_count_is_announced_and_typing_keeps_the_focus_in_the_box(live_server, page, console):
    page.goto(live_server["url"] + "/search")
    page.wait_for_load_state("networkidle")
    status = page.locator("#search-status")
    assert status.get_attribute("role") == "status"
    page.evaluate("document.querySelector('#search-status').__kept = true")
    assert page.locator("#results").get_attribute("aria-live") is None, "the hits are not one live region"

    page.locator("#q").focus()
    page.keyboard.type("登记", delay=60)
    page.locator("#results .hit").first.wait_for()
    page.wait_for_function("() => document.querySelector('#search-status').textContent.includes('共找到')")
    found = re.search(r"共找到 (\d+) 条已开放档案", status.inner_text())
    assert found and int(found.group(1)) > 0
    assert page.evaluate("document.querySelector('#search-status').__kept") is True, \
        "the live region stays in the page (a new one is not announced)"
    assert _focused_id(page) == "q", "focus stays in the search box while typing"

    page.keyboard.type(" 结婚", delay=60)
    page.wait_for_url(re.compile(r"q=%E7%99%BB%E8%AE%B0\+%E7%BB%93%E5%A9%9A|q=%E7%99%BB%E8%AE%B0%20%E7%BB%93"))
    page.wait_for_load_state("networkidle")
    assert _focused_id(page) == "q"
    assert console.problems == []


def test_a_facet_a_chip_and_a_page_link_move_the_focus_to_the_results(live_server, page, console):
    page.goto(live_server["url"] + "/search?q=登记&per_page=5")
    page.wait_for_load_state("networkidle")
    status = page.locator("#search-status")

    page.locator(".facets a[href*='category=marriage']").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"category=marriage"))
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'results-heading'")
    assert re.search(r"共找到 \d+ 条已开放档案", page.locator("#results-heading").inner_text())

    page.get_by_role("link", name="移除筛选：档案类别 婚姻登记").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "category" not in _params(url))
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'results-heading'")

    page.locator("#q").focus()  # away from the heading, so that the next move is the pager's
    page.locator(".pager a[rel=next]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"page=2"))
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'results-heading'")
    page.wait_for_function("() => document.querySelector('#search-status').textContent.includes('第 2 /')")
    assert "共找到" in status.inner_text()
    assert console.problems == []


def test_a_year_typed_while_an_answer_is_on_its_way_is_kept(live_server, page, console):
    page.goto(live_server["url"] + "/search?q=登记")
    page.wait_for_load_state("networkidle")
    held = []  # the live search's answer is held back while the person types a year

    def hold_the_first_live_search(route):
        if route.request.headers.get("hx-request") and not held:
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(r"/search\?"), hold_the_first_live_search)
    page.locator("#q").fill("结婚")
    page.wait_for_function("() => document.querySelector('form[role=search]').classList.contains('htmx-request')")
    page.locator("#search-year-from").focus()
    page.keyboard.type("1950")
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_url(lambda url: _params(url).get("q") == ["结婚"])
    page.wait_for_load_state("networkidle")
    assert page.locator("#search-year-from").input_value() == "1950", "what was typed is kept"
    assert _focused_id(page) == "search-year-from"
    assert console.problems == []
