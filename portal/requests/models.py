from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.archives.models import Archive
from portal.catalog.models import Record
from portal.db import Base, UTCDateTime
from portal.core.clock import utcnow
from portal.requests.labels import DELIVERY_LABELS, FILE_LABELS, PURPOSE_LABELS, RELATION_LABELS

STATUSES = ("submitted", "in_review", "needs_supplement", "approved", "issued", "rejected", "withdrawn")
OPEN_STATUSES = ("submitted", "in_review", "needs_supplement", "approved")
# Each code list is its label table's keys (portal.requests.labels), so the two cannot drift apart.
RELATIONS = tuple(RELATION_LABELS)
PURPOSES = tuple(PURPOSE_LABELS)
DELIVERIES = tuple(DELIVERY_LABELS)
FILE_KINDS = tuple(FILE_LABELS)  # what citizens upload
STAFF_FILE_KINDS = ("certified_copy",)  # what a holding archive attaches when it verifies


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UtilizationRequest(Base):
    """A citizen's application (利用申请) to use records, or to have an archive search for them."""

    __tablename__ = "utilization_request"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("relation", RELATIONS), name="relation"),
        CheckConstraint(_in("purpose", PURPOSES), name="purpose"),
        CheckConstraint(_in("delivery", DELIVERIES), name="delivery"),
        CheckConstraint("kind IN ('records', 'search')", name="kind"),
        # A retried submission (double click, timeout, API retry) finds the request it already made.
        UniqueConstraint("applicant_id", "idempotency_key", name="uq_utilization_request_idempotency"),
        Index("ix_utilization_request_applicant_status", "applicant_id", "status"),
        # The queue reads its tabs in due-date order straight from these (bench/queue.py).
        Index("ix_utilization_request_queue", "issuing_archive_id", "status", "due_date", "id"),
        Index("ix_utilization_request_issuing_due", "issuing_archive_id", "due_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Read over the phone: {issuing archive code}-{year}-{6 digits}. URLs use it, never `id`.
    number: Mapped[str] = mapped_column(String(32), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    issuing_archive_id: Mapped[int] = mapped_column(ForeignKey("archive.id"))
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    version: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(10))  # "records" or "search" (please search for me)
    # How it reached the archive (statistics): "web", "api", or "counter" (a walk-in a clerk registered).
    channel: Mapped[str] = mapped_column(String(10), default="web", server_default="web")
    relation: Mapped[str] = mapped_column(String(12))
    purpose: Mapped[str] = mapped_column(String(12))
    purpose_note: Mapped[str] = mapped_column(String(200), default="")
    # Whose records: the applicant's own, or another person's (name and encrypted ID number).
    subject_name: Mapped[str] = mapped_column(String(50))
    subject_id_enc: Mapped[str] = mapped_column(String(200))
    subject_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    # "Please search for me": what to look for.
    search_category: Mapped[str] = mapped_column(String(32), default="")
    search_year_from: Mapped[int | None] = mapped_column(SmallInteger)
    search_year_to: Mapped[int | None] = mapped_column(SmallInteger)
    search_place: Mapped[str] = mapped_column(String(200), default="")
    delivery: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(200), default="")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    due_date: Mapped[date] = mapped_column(Date)
    # "I'm handling this": which staff member of the issuing archive works on it now.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id], lazy="joined")
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id], lazy="joined")
    issuing_archive: Mapped[Archive] = relationship(lazy="joined")
    items: Mapped[list[RequestRecord]] = relationship(back_populates="request", order_by="RequestRecord.position",
                                                      cascade="all, delete-orphan")
    search_archives: Mapped[list[RequestSearchArchive]] = relationship(cascade="all, delete-orphan")
    events: Mapped[list[RequestEvent]] = relationship(back_populates="request", order_by="RequestEvent.id",
                                                      cascade="all, delete-orphan")
    files: Mapped[list[RequestFile]] = relationship(back_populates="request", order_by="RequestFile.id")
    tasks: Mapped[list["VerificationTask"]] = relationship(back_populates="request", order_by="VerificationTask.id")
    # Oldest first; a revoked one stays on record when a new one is issued in its place.
    certificates: Mapped[list["Certificate"]] = relationship(back_populates="request", order_by="Certificate.id")

    # Optimistic locking: an UPDATE that finds another version raises StaleDataError.
    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def certificate(self) -> "Certificate | None":
        """The latest certificate (valid, or revoked and not yet replaced), if any was issued."""
        return self.certificates[-1] if self.certificates else None

    def __repr__(self) -> str:
        return f"<UtilizationRequest {self.number} {self.status}>"


class RequestRecord(Base):
    """One requested record."""

    __tablename__ = "request_record"

    request_id: Mapped[int] = mapped_column(ForeignKey("utilization_request.id", ondelete="CASCADE"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    request: Mapped[UtilizationRequest] = relationship(back_populates="items")
    record: Mapped[Record] = relationship(lazy="joined")


class RequestSearchArchive(Base):
    """An archive the citizen thinks may hold what a "please search for me" request looks for."""

    __tablename__ = "request_search_archive"

    request_id: Mapped[int] = mapped_column(ForeignKey("utilization_request.id", ondelete="CASCADE"), primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("archive.id"), primary_key=True, index=True)

    archive: Mapped[Archive] = relationship(lazy="joined")


class RequestEvent(Base):
    """One step on a request's timeline: who (and in which role) moved it from where to where, and why."""

    __tablename__ = "request_event"
    # The statistics count events of one action in a date range (portal.stats.figures).
    __table_args__ = (Index("ix_request_event_action_at", "action", "at", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("utilization_request.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[UtilizationRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")


class RequestFile(Base):
    """An uploaded proof or supplement. Stored under the data dir with a random name; `request_id`
    is empty while it waits for a form to be corrected and submitted (a draft of its owner)."""

    __tablename__ = "request_file"
    __table_args__ = (CheckConstraint(_in("kind", FILE_KINDS + STAFF_FILE_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # unguessable, for URLs
    request_id: Mapped[int | None] = mapped_column(ForeignKey("utilization_request.id", ondelete="CASCADE"),
                                                   index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("request_event.id"))
    kind: Mapped[str] = mapped_column(String(24))
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[UtilizationRequest | None] = relationship(back_populates="files")


def holding_archives(request: UtilizationRequest) -> list[Archive]:
    """Where the records are: the requested records' archives, or the archives asked to search."""
    found = {item.record.archive.code: item.record.archive for item in request.items}
    found.update({entry.archive.code: entry.archive for entry in request.search_archives})
    return [found[code] for code in sorted(found)]


def involved_archive_ids(request: UtilizationRequest) -> set[int]:
    """The issuing archive and the holding archives."""
    return {request.issuing_archive_id, *(archive.id for archive in holding_archives(request))}
