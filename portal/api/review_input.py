"""Reading what API clients send to the staff side: action bodies (note, version, reject reason,
reassignment, the certified copy) and the queue's query parameters, as strictly as
portal.api.request_input reads applications: every problem is a BadInput naming its field."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select

from portal.api.request_input import (FORM_TYPES, BadInput, check_form_fields, load_json, Reader,
                                      unsupported_type, clean_text)
from portal.archives.models import Archive
from portal.core.categories import CATEGORIES
from portal.db import db
from portal.requests.applying import Upload
from portal.review import service as review
from portal.review.queue import PAGE_SIZE, QueueFilters, staff_scope

QUEUE_PARAMS = ("tab", "archive", "after", "limit", "category", "relation", "other_archive", "date_from",
                "date_to", "find")
MAX_LIMIT = 100
MAX_FIND_CHARS = 100
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Submission dates the filters can turn into a time range without leaving datetime's years.
_FIRST_DAY, _LAST_DAY = date(1000, 1, 1), date(9998, 12, 31)


def unknown_field(name: str) -> str:
    return _("未知字段 %(field)s (unknown field %(field)s)", field=name)


@dataclass
class Body:
    note: str = ""
    version: int | None = None
    reason: str = ""
    to: str = ""
    copy: Upload | None = None
    archives: list[str] | None = None  # None when not sent


def read_body(keys: tuple[str, ...], *, takes_copy: bool = False, no_files_message: str = "") -> Body:
    """An action's body, as strictly as portal.api.request_input reads the others: a JSON object or a
    form with `keys` (`version` an integer, `archives` a list of strings — a repeated form field —,
    the rest strings); with `takes_copy`, one `copy` file part."""
    body = Body()
    if request.mimetype in FORM_TYPES:
        check_form_fields(keys, ("copy",) if takes_copy else ())
        parts = list(request.files.items(multi=True))
        for name, _part in parts:
            if not takes_copy:
                raise BadInput({name: no_files_message})
            if name != "copy":
                raise BadInput({name: unknown_field(name)})
        if len(parts) > 1:
            raise BadInput({"copy": _("只能附带一个复制件文件 (send one copy file only)")})
        if parts:
            body.copy = Upload("certified_copy", parts[0][1].filename or "", parts[0][1].stream)
        r = Reader()
        for key in keys:
            if key == "archives":
                if key in request.form:
                    body.archives = [r.string(value, key) for value in request.form.getlist(key)]
            elif key == "version":
                body.version = r.form_integer(request.form.get(key), key)
            else:
                setattr(body, key, r.string(request.form.get(key), key))
        if r.errors:
            raise BadInput(r.errors)
        return body
    data = request.get_data(cache=False)
    if not data.strip():
        return body
    if request.mimetype != "application/json":
        raise unsupported_type()
    doc = load_json(data, "body")
    r = Reader()
    r.obj(doc, "", keys)
    for key in keys:
        if key == "version":
            body.version = r.integer(doc.get(key), key)
        elif key == "archives":
            values = r.array(doc.get(key), key)
            body.archives = None if values is None else [r.string(value, key) for value in values]
        else:
            setattr(body, key, r.string(doc.get(key), key))
    if r.errors:
        raise BadInput(r.errors)
    return body


def read_reject() -> tuple[str, int | None]:
    """The note and version of a reject, whose body may also name a `reason` code of
    portal.review.service.REJECT_REASONS: the note becomes "<reason label>：<note>", what the
    applicant sees on the timeline and in the email. The note stays required."""
    body = read_body(("note", "version", "reason"),
                      no_files_message=_("只有 resubmit 可以附带文件 (only resubmit takes files)"))
    reason = body.reason.strip()
    if reason and reason not in review.REJECT_REASONS:
        raise BadInput({"reason": _("未知的不予通过理由 %(reason)s (unknown reason %(reason)s)", reason=reason[:40])})
    note = body.note.strip()
    if reason and note:
        note = f"{review.REJECT_REASONS[reason]}：{note}"  # stored in Chinese, whatever the caller's language
    return note, body.version


def read_accept() -> tuple[str, int | None, list[str] | None]:
    """The note and version of an accept; for "please search for me", `archives` (codes) names the
    archives that are to search, replacing those the applicant named."""
    body = read_body(("note", "version", "archives"),
                     no_files_message=_("只有 resubmit 可以附带文件 (only resubmit takes files)"))
    return body.note, body.version, body.archives


@dataclass
class QueueArgs:
    tab: str
    archive_id: int | None
    after: str | None
    limit: int
    filters: QueueFilters


def _day(value: str, field: str, errors: dict) -> date | None:
    if not value:
        return None
    day = None
    if _ISO_DAY.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
    if day is None or not _FIRST_DAY <= day <= _LAST_DAY:
        errors[field] = _("%(field)s 应为 YYYY-MM-DD 格式的日期 (%(field)s must be a date as YYYY-MM-DD)", field=field)
        return None
    return day


def read_queue_args(user) -> QueueArgs:
    args = request.args
    for name in args:
        if name not in QUEUE_PARAMS:
            raise BadInput({name: unknown_field(name)})
    errors: dict[str, str] = {}
    values = {}
    for name in QUEUE_PARAMS:
        value = args.get(name, "").strip()
        if not clean_text(value):
            errors[name] = _("字段 %(field)s 含有无效字符 (%(field)s contains invalid characters)", field=name)
            value = ""
        values[name] = value

    # Whose queue: staff their own archive's; admins any archive's, or every archive's at once.
    code = values["archive"]
    archive_id = None
    if user.role == "admin":
        archive_id = staff_scope(user, code)
        if archive_id == -1:
            errors["archive"] = _("未知的档案馆 %(code)s (unknown archive %(code)s)", code=code[:40])
    else:
        if code and code != user.archive.code:
            raise BadInput({"archive": _("只能查看本馆的工作队列 (staff see their own archive's queue only)")}, 403)
        archive_id = staff_scope(user)

    limit = PAGE_SIZE
    if (raw := values["limit"]):
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            limit = int(raw)
            if not 1 <= limit <= MAX_LIMIT:
                errors["limit"] = _("每页条数应在 1 至 %(n)s 之间", n=MAX_LIMIT)
        else:
            errors["limit"] = _("字段 %(field)s 应为整数 (%(field)s must be an integer)", field="limit")

    after = values["after"] or None  # queue() decodes it, and names it when it is bad
    category = values["category"]
    if category and category not in CATEGORIES:
        errors["category"] = _("未知的档案类别：%(c)s", c=category[:40])
    other = values["other_archive"]
    if other and "other_archive" not in errors and db.session.scalar(
            select(Archive.id).where(Archive.code == other)) is None:
        errors["other_archive"] = _("未知的档案馆 %(code)s (unknown archive %(code)s)", code=other[:40])
    date_from = _day(values["date_from"], "date_from", errors)
    date_to = _day(values["date_to"], "date_to", errors)
    if date_from and date_to and date_from > date_to:
        errors["date_from"] = _("date_from 不能晚于 date_to (date_from must not be after date_to)")
    find = values["find"]
    if len(find) > MAX_FIND_CHARS:
        errors["find"] = _("检索词不能超过 %(n)s 个字", n=MAX_FIND_CHARS)
    if errors:
        raise BadInput(errors)
    filters = QueueFilters(category=category, relation=values["relation"], archive=other, date_from=date_from,
                           date_to=date_to, find=find)
    return QueueArgs(values["tab"] or "to_accept", archive_id, after, limit, filters)
