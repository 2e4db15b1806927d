from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.archives.models import Archive
from portal.db import Base, UTCDateTime
from portal.core.clock import utcnow
from portal.requests.models import RequestFile, UtilizationRequest

# "cancelled": the request was withdrawn or rejected before this archive answered.
TASK_STATUSES = ("open", "verified", "not_found", "cancelled")
ANSWERED = ("verified", "not_found")


class VerificationTask(Base):
    """协办任务: one holding archive retrieves and verifies the records of a request that it holds
    (or searches its holdings, for "please search for me"), and answers verified or not found."""

    __tablename__ = "verification_task"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in TASK_STATUSES)})", name="status"),
        UniqueConstraint("request_id", "holding_archive_id", name="uq_verification_task_request_archive"),
        Index("ix_verification_task_queue", "holding_archive_id", "status", "due_date"),
        Index("ix_verification_task_created_at", "created_at"),  # statistics (portal.stats)
        Index("ix_verification_task_answered_at", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # the API's task_id
    request_id: Mapped[int] = mapped_column(ForeignKey("utilization_request.id", ondelete="CASCADE"), index=True)
    holding_archive_id: Mapped[int] = mapped_column(ForeignKey("archive.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")  # TASK_STATUSES
    version: Mapped[int] = mapped_column(Integer, default=1)
    due_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    # The clerk ticked "print this note on the certificate" when verifying; otherwise the
    # certificate states only the verified facts (portal.certificates.document.RecordLine).
    print_note: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    copy_file_id: Mapped[int | None] = mapped_column(ForeignKey("request_file.id"))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[UtilizationRequest] = relationship(back_populates="tasks")
    holding_archive: Mapped[Archive] = relationship(lazy="joined")
    # Loaded with the tasks: every page and answer that shows a task shows its answer too.
    copy_file: Mapped[RequestFile | None] = relationship(lazy="selectin")
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id], lazy="joined")
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id], lazy="selectin")

    __mapper_args__ = {"version_id_col": version}

    @property
    def answered(self) -> bool:
        return self.status in ANSWERED


class RequestNote(Base):
    """An internal note of staff on a request; never shown to the citizen."""

    __tablename__ = "request_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("utilization_request.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    text: Mapped[str] = mapped_column(Text)

    author: Mapped[User] = relationship(lazy="joined")
