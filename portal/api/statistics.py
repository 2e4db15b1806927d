"""利用统计 over the JSON API: GET /statistics?archive=CODE&from=YYYY-MM-DD&to=YYYY-MM-DD, the same
figures as the dashboard (portal.stats), for staff of the archive and the network admin; without
`archive`, the whole network (the network admin only)."""
from __future__ import annotations

from flask import g, jsonify
from flask_babel import gettext as _
from pydantic import ConfigDict, Field
from sqlalchemy import select

from portal import policy
from portal.api.bodies import read_query
from portal.api.errors import BadInput, api_error
from portal.api.fields import Strict, clean_text
from portal.api.responses import Answer
from portal.api.routing import Routes
from portal.archives.models import Archive
from portal.db import db
from portal.stats.period import read_period
from portal.stats.service import statistics

routes = Routes("statistics", "利用统计 (statistics)")
ACTION = "view_statistics"
DAY = {"format": "date", "maxLength": 10}


class StatisticsQuery(Strict):
    """Which archive (empty: the network) and which days, both ends included, in China time."""
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    archive: str = Field("", max_length=20, description="an archive's code; empty: the whole network")
    from_: str = Field("", alias="from", description="first day (YYYY-MM-DD); default: the 1st of `to`'s month",
                       json_schema_extra=DAY)
    to: str = Field("", description="last day, included (YYYY-MM-DD); default: today (China time)",
                    json_schema_extra=DAY)


class Received(Answer):
    total: int = Field(description="web + counter + api + other_archive")
    web: int
    counter: int
    api: int
    other_archive: int = Field(description="verification tasks received from other archives")


class Certificates(Answer):
    found: int
    not_found: int


class CrossArchive(Answer):
    sent: int
    received: int
    on_time: int
    late: int
    on_time_share: float | None = Field(description="on_time / (on_time + late); null when both are 0")


class Turnaround(Answer):
    median: float | None
    p90: float | None
    count: int


class Month(Answer):
    month: str = Field(description="YYYY-MM (China time)")
    requests_received: int
    persons_served: int
    records_retrieved: int
    certificates_found: int
    certificates_not_found: int
    cross_archive_sent: int
    cross_archive_received: int
    rejections: int


class Statistics(Answer):
    """Every figure is defined in docs/admin-stats.md."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    archive: str | None = Field(description="the archive's code; null: the whole network")
    from_: str = Field(alias="from", json_schema_extra={"format": "date"})
    to: str = Field(json_schema_extra={"format": "date"})
    requests_received: Received
    persons_served: int
    records_retrieved: int
    certificates_issued: Certificates
    cross_archive: CrossArchive
    turnaround_working_days: Turnaround
    by_category: dict[str, int] = Field(description="category code → requests")
    by_purpose: dict[str, int] = Field(description="purpose code → requests")
    rejections_by_reason: dict[str, int] = Field(description="reject reason code → rejections")
    by_month: list[Month]


@routes.get("/statistics", summary="利用统计 (statistics)", ok=Statistics, query=StatisticsQuery, errors=(403, 404))
def statistics_view():
    """Staff of an archive and the network admin; another archive's code answers 404, as an
    unknown one does. Without `archive`: the whole network, for the network admin (others: 403)."""
    user = g.api_user
    query = read_query(StatisticsQuery)
    archive = None
    if query.archive:
        archive = (db.session.scalar(select(Archive).where(Archive.code == query.archive))
                   if clean_text(query.archive) else None)  # a NUL: no archive (PostgreSQL refuses it)
        if archive is None or not policy.can(user, ACTION, archive):
            return api_error(_("档案馆不存在，或者您无权查看其统计 (no such archive, or not yours to see)"), 404)
    elif not policy.may_everywhere(user, ACTION):
        return api_error(_("只有全网管理员可以查看全网统计 (only the network admin sees the whole network)"), 403)
    period, errors = read_period(query.from_, query.to)
    if errors:
        raise BadInput(errors)
    return jsonify(statistics(db.session, archive, period))
