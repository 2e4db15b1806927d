"""The statistics of one archive or of the network for a period, as the dashboard and the API
answer them (permissions are asked by each door through portal.policy before calling this)."""
from __future__ import annotations

import csv
import io

from flask import current_app
from sqlalchemy.orm import Session

from portal.archives.models import Archive
from portal.core import workdays
from portal.stats.figures import compute
from portal.stats.period import Period
from portal.stats.tables import Table


def statistics(session: Session, archive: Archive | None, period: Period) -> dict:
    calendar = workdays.load_calendar(current_app.config["HOLIDAYS_FILE"])
    return {"archive": archive.code if archive else None,
            **compute(session, archive.id if archive else None, period, calendar)}


def csv_bytes(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the Chinese right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
