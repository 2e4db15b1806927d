"""The figures as tables: what the dashboard shows under each chart, what each chart draws and
what each CSV export holds — one definition, so the three cannot disagree."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from portal.core.categories import CATEGORIES
from portal.core.i18n import N_
from portal.requests.labels import PURPOSE_LABELS, REJECT_REASONS

CHANNEL_LABELS = {"web": N_("网上申请"), "counter": N_("现场接待"), "api": N_("接口"),
                  "other_archive": N_("他馆协办")}
UNSPECIFIED = N_("未注明")


@dataclass(frozen=True)
class Table:
    name: str       # in URLs: /chart/<name>.svg, /export/<name>.csv
    caption: str
    headers: list[str]
    rows: list[list]
    chart: str | None = None  # "bar" (columns by month), "hbar" (one bar per row), or None


def _share(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _days(value) -> str:
    return "" if value is None else f"{value:g}"


def _label(labels: dict, code: str) -> str:
    return _(labels[code]) if code in labels else _(UNSPECIFIED)


def summary(f: dict) -> Table:
    cross, turnaround = f["cross_archive"], f["turnaround_working_days"]
    rows = [
        [_("收到申请"), f["requests_received"]["total"]],
        [_("接待人次"), f["persons_served"]],
        [_("调卷数"), f["records_retrieved"]],
        [_("出具证明：档案查询结果证明"), f["certificates_issued"]["found"]],
        [_("出具证明：查无档案记录证明"), f["certificates_issued"]["not_found"]],
        [_("发出协办任务"), cross["sent"]],
        [_("收到协办任务"), cross["received"]],
        [_("协办按期答复率"), _share(cross["on_time_share"])],
        [_("办理用时中位数（工作日）"), _days(turnaround["median"])],
        [_("办理用时第 90 百分位（工作日）"), _days(turnaround["p90"])],
    ]
    return Table("summary", _("主要数字"), [_("项目"), _("数值")], rows)


def months(f: dict) -> Table:
    headers = [_("月份"), _("收到申请"), _("接待人次"), _("调卷数"), _("查询结果证明"), _("查无记录证明"),
               _("发出协办任务"), _("收到协办任务"), _("不予通过")]
    keys = ("requests_received", "persons_served", "records_retrieved", "certificates_found",
            "certificates_not_found", "cross_archive_sent", "cross_archive_received", "rejections")
    rows = [[m["month"], *(m[k] for k in keys)] for m in f["by_month"]]
    return Table("months", _("按月统计"), headers, rows, "bar")


def channels(f: dict) -> Table:
    received = f["requests_received"]
    rows = [[_(label), received[code]] for code, label in CHANNEL_LABELS.items()]
    return Table("channels", _("收到申请（按渠道）"), [_("渠道"), _("申请数")], rows, "hbar")


def categories(f: dict) -> Table:
    rows = [[_label(CATEGORIES, code), n] for code, n in f["by_category"].items()]
    return Table("categories", _("收到申请（按档案类别）"), [_("档案类别"), _("申请数")], rows, "hbar")


def purposes(f: dict) -> Table:
    rows = [[_label(PURPOSE_LABELS, code), n] for code, n in f["by_purpose"].items()]
    return Table("purposes", _("收到申请（按利用目的）"), [_("利用目的"), _("申请数")], rows, "hbar")


def rejections(f: dict) -> Table:
    rows = [[_label(REJECT_REASONS, code), n] for code, n in f["rejections_by_reason"].items()]
    return Table("rejections", _("不予通过（按原因）"), [_("原因"), _("次数")], rows, "hbar")


BUILDERS = {"summary": summary, "months": months, "channels": channels, "categories": categories,
            "purposes": purposes, "rejections": rejections}


def all_tables(f: dict) -> list[Table]:
    return [build(f) for build in BUILDERS.values()]
