from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.archives.models import Archive
from portal.db import Base, UTCDateTime
from portal.core.clock import utcnow


class Record(Base):
    """One catalog entry (档案条目) held by an archive."""

    __tablename__ = "record"
    __table_args__ = (
        UniqueConstraint("archive_id", "reference_code", name="uq_record_archive_reference"),
        CheckConstraint("access_level IN ('open', 'restricted', 'closed')", name="access_level"),
        CheckConstraint("event_month IS NULL OR (event_month BETWEEN 1 AND 12)", name="event_month"),
        CheckConstraint("event_day IS NULL OR (event_month IS NOT NULL AND event_day BETWEEN 1 AND 31)", name="event_day"),
        Index("ix_record_subject_id_hash", "subject_id_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("archive.id"))
    reference_code: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(300))
    subject_name: Mapped[str] = mapped_column(String(50), default="")
    subject_id_enc: Mapped[str | None] = mapped_column(String(200))
    subject_id_hash: Mapped[str | None] = mapped_column(String(64))
    event_year: Mapped[int] = mapped_column(SmallInteger)
    event_month: Mapped[int | None] = mapped_column(SmallInteger)
    event_day: Mapped[int | None] = mapped_column(SmallInteger)
    place: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    access_level: Mapped[str] = mapped_column(String(10), default="open")
    # Path of the digitized copy, relative to the data dir.
    copy_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    archive: Mapped[Archive] = relationship(lazy="joined")

    @property
    def event_date_text(self) -> str:
        parts = [f"{self.event_year:04d}"]
        if self.event_month:
            parts.append(f"{self.event_month:02d}")
            if self.event_day:
                parts.append(f"{self.event_day:02d}")
        return "-".join(parts)
