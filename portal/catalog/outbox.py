"""The search outbox: every catalog change queues a row in the same transaction as the change, so
the index can always be brought up to date, even after the search engine was down."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import String, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class SearchOutbox(Base):
    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(index=True)  # not a foreign key: deletions are queued too
    op: Mapped[str] = mapped_column(String(10))  # "upsert" | "delete"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def queue_index(session: Session, record_ids: Iterable[int], op: str = "upsert") -> None:
    """Queue records for (re)indexing; call before the commit that changes them."""
    rows = [{"record_id": rid, "op": op, "created_at": utcnow()} for rid in record_ids]
    if rows:
        session.execute(insert(SearchOutbox), rows)
