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
    queue_index(session, [record.id])
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


def test_a_second_drainer_leaves_the_outbox_to_the_first(session, factory):
    from portal.catalog.indexing import exclusive_sync

    archive = factory.archive()
    factory.record(archive, title="招工登记表", category="employment")
    with exclusive_sync(session.get_bind(), wait=False) as first:
        assert first
        assert sync_outbox(session, get_index()) == 0, "another drainer holds the lock"
        assert pending_count(session) == 1
    assert sync_outbox(session, get_index()) == 1 and _count("招工") == 1


def test_sync_reads_what_the_database_holds_not_what_the_session_remembers(app, session, factory):
    from sqlalchemy import update

    from portal.db import make_engine

    archive = factory.archive()
    record = factory.record(archive, title="公有住房出售审批表", category="housing")
    assert record.access_level == "open"  # loaded in this session
    other = make_engine(app.config["DATABASE_URL"])  # another process closes the record meanwhile
    with other.begin() as conn:
        conn.execute(update(Record).where(Record.id == record.id).values(access_level="closed"))
    other.dispose()
    sync_outbox(session, get_index())
    assert get_index().search(SearchQuery(q="住房")).total == 0


def test_background_worker_applies_what_was_queued(app, session, factory):
    import time

    from portal.catalog.indexing import SyncWorker

    archive = factory.archive()
    factory.record(archive, title="林权证存根", category="forest_rights")
    worker = SyncWorker(app, interval=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while pending_count(session) and time.monotonic() < deadline:
            time.sleep(0.05)
            session.rollback()  # see the worker's commits
    finally:
        worker.stop()
    assert pending_count(session) == 0 and _count("林权") == 1


def test_serving_process_starts_its_retry_worker_on_first_request(app, client):
    import threading

    from portal.catalog.indexing import retry_in_each_process

    app.config["SEARCH_SYNC_INTERVAL"] = 3600
    retry_in_each_process(app)
    before = sum(t.name == "search-sync" for t in threading.enumerate())
    client.get("/healthz")
    client.get("/healthz")
    assert sum(t.name == "search-sync" for t in threading.enumerate()) == before + 1
