"""The one clock: aware UTC for what is stored, China time for dates people read (working days,
certificate dates, the queue's "due today")."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA_TIME = timezone(timedelta(hours=8))  # no daylight saving time: a fixed offset is exact


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def china_today() -> date:
    """Today where the archives are, whatever the server's clock zone."""
    return datetime.now(CHINA_TIME).date()
