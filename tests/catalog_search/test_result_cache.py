"""A serving process reuses the answer to a public search for SEARCH_CACHE_SECONDS (ResultCache):
the same answer within that time, a fresh one after it, per page language, and never when turned
off. Throttles count every search. That a change this process makes to the index is seen at once,
with the cache on (the default 5 s), is test_outbox.py's test_record_made_restricted_leaves_public_search."""
from __future__ import annotations

import time

import pytest
from flask_babel import refresh

from portal.catalog.indexing import get_index, sync_outbox
from portal.catalog.search import parse_query, public_search
from portal.db import db


@pytest.fixture
def indexed(session, factory):
    archive = factory.archive()
    record = factory.record(archive, title="公有住房出售审批表", category="housing")
    sync_outbox(session, get_index())
    return record


def _search(app, q: str = "住房", lang: str = "zh"):
    with app.test_request_context(f"/search?lang={lang}"):
        refresh()  # the test's app context is shared: forget the language the last call chose
        return public_search(db.session, get_index(), parse_query({"q": q}, clamp=True), clamp=True)


def test_the_same_search_within_the_time_is_the_same_answer(app, indexed):
    app.config["SEARCH_CACHE_SECONDS"] = 60
    first = _search(app)
    assert first.total == 1
    assert _search(app) is first
    assert _search(app, "审批") is not first  # another question, another answer


def test_an_answer_is_given_again_after_its_time(app, indexed):
    app.config["SEARCH_CACHE_SECONDS"] = 0.2
    first = _search(app)
    time.sleep(0.3)
    assert _search(app) is not first


def test_turned_off_every_search_asks_the_index(app, indexed):
    app.config["SEARCH_CACHE_SECONDS"] = 0
    assert _search(app) is not _search(app)


def test_pages_in_each_language_have_their_own_answers(app, indexed, client):
    app.config["SEARCH_CACHE_SECONDS"] = 60
    zh = client.get("/search?q=住房").get_data(as_text=True)
    en = client.get("/search?q=住房&lang=en").get_data(as_text=True)
    assert "住房类" in zh or "住房" in zh
    assert 'lang="en"' in en
    assert _search(app, lang="en") is not _search(app, lang="zh")
    assert _search(app, lang="en") is _search(app, lang="en")


def test_the_name_search_limit_counts_searches_answered_from_the_cache(app, factory, session, client):
    app.config["SEARCH_CACHE_SECONDS"] = 60
    app.config["NAME_SEARCH_LIMIT"] = "2 per hour"
    archive = factory.archive()
    factory.record(archive, title="结婚登记审查处理表", subject_name="王秀英", category="marriage")
    sync_outbox(session, get_index())
    answers = [client.get("/api/v1/search?q=王秀英结婚").status_code for _ in range(4)]
    assert answers[:2] == [200, 200] and 429 in answers[2:]
