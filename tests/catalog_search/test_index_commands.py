"""`portal sync-index` and `portal reindex`, as an archive's IT officer runs them."""
from __future__ import annotations

from portal.catalog.indexing import get_index, pending_count
from search_index import SearchQuery


def test_sync_index_applies_the_queue(app, session, factory):
    factory.record(factory.archive(), title="招工登记表", category="employment")
    result = app.test_cli_runner().invoke(args=["sync-index"])
    assert result.exit_code == 0, result.output
    assert "已同步 1 条" in result.output and pending_count(session) == 0


def test_reindex_rebuilds_and_reports_the_count(app, session, factory):
    archive = factory.archive()
    for i in range(3):
        factory.record(archive, title=f"学生学籍卡 {i}", category="education")
    result = app.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "已重建检索索引：3 条档案" in result.output
    assert get_index().search(SearchQuery(q="学籍")).total == 3 and pending_count(session) == 0


def test_seed_demo_leaves_a_searchable_catalog(app, session):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--records", "50"])
    assert result.exit_code == 0, result.output
    assert pending_count(session) == 0
    assert get_index().search(SearchQuery()).total > 0
