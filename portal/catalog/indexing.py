"""Keeping the search index true to the database: which index this app uses, what a record looks
like in it, draining the outbox, and rebuilding from scratch."""
from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy import Connection, Engine, delete, func, select, text
from sqlalchemy.orm import Session, selectinload

from portal.catalog import search
from portal.catalog.copies import copy_text
from portal.archives.models import Archive
from portal.catalog.models import Record
from portal.catalog.outbox import SearchOutbox
from portal.core.categories import category_label
from portal.core.masking import mask_name, mask_personal_text
from portal.db import db
from portal.core.background import Worker, in_each_process
from search_index import SearchIndex, SearchUnavailable, open_index

log = logging.getLogger(__name__)
BATCH = 1000
SYNC_LOCK_KEY = 0x5EA2C4  # PostgreSQL advisory-lock key for draining the search outbox
_open_lock = threading.Lock()


def get_index(app: Flask | None = None) -> SearchIndex:
    app = app or current_app._get_current_object()
    index = app.extensions.get("search_index")
    if index is None:
        with _open_lock:  # two first requests at once must not open two indexes
            index = app.extensions.get("search_index")
            if index is None:
                index = open_index(app.config["SEARCH_BACKEND"], data_dir=app.config["DATA_DIR"],
                                   name_secret=app.extensions["personal_data"].search_name_secret,
                                   meili_url=app.config["MEILI_URL"], meili_key=app.config["MEILI_MASTER_KEY"],
                                   index_name=app.config.get("MEILI_INDEX", "records"))
                app.extensions["search_index"] = index
    return index


def get_public_index(app: Flask | None = None):
    """The public index (search_index.meili_public) peers' engines search, or None: kept only on a
    node (`portal node init`) whose search engine is Meilisearch."""
    app = app or current_app._get_current_object()
    if app.config["SEARCH_BACKEND"] != "meilisearch":
        return None
    from portal.federation.node import this_node

    if this_node() is None:
        return None
    index = app.extensions.get("public_search_index")
    if index is None:
        with _open_lock:
            index = app.extensions.get("public_search_index")
            if index is None:
                from search_index.meili_public import PublicMeiliIndex

                index = PublicMeiliIndex(app.config["MEILI_URL"], app.config["MEILI_MASTER_KEY"],
                                         app.extensions["personal_data"].search_name_secret,
                                         app.config.get("MEILI_PUBLIC_INDEX", "public_records"))
                app.extensions["public_search_index"] = index
    return index


def public_document(record: Record, node: str) -> dict:
    """What peers' engines may read of an open record (search_index.meili_public.PUBLIC_FIELDS):
    what an anonymous visitor sees, and the record's public page."""
    from portal.web_util import public_url

    name = record.subject_name or ""
    return {"id": str(record.id), "reference_code": record.reference_code,
            "title": mask_personal_text(record.title, name), "summary": mask_personal_text(record.summary, name),
            "category": record.category, "archive_code": record.archive.code, "archive_name": record.archive.name,
            "year": record.event_year, "place": record.place or "", "subject_mask": mask_name(name),
            "url": public_url("catalog.record", archive_code=record.archive.code, reference_code=record.reference_code),
            "node": node}


def _sync_public(records: list[Record], gone: set[int]) -> None:
    """Mirror a batch of changes into the public index: open records in, any other out."""
    public = get_public_index()
    if public is None:
        return
    from portal.federation.node import this_node

    node = this_node().name
    public.upsert([public_document(r, node) for r in records if r.access_level == "open"])
    public.delete([str(r.id) for r in records if r.access_level != "open"] + [str(rid) for rid in gone])


def _rebuild_public(session: Session, batch: int) -> None:
    public = get_public_index()
    if public is None:
        return
    from portal.federation.node import this_node

    node = this_node().name

    def documents() -> Iterator[dict]:
        last_id = 0
        while True:
            records = session.scalars(select(Record).where(Record.id > last_id, Record.access_level == "open")
                                      .order_by(Record.id).limit(batch)).all()
            if not records:
                return
            yield from (public_document(r, node) for r in records)
            last_id = records[-1].id
            session.expunge_all()
    public.rebuild(documents())


def search_health() -> bool:
    try:
        return get_index().health()
    except Exception:  # noqa: BLE001 — a health probe reports, it does not fail
        return False


def record_document(record: Record) -> dict:
    """What the index is given: displayed text already masked; the full name to be found by (the
    index keeps only a keyed token of it) and its masked form; no ID numbers at all."""
    name = record.subject_name or ""
    return {
        "id": str(record.id),
        "reference_code": record.reference_code,
        "title": mask_personal_text(record.title, name),
        "category": record.category,
        "category_label": category_label(record.category),
        "archive_code": record.archive.code,
        "archive_name": record.archive.name,
        "year": record.event_year,
        "place": record.place or "",
        "summary": mask_personal_text(record.summary, name),
        "subject_name": name,
        "subject_mask": mask_name(name),
        "access_level": record.access_level,
        # Masked text of its digitized copies, for open records only (found, never shown).
        "copy_text": mask_personal_text(copy_text(record), name),  # names masked like the summary
    }


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SearchOutbox)) or 0


