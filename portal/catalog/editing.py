"""Editing one catalog record by hand (an archive's staff, portal.policy `edit_record`): the same
rules as the importer (date formats, categories, access levels, lengths, the ID number checked and
encrypted), a version check so that two people editing at once never overwrite each other
silently, the change in the audit log (which fields, never their values) and the search index
updated through the outbox."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.orm import Session

from portal import policy
from portal.audit.service import log
from portal.catalog.importer import CATEGORY_CODES, parse_date
from portal.catalog.models import Record
from portal.catalog.outbox import queue_index
from portal.core.categories import ACCESS_LEVELS
from portal.core.clock import utcnow
from portal.core.errors import Conflict, NotAllowed, ValidationFailed
from portal.core.idnumber import InvalidIdNumber, normalize_id_number
from portal.core.personal_data import cipher

FIELDS = ("title", "event_date", "category", "subject_name", "subject_id_number", "summary", "access_level")
_LIMITS = {"title": 300, "subject_name": 50, "summary": 4000}


@dataclass
class Edit:
    title: str = ""
    event_date: str = ""
    category: str = ""
    subject_name: str = ""
    subject_id_number: str = ""   # blank: keep the one registered
    clear_id_number: bool = False
    summary: str = ""
    access_level: str = ""
    version: str = ""             # the record's version when the form was shown


def version_of(record: Record) -> str:
    return record.updated_at.isoformat() if record.updated_at else ""


def date_text(record: Record) -> str:
    return "-".join(f"{p:02d}" if i else str(p) for i, p in
                    enumerate((record.event_year, record.event_month, record.event_day)) if p)


def edit_record(session: Session, record: Record, actor, edit: Edit) -> list[str]:
    """Save `edit` to `record`; the names of the fields that changed (none: nothing written).
    ValidationFailed: every field's problem at once. Conflict: someone saved it meanwhile."""
    if not policy.may(actor, "edit_record", record.archive_id):
        raise NotAllowed("edit_record")
    values = _validate(edit)
    if edit.version != version_of(record):
        raise Conflict(_("这条目录已被他人修改，请查看最新内容后重新编辑。"))
    changed = [name for name, value in values.items() if name not in ("subject_id_enc",) and
               (getattr(record, name) or None) != (value or None)]
    if "subject_id_hash" in values and values["subject_id_hash"] == record.subject_id_hash:
        values.pop("subject_id_enc", None)  # the same number: keep its ciphertext
    if not changed:
        return []
    now = utcnow()
    moved = session.execute(update(Record).where(Record.id == record.id, Record.updated_at == record.updated_at)
                            .values(**values, updated_at=now).execution_options(synchronize_session=False)).rowcount
    if not moved:
        session.rollback()
        raise Conflict(_("这条目录已被他人修改，请查看最新内容后重新编辑。"))
    fields = sorted({"subject_id_number" if n == "subject_id_hash" else
                     "event_date" if n.startswith("event_") else n for n in changed})
    log(session, "record_edited", actor=actor, object_type="record", object_id=record.id, fields=fields)
    queue_index(session, [record.id])
    session.commit()
    session.refresh(record)
    return fields


def _validate(edit: Edit) -> dict:
    errors: dict[str, str] = {}
    text = {name: (getattr(edit, name) or "").strip() for name in ("title", "subject_name", "summary")}
    if not text["title"]:
        errors["title"] = _("请填写题名")
    for name, limit in _LIMITS.items():
        if len(text[name]) > limit:
            errors[name] = _("不能超过 %(limit)s 个字", limit=limit)
    when, problem = parse_date(edit.event_date.strip())
    if problem:
        errors["event_date"] = problem
    category = CATEGORY_CODES.get(edit.category)
    if not category:
        errors["category"] = _("请选择档案类别")
    if edit.access_level not in ACCESS_LEVELS:
        errors["access_level"] = _("请选择开放状态")
    values: dict = {}
    id_text = edit.subject_id_number.strip()
    if edit.clear_id_number:
        values.update(subject_id_enc=None, subject_id_hash=None)
    elif id_text:
        try:
            number = normalize_id_number(id_text)
            values.update(subject_id_enc=cipher().encrypt(number), subject_id_hash=cipher().lookup_hash(number))
        except InvalidIdNumber as exc:
            errors["subject_id_number"] = str(exc.args[0])
    if errors:
        raise ValidationFailed(errors)
    values.update(title=text["title"], subject_name=text["subject_name"], summary=text["summary"],
                  category=category, access_level=edit.access_level, event_year=when[0], event_month=when[1],
                  event_day=when[2])
    return values
