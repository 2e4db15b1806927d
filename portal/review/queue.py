"""The approval queue: what a staff member's archive has to do, tab by tab, with counts, filters
and keyset paging. Only rows the permission rules let this person act on are listed: the archive
comes from portal.policy.queue_archive, its rows from portal.policy.work_of."""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from portal.accounts.models import User
from portal.archives.models import Archive
from portal.catalog.models import Record
from portal.certificates.models import Certificate
from portal.core.i18n import N_
from portal.core.errors import ValidationFailed
from portal.requests.models import RELATIONS, RequestRecord, RequestSearchArchive, UtilizationRequest
from portal.core.workdays import day_start
from portal.review.models import VerificationTask
from portal.policy import queue_archive, work_of

TABS = {
    "to_accept": N_("待受理"),
    "in_review": N_("审核中"),
    "waiting": N_("待补充"),
    "tasks": N_("协办任务"),
    "ready": N_("待审批"),
    "to_issue": N_("待出证"),
    "done": N_("已办结"),
}
WORK_TABS = tuple(tab for tab in TABS if tab != "done")  # tabs whose rows wait for someone here
DONE = ("issued", "rejected", "withdrawn")
REQUEST_NUMBER = re.compile(r"[0-9A-Za-z]{1,12}-[0-9]{4}-[0-9]{6,}")  # {issuing archive code}-{year}-{sequence}
PAGE_SIZE = 25


@dataclass
class QueueFilters:
    category: str = ""
    relation: str = ""
    archive: str = ""  # the other side: holding archive on request tabs, issuing archive on the tasks tab
    date_from: date | None = None
    date_to: date | None = None
    find: str = ""  # a request number, or part of the applicant's or the subject's name


@dataclass
class QueueItem:
    kind: str  # "request" or "task"
    request: UtilizationRequest
    task: VerificationTask | None = None

    @property
    def due_date(self) -> date:
        return self.task.due_date if self.task else self.request.due_date

    @property
    def claimed_by(self) -> User | None:
        return self.task.claimed_by if self.task else self.request.claimed_by


@dataclass
class QueuePage:
    tab: str
    items: list[QueueItem]
    counts: dict[str, int]
    next_cursor: str | None
    filters: QueueFilters = field(default_factory=QueueFilters)


def staff_scope(user, archive_code: str | None = None) -> int | None:
    """The archive whose queue this is (portal.policy.queue_archive): the staff member's own; an
    admin's choice by code (an unknown code: an archive with nothing), or None (all)."""
    chosen = None
    if archive_code:
        chosen = -1 if (archive := _archive_id(archive_code)) is None else archive
    return queue_archive(user, chosen)


def _archive_id(code: str) -> int | None:
    from portal.db import db

    return db.session.scalar(select(Archive.id).where(Archive.code == code))


def _open_task():
    return exists().where(VerificationTask.request_id == UtilizationRequest.id, VerificationTask.status == "open")


def _reissue():
    """Issued, but its certificate revoked and none valid in its place: waiting to be issued again."""
    certificate = exists().where(Certificate.request_id == UtilizationRequest.id)
    return and_(UtilizationRequest.status == "issued", certificate.where(Certificate.status == "revoked"),
                ~certificate.where(Certificate.status == "valid"))


def _request_condition(tab: str, archive_id: int | None):
    where = work_of(UtilizationRequest, archive_id)
    status = UtilizationRequest.status
    where.append({
        "to_accept": status == "submitted",
        "in_review": and_(status == "in_review", _open_task()),
        "waiting": status == "needs_supplement",
        "ready": and_(status == "in_review", ~_open_task()),
        "to_issue": or_(status == "approved", _reissue()),
        "done": and_(status.in_(DONE), ~_reissue()),
    }[tab])
    return and_(*where)


def _task_condition(archive_id: int | None):
    return and_(VerificationTask.status == "open", UtilizationRequest.status == "in_review",
                *work_of(VerificationTask, archive_id))


def counts(session: Session, archive_id: int | None) -> dict[str, int]:
    """Live counts of every tab: this archive's requests by status (its index alone answers), the
    split of those in review by whether a holding archive is still to answer, and the open tasks
    routed here. The archive goes into WHERE, so only its rows are read; the split reads only the
    requests in review: as a FILTER over every row, PostgreSQL costs the EXISTS once per row and
    JIT-compiles the query, which alone took about 250 ms at 100,000 requests."""
    scope = work_of(UtilizationRequest, archive_id)
    by_status = dict(session.execute(select(UtilizationRequest.status, func.count()).where(*scope)
                                     .group_by(UtilizationRequest.status)).all())
    in_review, waiting_for_holders = session.execute(
        select(func.count(), func.count().filter(_open_task())).select_from(UtilizationRequest)
        .where(*scope, UtilizationRequest.status == "in_review")).one()
    reissue = session.scalar(select(func.count()).select_from(UtilizationRequest).where(*scope, _reissue()))
    tasks = session.scalar(select(func.count()).select_from(VerificationTask)
                           .join(UtilizationRequest, VerificationTask.request_id == UtilizationRequest.id)
                           .where(_task_condition(archive_id)))
    return {"to_accept": by_status.get("submitted", 0), "in_review": waiting_for_holders,
            "waiting": by_status.get("needs_supplement", 0), "tasks": tasks,
            "ready": in_review - waiting_for_holders, "to_issue": by_status.get("approved", 0) + reissue,
            "done": sum(by_status.get(status, 0) for status in DONE) - reissue}


