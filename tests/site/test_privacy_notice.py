"""The personal-information notice: a page of its own, versioned, in Chinese and English, linked
from the footer of every page."""
from __future__ import annotations

import pytest

from portal.accounts.notice import NOTICE
from tests.helpers import select_one, text, texts


@pytest.mark.parametrize(("lang", "title", "version"), [
    ("zh", "个人信息处理说明", f"版本 {NOTICE.version}，自 {NOTICE.effective.isoformat()} 起施行。"),
    ("en", "Personal Information Notice", f"Version {NOTICE.version}, in force from {NOTICE.effective.isoformat()}."),
])
def test_the_notice_shows_its_version_and_effective_date(client, lang, title, version):
    response = client.get(f"/privacy?lang={lang}")
    assert response.status_code == 200
    assert text(select_one(response, "h1")) == title
    assert text(select_one(response, "#notice-version")) == version


def test_the_notice_says_what_why_how_long_who_and_the_rights_with_their_links(client):
    page = client.get("/privacy")
    assert texts(page, "h2") == ["我们收集哪些信息", "为什么处理", "保存多久", "谁能看到", "您的权利"]
    rights = select_one(page, "section[aria-labelledby=rights-h]")
    assert {a["href"] for a in rights.select("a")} == {"/account/data", "/account/close"}


def test_the_english_notice_has_no_chinese_left(client):
    article = select_one(client.get("/privacy?lang=en"), "article")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text(article))


def test_every_page_links_to_the_notice_from_its_footer(client):
    link = select_one(client.get("/"), "footer a#footer-privacy")
    assert link is not None and link["href"] == "/privacy"
