"""The figures, counted in the database with one grouped query each (never a loop over requests),
from the request timeline (request_event), the verification tasks and the certificates, so that
they match what each request's page shows. Every figure is defined in docs/admin-stats.md.

`archive_id` None: the whole network. Times are grouped by their month in China time."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import and_, case, func, literal, select, text, true
from sqlalchemy.orm import Session, aliased

from portal.catalog.models import Record
from portal.certificates.models import Certificate
from portal.core import workdays
from portal.core.categories import CATEGORIES
from portal.core.clock import china_today
from portal.requests.labels import PURPOSE_LABELS, REJECT_REASONS
from portal.requests.models import RequestEvent, RequestRecord, UtilizationRequest
from portal.review.models import VerificationTask
from portal.stats.period import Period

CHANNELS = ("web", "counter", "api")
ANSWERED = ("verified", "not_found")
# Grouping by position: an expression with bound parameters (a format, a time zone) in both SELECT
# and GROUP BY would be two different expressions to PostgreSQL.
BY_1, BY_1_2 = text("1"), text("1, 2")
MONTH_KEYS = ("requests_received", "persons_served", "records_retrieved", "certificates_found",
              "certificates_not_found", "cross_archive_sent", "cross_archive_received", "rejections")


# ---- dialects: China-time months and days of stored UTC times ------------------------------------

def _month(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+8 hours")


def _day(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, "+8 hours")


def _due_text(session: Session, column):
    """A Date column as YYYY-MM-DD text, to compare with _day."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM-DD")
    return column


def _scope(column, archive_id: int | None):
    return true() if archive_id is None else column == archive_id


# ---- percentiles ---------------------------------------------------------------------------------

