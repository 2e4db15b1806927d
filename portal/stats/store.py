"""Long ranges fast: the timeline is append-only, so a finished month's figures do not change — its
additive figures (figures.live_part: counts, and the (submit day, issue day) pairs of the
turnaround, so that median and p90 of any range stay exact) are counted from the timeline on first
use and kept in `stats_month`, per scope (an archive, or the network) and China-time month.

A range is cut into the finished months it covers whole (read from the store) and the rest — a
partial first or last month, the current month — counted live, as are months not finished yet. The
one figure a finished month can still change is the cross-archive on_time/late of tasks still open
(answered later, or falling due): a month stored with open tasks has its cross-archive figures
counted live every time, until none is open. Emptying the table (`DELETE FROM stats_month`) is
always safe: months are counted again on their next use."""
from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core import workdays
from portal.core.clock import china_today
from portal.stats.figures import combine, live_cross, live_part
from portal.stats.models import StatsMonth
from portal.stats.period import Period


def scope_of(archive_id: int | None) -> str:
    return "network" if archive_id is None else str(archive_id)


def _month_period(first: date) -> Period:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def pieces(period: Period, today: date) -> tuple[list[Period], list[Period]]:
    """(finished months wholly inside the range, the live rest as few periods as possible)."""
    stored: list[Period] = []
    live: list[Period] = []
    current = today.replace(day=1)
    first = period.start.replace(day=1)
    while first <= period.end:
        month = _month_period(first)
        if period.start <= month.start and month.end <= period.end and month.start < current:
            stored.append(month)
        else:
            part = Period(max(period.start, month.start), min(period.end, month.end))
            if live and live[-1].end + timedelta(days=1) == part.start:
                part = Period(live[-1].start, part.end)
                live.pop()
            live.append(part)
        first = month.end + timedelta(days=1)
    return stored, live


def compute(session: Session, archive_id: int | None, period: Period, calendar: workdays.Calendar,
            today: date | None = None) -> dict:
    """The same figures as figures.compute, with finished months read from (or put in) the store."""
    today = today or china_today()
    stored, live = pieces(period, today)
    parts = [live_part(session, archive_id, p, today) for p in live]
    parts += [_stored_part(session, archive_id, months, today) for months in _months(session, archive_id, stored, today)]
    return combine(parts, period, calendar)


def _months(session, archive_id, stored: list[Period], today: date):
    """Each stored month's row, counting and keeping the ones missing (once, even if two people ask
    at the same moment: the second insert gives way to the first)."""
    if not stored:
        return []
    scope = scope_of(archive_id)
    names = [m.start.strftime("%Y-%m") for m in stored]
    rows = {row.month: row for row in session.scalars(
        select(StatsMonth).where(StatsMonth.scope == scope, StatsMonth.month.in_(names)))}
    added = False
    for month, name in zip(stored, names):
        if name in rows:
            continue
        part = live_part(session, archive_id, month, today)
        row = StatsMonth(scope=scope, month=name, figures_json=json.dumps(part), open_tasks=part["cross"]["open"])
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            row = session.scalar(select(StatsMonth).where(StatsMonth.scope == scope, StatsMonth.month == name))
        rows[name] = row
        added = True
    if added:
        session.commit()
    return [(rows[name], month) for name, month in zip(names, stored)]


def _stored_part(session, archive_id, stored: tuple[StatsMonth, Period], today: date) -> dict:
    row, month = stored
    part = json.loads(row.figures_json)
    if row.open_tasks:
        cross, months = live_cross(session, archive_id, month, today)
        part["cross"] = cross
        for name, figures in months.items():
            part["months"][name].update(figures)
        if not cross["open"]:  # every task answered or cancelled now: the month is final
            row.figures_json, row.open_tasks = json.dumps(part), 0
            session.commit()
    return part
