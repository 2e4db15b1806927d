"""The search outbox: every catalog change queues a row in the same transaction as the change, so
the index can always be brought up to date, even after the search engine was down."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base, UTCDateTime
from portal.core.clock import utcnow


class SearchOutbox(Base):
    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not a foreign key: a deleted record is queued too. The row says only "look at this record
    # again"; the sync reads what the database holds then, so it never applies a stale change.
    record_id: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def queue_index(session: Session, record_ids: Iterable[int]) -> None:
    """Queue records for (re)indexing or removal; call before the commit that changes them."""
    rows = [{"record_id": rid, "created_at": utcnow()} for rid in record_ids]
    if rows:
        session.execute(insert(SearchOutbox), rows)
