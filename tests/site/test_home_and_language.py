"""The home page and the language switch."""
from __future__ import annotations

from portal.core.categories import CATEGORIES


def test_home_lists_archives_categories_and_the_search_box(client, factory):
    factory.archive(code="451200", name="河池市档案馆")
    factory.archive(code="450100", name="南宁市档案馆", region="南宁市")
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "<title>档案利用服务平台</title>" in page
    assert 'role="search"' in page and 'name="q"' in page
    assert "河池市档案馆" in page and "南宁市档案馆" in page
    for label in CATEGORIES.values():
        assert label in page


def test_home_without_archives_says_so(client):
    assert "暂无档案馆信息" in client.get("/").get_data(as_text=True)


def test_lang_en_sets_a_cookie_and_the_html_lang(client):
    response = client.get("/?lang=en")
    assert '<html lang="en">' in response.get_data(as_text=True)
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en"
    assert cookie.max_age and cookie.max_age >= 300 * 86400
    assert "SameSite=Lax" in response.headers["Set-Cookie"]


def test_language_choice_sticks_through_the_cookie(client):
    client.get("/?lang=en")
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_lang_zh_switches_back_to_chinese(client):
    client.get("/?lang=en")
    response = client.get("/?lang=zh")
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)
    assert client.get_cookie("lang").value == "zh"
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


def test_unknown_lang_value_is_ignored(client):
    response = client.get("/?lang=fr")
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)
    assert client.get_cookie("lang") is None


def test_pages_vary_on_hx_request(client):
    assert "HX-Request" in client.get("/").headers["Vary"]
