"""The date range the statistics cover: days in China time, both ends included; by default the
current month so far. One reader for the dashboard's form and the API's query."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l

from portal.core.clock import china_today
from portal.core.workdays import day_start

MAX_DAYS = 366 * 5  # five years of months at most: a chart and a table stay readable


@dataclass(frozen=True)
class Period:
    start: date  # first day, China time
    end: date    # last day, included

    @property
    def lo(self) -> datetime:
        """The first instant (midnight China time of `start`)."""
        return day_start(self.start)

    @property
    def hi(self) -> datetime:
        """The first instant after the range (midnight China time after `end`)."""
        return day_start(self.end + timedelta(days=1))

    def months(self) -> list[str]:
        """"YYYY-MM" of every month the range touches, in order."""
        months, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


def this_month(today: date | None = None) -> Period:
    today = today or china_today()
    return Period(today.replace(day=1), today)


def _day(text: str, field: str, errors: dict) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = _l("日期应为 YYYY-MM-DD 格式的有效日期，例如 2026-03-01")
        return None


def read_period(start_text: str | None, end_text: str | None, today: date | None = None) -> tuple[Period, dict]:
    """The range typed (`from`, `to`; either may be empty: the first of this month, today), and
    every problem at once as {field: message}. With problems the default range is returned."""
    today = today or china_today()
    errors: dict = {}
    start, end = _day(start_text, "from", errors), _day(end_text, "to", errors)
    if errors:
        return this_month(today), errors
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        errors["to"] = _l("结束日期不能早于开始日期")
    elif (end - start).days >= MAX_DAYS:
        errors["to"] = _l("统计范围最长为五年")
    if errors:
        return this_month(today), errors
    return Period(start, end), errors