def first_with_work(tab_counts: dict[str, int]) -> str:
    """The tab a queue opens on when none is chosen: the first, in the tabs' order, with work in it."""
    return next((tab for tab in WORK_TABS if tab_counts.get(tab)), WORK_TABS[0])


def _filtered(query, filters: QueueFilters, tab: str):
    if filters.relation:
        query = query.where(UtilizationRequest.relation == filters.relation)
    if filters.category:
        # The requests with a record of that category, as one set (PostgreSQL hashes it once; a
        # correlated EXISTS beside the OR became a subquery per row, 180 ms on a long tab).
        query = query.where(or_(UtilizationRequest.search_category == filters.category, UtilizationRequest.id.in_(
            select(RequestRecord.request_id).join(Record, Record.id == RequestRecord.record_id)
            .where(Record.category == filters.category))))
    if filters.archive:
        other = select(Archive.id).where(Archive.code == filters.archive).scalar_subquery()
        if tab == "tasks":
            query = query.where(UtilizationRequest.issuing_archive_id == other)
        elif tab == "to_accept":
            # No tasks before acceptance: the holding archives are those of the records asked
            # for, or those asked to search.
            query = query.where(or_(
                exists().where(RequestRecord.request_id == UtilizationRequest.id,
                               RequestRecord.record_id == Record.id, Record.archive_id == other),
                exists().where(RequestSearchArchive.request_id == UtilizationRequest.id,
                               RequestSearchArchive.archive_id == other)))
        else:
            query = query.where(exists().where(VerificationTask.request_id == UtilizationRequest.id,
                                               VerificationTask.holding_archive_id == other))
    if filters.date_from:
        query = query.where(UtilizationRequest.submitted_at >= day_start(filters.date_from))
    if filters.date_to:
        query = query.where(UtilizationRequest.submitted_at < day_start(filters.date_to + timedelta(days=1)))
    if (find := filters.find.strip()) and REQUEST_NUMBER.fullmatch(find):
        # A whole request number is looked up through its unique index alone; ORed with the name
        # matches it would read every row of the tab.
        query = query.where(UtilizationRequest.number == find)
    elif find:
        applicant = select(User.id).where(User.real_name.contains(find, autoescape=True)).scalar_subquery()
        query = query.where(or_(UtilizationRequest.subject_name.contains(find, autoescape=True),
                                UtilizationRequest.applicant_id.in_(applicant)))
    return query


def encode_cursor(due: date, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{due.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, row_id = text.split("|")
        if not 0 < int(row_id) < 2 ** 31:  # beyond any id, and beyond what the databases compare
            raise ValueError(row_id)
        return date.fromisoformat(day), int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed({"after": _l("翻页参数无效，请从第一页重新开始")}) from None


def queue(session: Session, archive_id: int | None, tab: str, filters: QueueFilters | None = None,
          after: str | None = None, limit: int = PAGE_SIZE, tab_counts: dict[str, int] | None = None) -> QueuePage:
    """One page of a tab, by due date (the most urgent first; the finished ones newest first), with
    the counts of every tab (`tab_counts`, when the caller has just read them)."""
    if tab not in TABS:
        raise ValidationFailed({"tab": _l("未知的分类：%(tab)s", tab=tab)})
    filters = filters or QueueFilters()
    if filters.relation and filters.relation not in RELATIONS:
        raise ValidationFailed({"relation": _l("未知的关系")})
    for name in ("date_from", "date_to"):
        if (day := getattr(filters, name)) and not 1900 <= day.year <= 2100:
            raise ValidationFailed({name: _l("日期应在 1900 年到 2100 年之间")})
    filters.find = filters.find.replace("\x00", "")  # PostgreSQL refuses NUL in text
    newest_first = tab == "done"
    # Each row shows its records' and searched archives' names: loaded with the page, not per row.
    shown = (selectinload(UtilizationRequest.items), selectinload(UtilizationRequest.search_archives))
    if tab == "tasks":
        key_date, key_id = VerificationTask.due_date, VerificationTask.id
        query = (select(VerificationTask).join(VerificationTask.request)
                 .options(contains_eager(VerificationTask.request).options(*shown)).where(_task_condition(archive_id)))
    else:
        key_date, key_id = UtilizationRequest.due_date, UtilizationRequest.id
        query = select(UtilizationRequest).options(*shown).where(_request_condition(tab, archive_id))
    query = _filtered(query, filters, tab)
    if after:
        day, row_id = decode_cursor(after)
        beyond = (key_date < day) | ((key_date == day) & (key_id < row_id)) if newest_first else \
            (key_date > day) | ((key_date == day) & (key_id > row_id))
        query = query.where(beyond)
    order = (key_date.desc(), key_id.desc()) if newest_first else (key_date, key_id)
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    items = [QueueItem("task", row.request, row) if tab == "tasks" else QueueItem("request", row) for row in rows]
    next_cursor = encode_cursor(items[-1].due_date, rows[-1].id) if more and rows else None
    return QueuePage(tab, items, tab_counts or counts(session, archive_id), next_cursor, filters)
