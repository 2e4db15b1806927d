"""The database is the source of truth: queued changes reach the index, reindex rebuilds it."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.catalog.indexing import get_index, pending_count, reindex, sync_outbox
from portal.catalog.models import Record
from portal.catalog.outbox import SearchOutbox, queue_index
from search_index import SearchQuery


def _count(q: str = "") -> int:
    return get_index().search(SearchQuery(q=q, access_levels=("open", "restricted", "closed"))).total


def test_sync_applies_queued_changes_and_empties_the_outbox(session, factory):
    archive = factory.archive()
    factory.record(archive, title="招工登记表", category="employment")
    assert pending_count(session) == 1
    assert sync_outbox(session, get_index()) == 1
    assert pending_count(session) == 0 and _count("招工") == 1


def test_deleted_record_is_removed_from_the_index(session, factory):
    archive = factory.archive()
    record = factory.record(archive, title="退伍军人安置介绍信", category="veterans")
    sync_outbox(session, get_index())
    session.delete(record)
    queue_index(session, [record.id], op="delete")
    session.commit()
    sync_outbox(session, get_index())
    assert _count("安置") == 0


def test_record_made_restricted_leaves_public_search(session, factory, client):
    archive = factory.archive()
    record = factory.record(archive, title="公有住房出售审批表", category="housing")
    sync_outbox(session, get_index())
    assert client.get("/api/v1/search?q=住房").get_json()["total"] == 1
    record.access_level = "restricted"
    queue_index(session, [record.id])
    session.commit()
    sync_outbox(session, get_index())
    assert client.get("/api/v1/search?q=住房").get_json()["total"] == 0


def test_reindex_rebuilds_from_the_database(session, factory):
    archive = factory.archive()
    for i in range(3):
        factory.record(archive, title=f"林权证存根 {i}", category="forest_rights")
    sync_outbox(session, get_index())
    get_index().delete([str(r) for r in session.scalars(select(Record.id))])
    assert _count("林权") == 0
    queue_index(session, [999_999])  # queued before the rebuild: covered by it
    session.commit()
    assert reindex(session, get_index()) == session.scalar(select(func.count()).select_from(Record)) == 3
    assert _count("林权") == 3
    assert session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