@contextmanager
def exclusive_sync(bind: Engine | Connection, wait: bool) -> Iterator[bool]:
    """One drainer or rebuild at a time for a database, across processes. Two drainers could
    apply an older snapshot of a record after a newer one, and a rebuild would swap away what a
    drainer applied meanwhile. Yields whether the lock is ours (always, with wait=True).
    `bind` is a session's bind: an engine, or a connection (tests bind sessions to one)."""
    engine = bind.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            fn = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
            got = conn.execute(text(f"SELECT {fn}(:key)"), {"key": SYNC_LOCK_KEY}).scalar() is not False
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SYNC_LOCK_KEY})
                conn.rollback()
        return
    # SQLite: a lock file beside the database file (separate opens conflict, even in one process).
    with open(f"{engine.url.database}.search-sync.lock", "a+b") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True


def sync_outbox(session: Session, index: SearchIndex, batch: int = BATCH) -> int:
    """Apply queued changes to the index, oldest first; returns how many rows were applied.
    Rows are removed only after the index accepted them, so an engine outage loses nothing:
    SearchUnavailable propagates and the rows wait for the next run. If another process is
    draining already, returns 0 at once: that one carries on until the outbox is empty."""
    with exclusive_sync(session.get_bind(), wait=False) as ours:
        if not ours:
            return 0
        applied = 0
        while True:
            rows = session.execute(select(SearchOutbox.id, SearchOutbox.record_id)
                                   .order_by(SearchOutbox.id).limit(batch)).all()
            if not rows:
                return applied
            record_ids = {rid for _, rid in rows}
            # What the database holds now, not what this session loaded earlier.
            records = session.scalars(select(Record).where(Record.id.in_(record_ids)).options(selectinload(Record.copies))
                                      .execution_options(populate_existing=True)).all()
            index.upsert([record_document(r) for r in records])
            gone = record_ids - {r.id for r in records}
            if gone:
                index.delete([str(rid) for rid in gone])
            _sync_public(list(records), gone)
            # Exactly the rows read: one committed meanwhile with a lower id waits for the next round.
            session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([row_id for row_id, _ in rows])))
            session.commit()
            search.results.forget()
            applied += len(rows)


def _all_documents(session: Session, batch: int) -> Iterator[dict]:
    last_id = 0
    while True:
        # Another node's records mirrored here (portal.federation.records) are never indexed here.
        records = session.scalars(select(Record).where(Record.id > last_id, Record.archive_id.in_(
            select(Archive.id).where(Archive.node.is_(None)))).options(selectinload(Record.copies))
                                  .order_by(Record.id).limit(batch)).all()
        if not records:
            return
        for record in records:
            yield record_document(record)
        last_id = records[-1].id
        session.expunge_all()


def reindex(session: Session, index: SearchIndex, progress: Callable[[int], None] | None = None,
            batch: int = 5000) -> int:
    """Rebuild the index from the database. Outbox rows queued before the rebuild started are
    covered by it; later ones stay queued for the next sync, which waits for the rebuild."""
    with exclusive_sync(session.get_bind(), wait=True):
        covered = session.scalar(select(func.max(SearchOutbox.id))) or 0
        session.commit()  # read the catalog in a fresh transaction, after `covered`
        count = index.rebuild(_all_documents(session, batch), progress=progress)
        _rebuild_public(session, batch)
        search.results.forget()
        session.execute(delete(SearchOutbox).where(SearchOutbox.id <= covered))
        session.commit()
        return count


def sync_after_commit() -> int:
    """Called after a change commits: apply it now if the engine is up; if not, it stays queued.
    Returns how many changes are still waiting (0 when the index is up to date)."""
    try:
        sync_outbox(db.session, get_index())
        return 0
    except SearchUnavailable as exc:
        db.session.rollback()
        log.warning("search index not updated, changes stay queued: %s", exc)
        return pending_count(db.session)


class SyncWorker(Worker):
    """Retries the outbox in the background of a serving process, so changes queued while the
    engine was down reach it once it is back."""

    name = "search-sync"
    failure = "search sync failed"

    def work(self) -> None:
        try:
            sync_outbox(db.session, get_index(self.app))
        except SearchUnavailable:  # still down: the changes stay queued for the next round
            db.session.rollback()


def retry_in_each_process(app: Flask) -> None:
    """A SyncWorker in every serving process (portal.core.background.in_each_process)."""
    in_each_process(app, "search_sync", lambda: SyncWorker(app, app.config["SEARCH_SYNC_INTERVAL"]))
