"""利用统计 on the administration pages: the dashboard of one archive (/admin/<code>/statistics)
or of the whole network (/admin/statistics, the network admin), each chart as its own SVG
response for an <img>, and each table as a CSV file. The date range comes as ?from=&to=."""
from __future__ import annotations

from flask import Response, abort, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import policy
from portal.admin.sections import section
from portal.admin.views import archive_for, bp
from portal.archives.models import Archive
from portal.db import db
from portal.stats import tables
from portal.stats.period import read_period
from portal.stats.service import csv_bytes, keep, kept_or_counted, statistics
from portal.web_util import render

ACTION = "view_statistics"
# A chart's own policy: nothing may load, no script runs; only pygal's inline stylesheet applies.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _archive(code: str | None) -> Archive | None:
    """The archive whose figures are asked for (404 unless the person may see them), or None for
    the whole network (its figures: the network admin only)."""
    if code is None:
        if not policy.may_everywhere(current_user, ACTION):
            abort(404)
        return None
    return archive_for(code, ACTION)


def _period_or_400():
    period, errors = read_period(request.args.get("from"), request.args.get("to"))
    if errors:
        abort(Response("; ".join(str(m) for m in errors.values()), 400, mimetype="text/plain"))
    return period


@bp.get("/statistics", defaults={"code": None})
@bp.get("/<code>/statistics")
@login_required
def statistics_page(code: str | None):
    archive = _archive(code)
    period, errors = read_period(request.args.get("from"), request.args.get("to"))
    figures = None if errors else statistics(db.session, archive, period)
    range_args = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    if figures:
        range_args["v"] = keep(archive, period, figures)  # the charts and CSVs draw these figures
    archives = []
    if policy.may_everywhere(current_user, ACTION):
        archives = db.session.scalars(select(Archive).where(Archive.node.is_(None)).order_by(Archive.code)).all()
    return render("admin/stats.html", "admin/_stats.html", status=400 if errors else 200,
                  archive=archive, period=period, errors=errors, args=request.args, figures=figures,
                  tables=tables.all_tables(figures) if figures else [], archives=archives,
                  range_args=range_args)


def _table(code: str | None, name: str):
    """(archive, period, table) of a chart or CSV link: the page's figures when its key is given."""
    archive = _archive(code)
    build = tables.BUILDERS.get(name)
    if build is None:
        abort(404)
    period = _period_or_400()
    return archive, period, build(kept_or_counted(db.session, request.args.get("v"), archive, period))


@bp.get("/statistics/chart/<name>.svg", defaults={"code": None})
@bp.get("/<code>/statistics/chart/<name>.svg")
@login_required
def statistics_chart(code: str | None, name: str):
    table = _table(code, name)[2]
    if table.chart is None:
        abort(404)
    from portal.stats import charts  # pygal and lxml (~75 ms): loaded by the first chart, not at every start

    response = Response(charts.svg(table), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    return response


@bp.get("/statistics/export/<name>.csv", defaults={"code": None})
@bp.get("/<code>/statistics/export/<name>.csv")
@login_required
def statistics_csv(code: str | None, name: str):
    archive, period, table = _table(code, name)
    filename = f"statistics-{archive.code if archive else 'network'}-{period.start}-{period.end}-{name}.csv"
    return Response(csv_bytes(table), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


section("admin.statistics_page", _l("利用统计"), ACTION, order=80)
