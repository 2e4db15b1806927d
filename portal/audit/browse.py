"""Reading the audit log, for administrators: newest first, filtered by person, request, action
and date, paged by id (keyset, so a page never shifts while new entries arrive)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.audit.models import AuditLog
from portal.core.errors import ValidationFailed
from portal.core.workdays import day_start, read_day

PAGE_SIZE = 50


@dataclass
class AuditFilters:
    person: str = ""  # part of a name or email of whoever acted
    request: str = ""  # a request number
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class AuditPage:
    entries: list[tuple[AuditLog, User | None]]
    next_before: int | None


def parse_filters(args) -> AuditFilters:
    errors: dict[str, str] = {}
    filters = AuditFilters(person=(args.get("person") or "").strip()[:100],
                           request=(args.get("request") or "").strip()[:40],
                           action=(args.get("action") or "").strip()[:40],
                           date_from=read_day(args, "date_from", errors),
                           date_to=read_day(args, "date_to", errors))
    if errors:
        raise ValidationFailed(errors)
    return filters


def browse(session: Session, filters: AuditFilters, before: int | None = None, limit: int = PAGE_SIZE) -> AuditPage:
    query = select(AuditLog, User).outerjoin(User, AuditLog.actor_id == User.id)
    if filters.person:
        query = query.where(or_(User.real_name.contains(filters.person, autoescape=True),
                                User.email.contains(filters.person.lower(), autoescape=True)))
    if filters.request:
        query = query.where(AuditLog.object_type == "request", AuditLog.object_id == filters.request)
    if filters.action:
        query = query.where(AuditLog.action == filters.action)
    if filters.date_from:
        query = query.where(AuditLog.at >= day_start(filters.date_from))
    if filters.date_to:
        query = query.where(AuditLog.at < day_start(filters.date_to + timedelta(days=1)))
    if before:
        query = query.where(AuditLog.id < before)
    rows = session.execute(query.order_by(AuditLog.id.desc()).limit(limit + 1)).all()
    entries = [(row[0], row[1]) for row in rows[:limit]]
    return AuditPage(entries, entries[-1][0].id if len(rows) > limit else None)


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
