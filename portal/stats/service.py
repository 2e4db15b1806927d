"""The statistics of one archive or of the network for a period, as the dashboard and the API
answer them (permissions are asked by each door through portal.policy before calling this)."""
from __future__ import annotations

import csv
import io
import secrets
import threading
import time

from flask import current_app
from sqlalchemy.orm import Session

from portal.archives.models import Archive
from portal.core import workdays
from portal.stats.store import compute
from portal.stats.period import Period
from portal.stats.tables import Table


# A page view's figures, kept a little while under a random key its chart images and CSV links
# carry (`v`), so that they draw the very figures the page shows instead of counting them again.
# Per process; a key unknown here (expired, another worker) just counts afresh.
KEEP_SECONDS, KEEP_AT_MOST = 300, 200
_kept: dict[str, tuple[float, tuple, dict]] = {}
_lock = threading.Lock()


def statistics(session: Session, archive: Archive | None, period: Period) -> dict:
    calendar = workdays.load_calendar(current_app.config["HOLIDAYS_FILE"])
    return {"archive": archive.code if archive else None,
            **compute(session, archive.id if archive else None, period, calendar)}


def _what(archive: Archive | None, period: Period) -> tuple:
    return (id(current_app._get_current_object()), archive.id if archive else None, period.start, period.end)


def keep(archive: Archive | None, period: Period, figures: dict) -> str:
    """Keep a page's figures; the key for its charts and exports."""
    key = secrets.token_urlsafe(12)
    now = time.monotonic()
    with _lock:
        for old in [k for k, (at, _w, _f) in _kept.items() if now - at > KEEP_SECONDS]:
            del _kept[old]
        while len(_kept) >= KEEP_AT_MOST:
            del _kept[next(iter(_kept))]
        _kept[key] = (now, _what(archive, period), figures)
    return key


def kept_or_counted(session: Session, key: str | None, archive: Archive | None, period: Period) -> dict:
    """The figures a page kept under `key` if they are of this archive and period and still fresh,
    else counted now (permissions are asked by the caller, for `archive`, before)."""
    with _lock:
        found = _kept.get(key or "")
    if found and found[1] == _what(archive, period) and time.monotonic() - found[0] <= KEEP_SECONDS:
        return found[2]
    return statistics(session, archive, period)


def csv_bytes(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the Chinese right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
