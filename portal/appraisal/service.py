"""Open appraisal's reading and making: which records are due (the proposal), a new batch (its
records snapshotted as items), a batch's items with each stage's opinion, and the open catalogue
an archive publishes of what its decided batches opened. The stages themselves are actions of the
one dispatcher (portal.actions.act, declared in portal.actions.table; steps in portal.appraisal.stages)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import policy
from portal.appraisal.models import AppraisalBatch, AppraisalItem, AppraisalOpinion
from portal.archives.models import Archive
from portal.audit.service import log
from portal.catalog.models import Record
from portal.catalog.service import present
from portal.core.categories import CATEGORIES, category_label
from portal.core.clock import china_today
from portal.core.errors import Conflict, NotAllowed, ValidationFailed

OPEN_AFTER_YEARS = 25     # Archives Law 2020, art. 27
MAX_ITEMS = 2000          # one batch is what three people can read through; the rest waits for the next
PREVIEW = 20
PER_PAGE = 200          # items on one page of a batch (opinions in bulk reach them all)


@dataclass(frozen=True)
class Proposal:
    category: str = ""
    year_from: int | None = None
    year_to: int | None = None
    as_of: date | None = None

    def problems(self) -> dict:
        errors = {}
        if self.category and self.category not in CATEGORIES:
            errors["category"] = _l("未知的档案类别")
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            errors["year_to"] = _l("结束年份不能早于起始年份")
        return errors


def due_conditions(archive_id: int, proposal: Proposal) -> list:
    """Records of the archive due for appraisal on `as_of` (China time, today by default): not yet
    open; formed 25 or more years before (a date without its month or day counts from the latest
    day it can be, so nothing is proposed early); in no batch under way; not postponed to a later
    date by a decided batch; and within the filter."""
    as_of = proposal.as_of or china_today()
    year, month, day = as_of.year - OPEN_AFTER_YEARS, as_of.month, as_of.day
    formed_month, formed_day = func.coalesce(Record.event_month, 12), func.coalesce(Record.event_day, 31)
    under_way = (select(AppraisalItem.record_id).join(AppraisalBatch, AppraisalBatch.id == AppraisalItem.batch_id)
                 .where(AppraisalBatch.archive_id == archive_id,
                        AppraisalBatch.status.in_(("first_review", "second_review", "decision"))))
    postponed = (select(AppraisalItem.record_id).join(AppraisalOpinion, AppraisalOpinion.item_id == AppraisalItem.id)
                 .join(AppraisalBatch, AppraisalBatch.id == AppraisalItem.batch_id)
                 .where(AppraisalBatch.archive_id == archive_id, AppraisalBatch.status == "decided",
                        AppraisalOpinion.stage == "final", AppraisalOpinion.decision == "postponed",
                        AppraisalOpinion.review_on > as_of))
    conditions = [
        Record.archive_id == archive_id, Record.access_level != "open",
        or_(Record.event_year < year,
            and_(Record.event_year == year,
                 or_(formed_month < month, and_(formed_month == month, formed_day <= day)))),
        Record.id.not_in(under_way), Record.id.not_in(postponed),
    ]
    if proposal.category:
        conditions.append(Record.category == proposal.category)
    if proposal.year_from is not None:
        conditions.append(Record.event_year >= proposal.year_from)
    if proposal.year_to is not None:
        conditions.append(Record.event_year <= proposal.year_to)
    return conditions


def due_by_category(session: Session, archive_id: int, proposal: Proposal) -> dict[str, int]:
    rows = session.execute(select(Record.category, func.count()).where(*due_conditions(archive_id, proposal))
                           .group_by(Record.category).order_by(Record.category))
    return {category: n for category, n in rows}


def preview(session: Session, archive_id: int, proposal: Proposal, limit: int = PREVIEW) -> list[Record]:
    return list(session.scalars(select(Record).where(*due_conditions(archive_id, proposal))
                                .order_by(Record.category, Record.event_year, Record.reference_code).limit(limit)))


def create_batch(session: Session, archive: Archive, actor, proposal: Proposal, ip: str = "") -> AppraisalBatch:
    """A new batch of the records due under `proposal` (at most MAX_ITEMS, the oldest first), its
    items snapshotted, in the audit log."""
    if not policy.can(actor, "appraise", archive):
        raise NotAllowed("appraise")
    if errors := proposal.problems():
        raise ValidationFailed(errors)
    as_of = proposal.as_of or china_today()
    rows = session.execute(select(Record.id, Record.category, Record.access_level)
                           .where(*due_conditions(archive.id, proposal))
                           .order_by(Record.event_year, Record.category, Record.reference_code).limit(MAX_ITEMS)).all()
    if not rows:
        raise ValidationFailed({"category": _l("没有符合条件、到期待鉴定的档案")})
    last = session.scalar(select(func.max(AppraisalBatch.number)).where(AppraisalBatch.archive_id == archive.id))
    number = (last or 0) + 1
    batch = AppraisalBatch(archive=archive, number=number, category=proposal.category, year_from=proposal.year_from,
                           year_to=proposal.year_to, as_of=as_of, created_by_id=actor.id)
    try:
        session.add(batch)
        session.flush()
        session.execute(insert(AppraisalItem), [
            {"batch_id": batch.id, "record_id": rid, "category": category, "access_before": level}
            for rid, category, level in rows])
        log(session, "appraisal.create", actor=actor, object_type="appraisal_batch", object_id=batch.id, ip=ip,
            archive=archive.code, number=number, items=len(rows), category=proposal.category,
            year_from=proposal.year_from, year_to=proposal.year_to, as_of=as_of.isoformat())
        session.commit()
    except IntegrityError:
        session.rollback()  # someone made a batch of the same archive at the same moment
        raise Conflict(_l("另一人刚刚建立了鉴定批次，请刷新后再试")) from None
    return batch


def batches(session: Session, viewer, archive: Archive) -> list[tuple[AppraisalBatch, int]]:
    """The archive's batches, newest first, with how many items each holds."""
    counts = (select(AppraisalItem.batch_id, func.count().label("n")).group_by(AppraisalItem.batch_id).subquery())
    rows = session.execute(select(AppraisalBatch, counts.c.n).join(counts, counts.c.batch_id == AppraisalBatch.id)
                           .where(AppraisalBatch.archive_id == archive.id,
                                  *policy.archives_where(viewer, "appraise", AppraisalBatch.archive_id))
                           .order_by(AppraisalBatch.number.desc()))
    return [(batch, n) for batch, n in rows]


