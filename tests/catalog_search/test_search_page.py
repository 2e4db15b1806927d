"""The /search page: works without JavaScript, answers HTMX with the partial, never 500s."""
from __future__ import annotations

import pytest

from portal.catalog.indexing import get_index, sync_outbox
from portal.db import db


@pytest.fixture
def records(factory):
    archive = factory.archive()
    factory.record(archive, subject_name="韦秀英", title="结婚登记审查处理表", year=1985)
    factory.record(archive, subject_name="蓝光明", title="土地房产所有证存根", category="housing", year=1953)
    sync_outbox(db.session, get_index())


def test_plain_get_renders_full_page_with_highlighted_results(client, records):
    response = client.get("/search?q=结婚登记")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "<mark>" in html and "共找到 1 条" in html
    assert "韦*英" in html and "韦秀英" not in html.split('name="q"')[1].split("</form>")[1]
    assert "HX-Request" in response.headers.get("Vary", "")


def test_htmx_request_gets_only_the_results_partial(client, records):
    response = client.get("/search?q=结婚", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<section id="results"')


def test_a_boosted_link_inside_the_results_gets_the_results_and_a_boosted_page_link_the_page(client, records):
    """Paging and facet links are boosted inside #results and name it as their target: they get the
    part they replace. A boosted link that replaces the whole body names no target: the page."""
    inside = client.get("/search?q=结婚", headers={"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "results"})
    assert inside.get_data(as_text=True).lstrip().startswith('<section id="results"')
    whole = client.get("/search?q=结婚", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in whole.get_data(as_text=True)
    assert {"HX-Request", "HX-Boosted", "HX-Target"} <= set(whole.headers["Vary"].replace(" ", "").split(","))


def test_an_htmx_error_keeps_the_id_of_the_part_it_replaces(client, records):
    response = client.get("/search?q=a%00b", headers={"HX-Request": "true", "HX-Target": "results"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "<html" not in html
    assert html.lstrip().startswith('<div id="results" class="error-message" role="alert">')


def test_history_restore_gets_the_full_page(client, records):
    response = client.get("/search?q=结婚", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_traditional_query_finds_simplified_title_on_the_page(client, records):
    html = client.get("/search?q=結婚登記").get_data(as_text=True)
    assert "共找到 1 条" in html


def test_empty_result_explains_what_to_try(client, records):
    html = client.get("/search?q=不存在的档案词").get_data(as_text=True)
    assert "没有找到相关档案" in html and "代为查找" in html


def test_bad_parameters_show_a_message_not_a_500(client, records):
    response = client.get("/search?category=nope&q=x")
    assert response.status_code == 400 and "未知的档案类别" in response.get_data(as_text=True)


def test_page_without_a_query_invites_a_search(client):
    response = client.get("/search")
    assert response.status_code == 200 and "开始检索" in response.get_data(as_text=True)


@pytest.mark.parametrize("extra", ["_method=POST", "_external=1", "_anchor=x", "_scheme=javascript"])
def test_unknown_parameters_never_reach_the_links(client, records, extra):
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(f"/search?q=登记&{extra}", headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert 'href="http' not in html and "_method" not in html and "#x" not in html
        assert "_" not in response.headers.get("HX-Push-Url", "")
