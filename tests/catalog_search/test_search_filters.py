"""The /search page's filters, messages and paging (issue 15): an htmx answer brings the form's filters,
the live region and the title with it; messages name fields in words, in the page's language; a page
past the last shows the last one."""
from __future__ import annotations

import pytest

from portal.catalog.indexing import get_index, sync_outbox
from portal.db import db
from tests.helpers import parse, select_all, select_one, text

HTMX = {"HX-Request": "true", "HX-Target": "results"}


@pytest.fixture
def records(factory):
    archive = factory.archive()
    for i in range(7):
        factory.record(archive, subject_name="韦秀英", title=f"结婚登记审查处理表 {i}", year=1980 + i)
    factory.record(archive, subject_name="蓝光明", title="土地房产所有证存根", category="housing", year=1953)
    sync_outbox(db.session, get_index())


def test_an_htmx_answer_brings_the_filters_the_count_and_the_title_out_of_band(client, records):
    response = client.get("/search?q=结婚&category=marriage&archive=451200&year_from=&per_page=5", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="results"')
    filters = select_one(html, "#search-filters[hx-swap-oob=innerHTML]")
    assert filters.select_one("select[name=category] option[selected]")["value"] == "marriage"
    assert filters.select_one("input[name=archive]")["value"] == "451200"
    assert filters.select_one("input[name=per_page]")["value"] == "5"
    chips = {a["aria-label"]: a["href"] for a in filters.select(".filter-chips a")}
    assert chips == {"移除筛选：档案类别 婚姻登记": "/search?q=%E7%BB%93%E5%A9%9A&archive=451200&per_page=5",
                     "移除筛选：档案馆 河池市档案馆": "/search?q=%E7%BB%93%E5%A9%9A&category=marriage&per_page=5"}
    status = select_one(html, "#search-status[hx-swap-oob=innerHTML]")
    assert status["role"] == "status" and text(status) == "共找到 7 条已开放档案 · 第 1 / 2 页"
    assert select_one(html, "#results").get("aria-live") is None
    # A <title> at the top level of the answer, which htmx applies.
    assert [t.parent.name for t in parse(html).find_all("title")] == ["body"]
    assert text(select_one(html, "title")) == "档案检索：结婚 · 档案利用服务平台"
    assert response.headers["HX-Push-Url"] == "/search?q=%E7%BB%93%E5%A9%9A&category=marriage&archive=451200&per_page=5"


def test_the_full_page_has_one_filter_block_and_one_live_region(client, records):
    html = client.get("/search?q=结婚&year_from=1980&year_to=1989").get_data(as_text=True)
    assert len(select_all(html, "#search-filters")) == 1 and len(select_all(html, "#search-status")) == 1
    assert select_one(html, "#search-filters").get("hx-swap-oob") is None
    assert text(select_one(html, "head title")) == "档案检索：结婚 · 档案利用服务平台"
    assert [a["aria-label"] for a in select_all(html, ".filter-chips a")] == ["移除筛选：年份 1980–1989"]


def test_english_chips_and_title(client, records):
    html = client.get("/search?lang=en&q=结婚&archive=451200&year_from=1980", headers=HTMX).get_data(as_text=True)
    labels = [a["aria-label"] for a in select_all(html, ".filter-chips a")]
    assert labels == ["Remove filter: Archive 河池市档案馆", "Remove filter: From 1980"]
    assert text(select_one(html, "title")) == "Search records: 结婚 · Archive Access Portal"
    assert text(select_one(html, "#search-status")) == "Open records found: 7"


def test_an_archive_chip_is_named_even_when_nothing_is_found(client, records):
    html = client.get("/search?q=不存在的档案词&archive=451200").get_data(as_text=True)
    assert [a["aria-label"] for a in select_all(html, ".filter-chips a")] == ["移除筛选：档案馆 河池市档案馆"]
    assert text(select_one(html, "#results-heading")) == "没有找到相关档案。"


@pytest.mark.parametrize("query, zh, en", [
    ("page=abc", "页码应为整数", "The page number must be a whole number"),
    ("per_page=abc", "每页条数应为整数", "The number of results per page must be a whole number"),
    ("year_from=abc", "起始年份应为整数", "The from year must be a whole number"),
    ("year_to=abc", "截止年份应为整数", "The to year must be a whole number"),
    ("year_from=99999", "起始年份应在 1000 至", "The from year must be between 1000 and"),
    ("year_to=999", "截止年份应在 1000 至", "The to year must be between 1000 and"),
])
def test_messages_name_the_field_in_words_in_the_pages_language(client, records, query, zh, en):
    param = query.split("=")[0]
    for lang, expected in (("zh", zh), ("en", en)):
        response = client.get(f"/search?lang={lang}&q=结婚&{query}")
        message = text(select_one(response, "#results [role=alert]"))
        assert response.status_code == 400 and expected in message, message
        assert "_" not in message and not message.startswith(param), "a field's name, not the parameter's"
        if lang == "zh":
            assert param not in message


def test_a_page_past_the_last_shows_the_last_and_says_so(client, records):
    for lang, notice in (("zh", "没有第 99 页，显示的是最后一页。"), ("en", "There is no page 99; this is the last page.")):
        response = client.get(f"/search?lang={lang}&q=结婚&per_page=5&page=99")
        assert response.status_code == 200
        assert len(select_all(response, "#results .hit")) == 2
        assert notice in text(select_one(response, "#results"))
    response = client.get("/search?lang=zh&q=结婚&per_page=5&page=99", headers=HTMX)
    assert response.headers["HX-Push-Url"] == "/search?q=%E7%BB%93%E5%A9%9A&page=2&per_page=5"
    assert "没有第 99 页" in text(select_one(response, "#search-status"))


def test_the_api_still_answers_an_empty_page_past_the_last(client, records):
    body = client.get("/api/v1/search?q=结婚&per_page=5&page=99").get_json()
    assert body["page"] == 99 and body["hits"] == [] and body["total"] == 7


@pytest.mark.parametrize("category", ['<i hx-post=/logout hx-trigger=load>"', "50%off", "%(x)s %d"])
def test_an_unknown_category_is_text_in_its_chip_never_markup(client, records, category):
    response = client.get("/search", query_string={"q": "结婚", "category": category})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "<i hx-post" not in body and "hx-trigger=load" not in body.replace("hx-trigger=load&", "")
    chip = select_one(response, ".filter-chips a")
    assert category[:40] in chip.get("aria-label") and category[:40] in text(chip)