def categories_of(session: Session, batch: AppraisalBatch) -> list[str]:
    return list(session.scalars(select(AppraisalItem.category).where(AppraisalItem.batch_id == batch.id)
                                .distinct().order_by(AppraisalItem.category)))


def batch_of(session: Session, archive: Archive, number: int) -> AppraisalBatch | None:
    return session.scalar(select(AppraisalBatch).where(AppraisalBatch.archive_id == archive.id,
                                                       AppraisalBatch.number == number))


def item_count(session: Session, batch: AppraisalBatch) -> int:
    return session.scalar(select(func.count()).select_from(AppraisalItem).where(AppraisalItem.batch_id == batch.id))


@dataclass(frozen=True)
class ItemRow:
    item: AppraisalItem
    record: Record
    opinions: dict  # stage → AppraisalOpinion


def items_of(session: Session, batch: AppraisalBatch, page: int = 1, per_page: int = PER_PAGE) -> list[ItemRow]:
    """One page of the items, with their records and each stage's opinion, in the order of the catalog."""
    pairs = session.execute(select(AppraisalItem, Record).join(Record, Record.id == AppraisalItem.record_id)
                            .where(AppraisalItem.batch_id == batch.id)
                            .order_by(AppraisalItem.category, Record.event_year, Record.reference_code,
                                      AppraisalItem.id)
                            .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    opinions: dict[int, dict] = {}
    for opinion in session.scalars(select(AppraisalOpinion)
                                   .where(AppraisalOpinion.item_id.in_([item.id for item, _record in pairs]))):
        opinions.setdefault(opinion.item_id, {})[opinion.stage] = opinion
    return [ItemRow(item, record, opinions.get(item.id, {})) for item, record in pairs]


# ---- the open catalogue (开放目录): public -------------------------------------------------------

def published(session: Session, archive: Archive) -> list[tuple[AppraisalBatch, int]]:
    """The archive's decided batches that opened records, newest first, with how many are open."""
    rows = session.execute(
        select(AppraisalBatch, func.count(Record.id))
        .join(AppraisalItem, AppraisalItem.batch_id == AppraisalBatch.id)
        .join(AppraisalOpinion, and_(AppraisalOpinion.item_id == AppraisalItem.id, AppraisalOpinion.stage == "final",
                                     AppraisalOpinion.decision == "open"))
        .join(Record, and_(Record.id == AppraisalItem.record_id, Record.access_level == "open"))
        .where(AppraisalBatch.archive_id == archive.id, AppraisalBatch.status == "decided")
        .group_by(AppraisalBatch.id).order_by(AppraisalBatch.number.desc()))
    return [(batch, n) for batch, n in rows]


def published_batch(session: Session, archive: Archive, number: int) -> AppraisalBatch | None:
    batch = batch_of(session, archive, number)
    return batch if batch is not None and batch.status == "decided" else None


def opened_records(session: Session, batch: AppraisalBatch) -> list:
    """What the batch opened, as the public sees it (portal.catalog.service.present: names masked,
    no ID number); a record closed again since is left out."""
    records = session.scalars(
        select(Record).join(AppraisalItem, AppraisalItem.record_id == Record.id)
        .join(AppraisalOpinion, and_(AppraisalOpinion.item_id == AppraisalItem.id, AppraisalOpinion.stage == "final",
                                     AppraisalOpinion.decision == "open"))
        .where(AppraisalItem.batch_id == batch.id, Record.access_level == "open").order_by(Record.reference_code))
    return [present(record, "public") for record in records]


def _cell(value: str) -> str:
    """A spreadsheet reads a cell starting with = + - @ as a formula: quoted as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def catalogue_csv(batch: AppraisalBatch, rows: list) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["档号", "题名", "类别", "形成日期", "开放日期"])
    for row in rows:
        writer.writerow([_cell(row.reference_code), _cell(row.title), category_label(row.category), row.event_date,
                         batch.decided_on.isoformat() if batch.decided_on else ""])
    return "\ufeff" + out.getvalue()  # the BOM: spreadsheets read the file as UTF-8
