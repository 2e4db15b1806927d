"""An open-appraisal batch (鉴定批次): the records a filter chose, snapshotted as items, and each
stage's opinion on each item. Archives Law 2020 art. 27; NAA order no. 19 (2022): first review
(初审), second review (复审), decision (审定), each by a different person."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.archives.models import Archive
from portal.core.clock import utcnow
from portal.db import Base, UTCDateTime

BATCH_STATUSES = ("first_review", "second_review", "decision", "decided", "cancelled")
# The stage each open status is in; the column of its reviewer is "<stage>_reviewer_id".
STAGES = {"first_review": "first", "second_review": "second", "decision": "final"}
DECISIONS = ("open", "postponed", "keep")


class AppraisalBatch(Base):
    __tablename__ = "appraisal_batch"
    __table_args__ = (
        UniqueConstraint("archive_id", "number", name="uq_appraisal_batch_number"),
        CheckConstraint("status IN ('first_review', 'second_review', 'decision', 'decided', 'cancelled')",
                        name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("archive.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)               # 1, 2, … within the archive
    status: Mapped[str] = mapped_column(String(20), default="first_review")
    # The filter that chose the items ("" / None: any).
    category: Mapped[str] = mapped_column(String(32), default="")
    year_from: Mapped[int | None] = mapped_column(SmallInteger)
    year_to: Mapped[int | None] = mapped_column(SmallInteger)
    as_of: Mapped[date] = mapped_column(Date)                  # China date the 25 years were counted to
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    first_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    second_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    final_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_on: Mapped[date | None] = mapped_column(Date)       # China date; the open catalogue's date
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    archive: Mapped[Archive] = relationship(lazy="joined")

    # Optimistic locking: two reviewers acting at once, the second UPDATE finds no row.
    __mapper_args__ = {"version_id_col": version}

    @property
    def stage(self) -> str | None:
        return STAGES.get(self.status)


class AppraisalItem(Base):
    """One record of a batch, as it was when the batch was made (its access level then)."""
    __tablename__ = "appraisal_item"
    __table_args__ = (UniqueConstraint("batch_id", "record_id", name="uq_appraisal_item_record"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("appraisal_batch.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    access_before: Mapped[str] = mapped_column(String(10))


class AppraisalOpinion(Base):
    """A stage's opinion on one item: open, postpone (with a reason and a date to look again), or
    keep as it is. The decision stage's ("final") opinions are what happens."""
    __tablename__ = "appraisal_opinion"
    __table_args__ = (
        UniqueConstraint("item_id", "stage", name="uq_appraisal_opinion_stage"),
        CheckConstraint("stage IN ('first', 'second', 'final')", name="stage"),
        CheckConstraint("decision IN ('open', 'postponed', 'keep')", name="decision"),
        CheckConstraint("decision != 'postponed' OR review_on IS NOT NULL", name="postponed_review_on"),
        Index("ix_appraisal_opinion_stage_decision", "stage", "decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("appraisal_item.id"))
    stage: Mapped[str] = mapped_column(String(10))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(500), default="")
    review_on: Mapped[date | None] = mapped_column(Date)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
