"""Working days for promised completion dates (承诺时限): weekends and public holidays do not
count, make-up working weekends (调休) do."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from portal.core.clock import CHINA_TIME

DEFAULT_FILE = Path(__file__).with_name("holidays-cn.txt")


def read_day(args, name: str, errors: dict) -> date | None:
    """A date filter typed into a form (YYYY-MM-DD), or None when empty; a bad one goes into `errors`."""
    from flask_babel import lazy_gettext as _l

    text = (args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = _l("日期格式应为 YYYY-MM-DD")
        return None


def day_start(day: date) -> datetime:
    """Midnight of `day` where the archives are: what date filters compare stored times with."""
    return datetime.combine(day, datetime.min.time(), CHINA_TIME)


@dataclass(frozen=True)
class Calendar:
    days_off: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself does not count)."""
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day


def parse_calendar(text: str, source: str = "") -> Calendar:
    off, work = set(), set()
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            day_text, kind = line.split()
            day = date.fromisoformat(day_text)
        except ValueError:
            raise ValueError(f"{source}:{number}: expected 'YYYY-MM-DD off' or 'YYYY-MM-DD work', got {line!r}") from None
        if kind not in ("off", "work"):
            raise ValueError(f"{source}:{number}: expected 'off' or 'work', got {kind!r}")
        (off if kind == "off" else work).add(day)
    return Calendar(frozenset(off), frozenset(work))


@lru_cache(maxsize=8)
def load_calendar(path: str | None = None) -> Calendar:
    file = Path(path) if path else DEFAULT_FILE
    return parse_calendar(file.read_text(encoding="utf-8"), str(file))
