"""Reading the catalog: one record as a given viewer may see it."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, contains_eager

from portal.archives.models import Archive
from portal.audit.service import log
from portal.policy import audience_for, can_see, is_subject
from portal.catalog.models import Record
from portal.core.categories import ACCESS_LEVELS, category_label
from portal.core.masking import mask_id_number, mask_name, mask_personal_text
from portal.core.personal_data import cipher


class RecordNotFound(LookupError):
    """Missing, or not visible to this viewer: both look the same from outside."""


@dataclass(frozen=True)
class RecordView:
    archive_code: str
    archive_name: str
    reference_code: str
    category: str
    category_label: str
    title: str
    subject_name: str
    subject_id_number: str
    event_date: str
    year: int
    place: str
    summary: str
    access_level: str
    access_label: str
    has_copy: bool
    full_personal_data: bool
    record_id: int = 0
    archive_id: int = 0


def present(record: Record, audience: str = "public") -> RecordView:
    """The record as an audience of portal.policy.audience_for() may see it."""
    name = record.subject_name or ""
    full = audience != "public"
    # The public never sees an ID number, not even masked: it would narrow down who the person is.
    id_number = cipher().decrypt(record.subject_id_enc) if full and record.subject_id_enc else ""
    if audience == "staff":
        id_number = mask_id_number(id_number)
    return RecordView(
        archive_code=record.archive.code,
        archive_name=record.archive.name,
        reference_code=record.reference_code,
        category=record.category,
        category_label=category_label(record.category),
        title=record.title if full else mask_personal_text(record.title, name),
        subject_name=name if full else mask_name(name),
        subject_id_number=id_number,
        event_date=record.event_date_text,
        year=record.event_year,
        place=record.place,
        summary=record.summary if full else mask_personal_text(record.summary, name),
        access_level=record.access_level,
        access_label=ACCESS_LEVELS[record.access_level],
        has_copy=bool(record.copy_path),
        full_personal_data=full,
        record_id=record.id,
        archive_id=record.archive_id,
    )


def find_records(session: Session, keys) -> dict[tuple[str, str], Record]:
    """Records by (archive code, reference code), in one query, whoever may see them."""
    keys = list(keys)
    if not keys:
        return {}
    rows = session.scalars(select(Record).join(Record.archive).options(contains_eager(Record.archive))
                           .where(tuple_(Archive.code, Record.reference_code).in_(keys)))
    return {(record.archive.code, record.reference_code): record for record in rows}


def view_record(session: Session, viewer, archive_code: str, reference_code: str, ip: str = "") -> RecordView:
    """The record as `viewer` may see it; a staff view of personal data is written to the audit log."""
    record = find_records(session, [(archive_code, reference_code)]).get((archive_code, reference_code))
    seen_as = audience_for(viewer, record) if record is not None else "public"
    if record is None or record.archive.node is not None or not can_see(record, seen_as):
        raise RecordNotFound(reference_code)  # another node's record mirrored here has its page there
    if seen_as == "staff" and (record.subject_name or record.subject_id_enc):
        log(session, "view_personal_data", actor=viewer, object_type="record", object_id=record.id, ip=ip,
            archive=archive_code, reference_code=reference_code)
        session.commit()
    return present(record, seen_as)


def records_of(session: Session, user) -> list[Record]:
    """The citizen's own records (open and restricted, never closed), by year, archive code and
    reference code. Staff have none. The indexed ID hash finds the candidates; is_subject then
    applies the same-name rule, so this list agrees with what the record pages let them see."""
    if user is None or user.role != "citizen" or not user.is_verified:
        return []
    candidates = session.scalars(
        select(Record).join(Record.archive).options(contains_eager(Record.archive))
        .where(Record.subject_id_hash == user.id_number_hash, Record.access_level != "closed", Archive.node.is_(None))
        .order_by(Record.event_year, Archive.code, Record.reference_code)
    )
    return [record for record in candidates if is_subject(user, record)]
