"""The portal on Meilisearch: the same search, and nothing lost while the engine is down."""
from __future__ import annotations

import uuid

import pytest

from portal.catalog.indexing import get_index, pending_count, sync_after_commit, sync_outbox
from portal.db import db
from tests.conftest import make_test_app

pytestmark = pytest.mark.meilisearch


@pytest.fixture
def app(tmp_path, database_url, meili):
    """Overrides the embedded app of tests/conftest.py for this module."""
    app = make_test_app(tmp_path / "data", database_url, SEARCH_BACKEND="meilisearch", MEILI_URL=meili.url,
                        MEILI_MASTER_KEY=meili.master_key, MEILI_INDEX=f"portal_{uuid.uuid4().hex[:10]}")
    with app.app_context():
        yield app
    db.dispose(app)


def test_public_search_on_meilisearch_is_masked_and_open_only(client, factory):
    archive = factory.archive()
    factory.record(archive, subject_name="韦秀英", title="结婚登记审查处理表")
    factory.record(archive, subject_name="韦秀英", title="最低生活保障审批表", access_level="restricted")
    sync_outbox(db.session, get_index())
    body = client.get("/api/v1/search?q=韦秀英").get_json()
    assert body["backend"] == "meilisearch" and body["total"] == 1
    assert body["hits"][0]["subject_name"] == "韦*英"


def test_changes_made_while_meilisearch_is_down_reach_it_when_it_is_back(client, factory, meili):
    archive = factory.archive()
    factory.record(archive, title="土地承包经营权证登记簿", category="land_contract")
    assert sync_after_commit() == 0

    meili.pause()
    try:
        factory.record(archive, title="退伍军人安置介绍信", category="veterans")
        assert sync_after_commit() == 1, "the change stays queued"
        assert pending_count(db.session) == 1
        assert client.get("/healthz").get_json()["search"] == "down"
        page = client.get("/search?q=安置")
        assert page.status_code == 503 and "检索服务暂时不可用" in page.get_data(as_text=True)
        api = client.get("/api/v1/search?q=安置")
        assert api.status_code == 503 and "error" in api.get_json()
    finally:
        meili.resume()

    assert sync_after_commit() == 0 and pending_count(db.session) == 0
    assert client.get("/api/v1/search?q=安置").get_json()["total"] == 1
    assert client.get("/api/v1/search?q=土地承包").get_json()["total"] == 1
    assert client.get("/healthz").get_json()["search"] == "ok"