def median(histogram: Counter) -> float | None:
    """The middle value (the mean of the two middle values for an even count), from value → count."""
    n = sum(histogram.values())
    if not n:
        return None
    lower, upper = _nth(histogram, (n - 1) // 2), _nth(histogram, n // 2)
    return (lower + upper) / 2


def p90(histogram: Counter) -> float | None:
    """The nearest-rank 90th percentile: the smallest value that at least 90% of values do not exceed."""
    n = sum(histogram.values())
    if not n:
        return None
    rank = -(-9 * n // 10)  # ceil(0.9 n), 1-based
    return float(_nth(histogram, rank - 1))


def _nth(histogram: Counter, index: int) -> int:
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if index < seen:
            return value
    raise IndexError(index)


@lru_cache(maxsize=4096)
def _working_days(calendar: workdays.Calendar, start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (the same day: 0)."""
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        days += calendar.is_working_day(day)
    return days


# ---- the figures ---------------------------------------------------------------------------------

def compute(session: Session, archive_id: int | None, period: Period, calendar: workdays.Calendar,
            today: date | None = None) -> dict:
    """Every figure of `period` for one archive (or the network), with the months the range touches,
    counted live from the timeline (portal.stats.store reads finished months from their store)."""
    return combine([live_part(session, archive_id, period, today or china_today())], period, calendar)


def live_part(session: Session, archive_id: int | None, period: Period, today: date) -> dict:
    """The additive figures of `period` (counts, and the (submit day, issue day) pairs of the
    turnaround), as JSON-ready data: what `combine` sums; a finished month's is what the store keeps."""
    months = {m: dict.fromkeys(MONTH_KEYS, 0) for m in period.months()}
    channels, purposes = _received(session, archive_id, period, months)
    cross = _cross(session, archive_id, period, months, today)
    return {"channels": channels, "purposes": purposes, "cross": cross,
            "retrieved": _retrieved(session, archive_id, period, months),
            "certificates": _certificates(session, archive_id, period, months),
            "pairs": _turnaround_pairs(session, archive_id, period),
            "categories": _by_category(session, archive_id, period),
            "rejections": _rejections(session, archive_id, period, months), "months": months}


def live_cross(session: Session, archive_id: int | None, period: Period, today: date) -> tuple[dict, dict]:
    """The cross-archive figures alone (the only ones that change after their month: a task still
    open is answered later, or falls due): (figures, {month: {cross_archive_sent, _received}})."""
    months = {m: dict.fromkeys(MONTH_KEYS, 0) for m in period.months()}
    cross = _cross(session, archive_id, period, months, today)
    return cross, {m: {k: f[k] for k in ("cross_archive_sent", "cross_archive_received")} for m, f in months.items()}


def _add(total: dict, part: dict) -> None:
    for key, n in part.items():
        total[key] = total.get(key, 0) + n


def combine(parts: list[dict], period: Period, calendar: workdays.Calendar) -> dict:
    """The figures of `period` from the additive figures of the pieces it was cut into."""
    months = {m: dict.fromkeys(MONTH_KEYS, 0) for m in period.months()}
    received, purposes = dict.fromkeys(CHANNELS, 0), dict.fromkeys(PURPOSE_LABELS, 0)
    categories, rejections = dict.fromkeys(CATEGORIES, 0), dict.fromkeys(REJECT_REASONS, 0)
    cross = dict.fromkeys(("sent", "received", "on_time", "late"), 0)
    certificates, retrieved, pairs = {"found": 0, "not_found": 0}, 0, Counter()
    for part in parts:
        for total, key in ((received, "channels"), (purposes, "purposes"), (categories, "categories"),
                           (rejections, "rejections"), (certificates, "certificates")):
            _add(total, part[key])
        _add(cross, {k: part["cross"][k] for k in cross})
        retrieved += part["retrieved"]
        for start, end, n in part["pairs"]:
            pairs[start, end] += n
        for m, figures in part["months"].items():
            _add(months[m], figures)
    cross["on_time_share"] = (round(cross["on_time"] / (cross["on_time"] + cross["late"]), 4)
                              if cross["on_time"] + cross["late"] else None)
    received["other_archive"] = cross["received"]
    received["total"] = sum(received[c] for c in (*CHANNELS, "other_archive"))
    for month in months.values():
        month["requests_received"] += month["cross_archive_received"]
    histogram: Counter = Counter()
    for (start, end), n in pairs.items():
        histogram[_working_days(calendar, date.fromisoformat(start), date.fromisoformat(end))] += n
    return {
        "from": period.start.isoformat(), "to": period.end.isoformat(),
        "requests_received": received,
        "persons_served": received["counter"],
        "records_retrieved": retrieved,
        "certificates_issued": certificates,
        "cross_archive": cross,
        "turnaround_working_days": {"median": median(histogram), "p90": p90(histogram),
                                    "count": sum(histogram.values())},
        "by_category": categories,
        "by_purpose": purposes,
        "rejections_by_reason": rejections,
        "by_month": [{"month": m, **figures} for m, figures in months.items()],
    }


def _events(session: Session, action: str, archive_id: int | None, period: Period, *columns):
    """`columns` of the requests (made at the archive) whose `action` event lies in the range."""
    return (select(*columns).select_from(RequestEvent)
            .join(UtilizationRequest, UtilizationRequest.id == RequestEvent.request_id)
            .where(RequestEvent.action == action, RequestEvent.at >= period.lo, RequestEvent.at < period.hi,
                   _scope(UtilizationRequest.issuing_archive_id, archive_id)))


def _received(session, archive_id, period, months) -> tuple[dict, dict]:
    """Submit events by month, channel and purpose, in one pass: (by channel, by purpose)."""
    month = _month(session, RequestEvent.at).label("month")
    query = _events(session, "submit", archive_id, period, month, UtilizationRequest.channel,
                    UtilizationRequest.purpose, func.count())
    channels, purposes = dict.fromkeys(CHANNELS, 0), dict.fromkeys(PURPOSE_LABELS, 0)
    for m, channel, purpose, n in session.execute(query.group_by(text("1, 2, 3"))):
        channels[channel] = channels.get(channel, 0) + n
        purposes[purpose] = purposes.get(purpose, 0) + n
        months[m]["requests_received"] += n
        if channel == "counter":
            months[m]["persons_served"] += n
    return channels, purposes


def _cross(session, archive_id, period, months, today: date) -> dict:
    """Tasks of a request at one archive for records another holds: sent by the one, received by
    the other; the received ones answered on time, late, or still open past their due date."""
    task, req = VerificationTask, UtilizationRequest
    month = _month(session, task.created_at).label("month")
    incoming = (literal(True) if archive_id is None else task.holding_archive_id == archive_id).label("incoming")
    answered_day = _day(session, task.answered_at)
    due = _due_text(session, task.due_date)
    on_time = func.sum(case((and_(task.status.in_(ANSWERED), answered_day <= due), 1), else_=0))
    late = func.sum(case((and_(task.status.in_(ANSWERED), answered_day > due), 1),
                         (and_(task.status == "open", task.due_date < today), 1), else_=0))
    still_open = func.sum(case((task.status == "open", 1), else_=0))
    where = [task.holding_archive_id != req.issuing_archive_id, task.created_at >= period.lo,
             task.created_at < period.hi]
    if archive_id is not None:
        where.append((task.holding_archive_id == archive_id) | (req.issuing_archive_id == archive_id))
    query = (select(month, incoming, func.count(), on_time, late, still_open).select_from(task)
             .join(req, req.id == task.request_id).where(*where).group_by(BY_1_2))
    sent = received = punctual = overdue = pending = 0
    for m, is_incoming, n, n_on_time, n_late, n_open in session.execute(query):
        if archive_id is None or not is_incoming:
            sent += n
            months[m]["cross_archive_sent"] += n
        if archive_id is None or is_incoming:
            received += n
            months[m]["cross_archive_received"] += n
            punctual, overdue = punctual + (n_on_time or 0), overdue + (n_late or 0)
            pending += n_open or 0
    # `open`: received tasks not answered yet — their month's on_time/late may still change.
    return {"sent": sent, "received": received, "on_time": punctual, "late": overdue, "open": pending}


def _retrieved(session, archive_id, period, months) -> int:
    """调卷: the records an archive's verified tasks cover that it holds; a verified "search for
    me" task counts one."""
    task = VerificationTask
    month = _month(session, task.answered_at).label("month")
    where = [task.status == "verified", task.answered_at >= period.lo, task.answered_at < period.hi,
             _scope(task.holding_archive_id, archive_id)]
    records = (select(month, func.count()).select_from(task)
               .join(RequestRecord, RequestRecord.request_id == task.request_id)
               .join(Record, and_(Record.id == RequestRecord.record_id, Record.archive_id == task.holding_archive_id))
               .where(*where).group_by(BY_1))
    searches = (select(month, func.count()).select_from(task)
                .join(UtilizationRequest, UtilizationRequest.id == task.request_id)
                .where(*where, UtilizationRequest.kind == "search").group_by(BY_1))
    total = 0
    for query in (records, searches):
        for m, n in session.execute(query):
            months[m]["records_retrieved"] += n
            total += n
    return total


def _certificates(session, archive_id, period, months) -> dict:
    month = _month(session, Certificate.issued_at).label("month")
    query = (select(month, Certificate.kind, func.count()).select_from(Certificate)
             .join(UtilizationRequest, UtilizationRequest.id == Certificate.request_id)
             .where(Certificate.issued_at >= period.lo, Certificate.issued_at < period.hi,
                    _scope(UtilizationRequest.issuing_archive_id, archive_id))
             .group_by(BY_1_2))
    totals = {"found": 0, "not_found": 0}
    for m, kind, n in session.execute(query):
        totals[kind] += n
        months[m][f"certificates_{kind}"] += n
    return totals


def _turnaround_pairs(session, archive_id, period) -> list[list]:
    """Every issue event in the range as [submit day, issue day, how many]: grouped by the pair of
    days in SQL (a few hundred pairs a month, not the requests), counted in working days by
    `combine` (so a changed holiday calendar applies to stored months too)."""
    submitted = aliased(RequestEvent)
    issued_day, submitted_day = _day(session, RequestEvent.at), _day(session, submitted.at)
    query = (_events(session, "issue", archive_id, period, submitted_day, issued_day, func.count())
             .join(submitted, and_(submitted.request_id == RequestEvent.request_id, submitted.action == "submit"))
             .group_by(BY_1_2))
    return [[start, end, n] for start, end, n in session.execute(query)]


def _by_category(session, archive_id, period) -> dict:
    """Requests received in the range by the category of their records (a request with records of
    two categories counts in each) or, for "search for me", of what they ask to search."""
    counts = dict.fromkeys(CATEGORIES, 0)
    records = (_events(session, "submit", archive_id, period, Record.category,
                       func.count(func.distinct(UtilizationRequest.id)))
               .join(RequestRecord, RequestRecord.request_id == UtilizationRequest.id)
               .join(Record, Record.id == RequestRecord.record_id).group_by(Record.category))
    searches = (_events(session, "submit", archive_id, period, UtilizationRequest.search_category, func.count())
                .where(UtilizationRequest.kind == "search").group_by(UtilizationRequest.search_category))
    for query in (records, searches):
        for category, n in session.execute(query):
            counts[category or "unspecified"] = counts.get(category or "unspecified", 0) + n
    return counts


def _rejections(session, archive_id, period, months) -> dict:
    """Reject events by reason: the timeline note begins with the reason's Chinese label
    (portal.actions.inputs.RejectInput.timeline_note)."""
    reason = case(*((RequestEvent.note.like(f"{label}%"), literal(code)) for code, label in REJECT_REASONS.items()),
                  else_=literal("unspecified")).label("reason")
    month = _month(session, RequestEvent.at).label("month")
    query = _events(session, "reject", archive_id, period, month, reason, func.count()).group_by(BY_1_2)
    counts = dict.fromkeys(REJECT_REASONS, 0)
    for m, code, n in session.execute(query):
        counts[code] = counts.get(code, 0) + n
        months[m]["rejections"] += n
    return counts

