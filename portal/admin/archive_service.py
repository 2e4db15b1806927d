"""Creating and editing an archive (its code, name, region, address, opening hours, phone and the
working days it gives itself for another archive's task): every field checked at once, every
change in the audit log with what it was before and after. Permissions are the caller's
(portal.policy: `may_create_archive`, the archive rule `edit`); the services check them again."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import policy
from portal.accounts.service import PHONE_PATTERN as PHONE  # one shape of a phone number, for people and archives
from portal.archives.models import Archive
from portal.audit.service import log
from portal.core.errors import NotAllowed, ValidationFailed

# The code is in request numbers ({code}-{year}-{sequence}), certificate serials (ZM-{code}-…), the
# signing key's file names and catalog import files: digits and capital letters, no dash. Usually
# the archive's six-digit administrative division code (GB/T 2260), e.g. 451200.
CODE = re.compile(r"^[0-9A-Z]{2,12}$")
# field → (maximum length, required)
TEXT_FIELDS = {"name": (100, True), "region": (100, True), "address": (200, False), "opening_hours": (200, False),
               "phone": (40, False)}
EDITABLE = (*TEXT_FIELDS, "task_due_working_days")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")  # a Chinese input method's digits


def _checked(typed: dict, errors: dict) -> dict:
    """The editable fields, normalised, with every problem in `errors`."""
    fields: dict = {}
    for name, (limit, required) in TEXT_FIELDS.items():
        value = " ".join(str(typed.get(name) or "").split())
        if name == "phone":
            value = value.replace(" ", "")
        if required and not value:
            errors[name] = _l("请填写此项")
        elif len(value) > limit:
            errors[name] = _l("不能超过 %(n)s 个字", n=limit)
        elif name == "phone" and value and not PHONE.match(value):
            errors[name] = _l("请填写有效的手机号或固定电话（如 0778-2222222）")
        fields[name] = value
    days = str(typed.get("task_due_working_days") or "").strip().translate(_FULLWIDTH_DIGITS)
    if not (days.isascii() and days.isdigit()) or not 1 <= int(days) <= 30:  # "²".isdigit(), int("²") fails
        errors["task_due_working_days"] = _l("协办时限应为 1 到 30 个工作日")
    else:
        fields["task_due_working_days"] = int(days)
    return fields


def create_archive(session: Session, typed: dict, actor, ip: str = "") -> Archive:
    """A new archive (the network admin's step). ValidationFailed with every field's problem."""
    if not policy.may_create_archive(actor):
        raise NotAllowed("create_archive")
    errors: dict = {}
    code = str(typed.get("code") or "").strip().upper()
    if not CODE.match(code):
        errors["code"] = _l("档案馆代码为 2 到 12 位数字或大写字母（通常是 6 位行政区划代码，如 451200）")
    elif session.scalar(select(Archive.id).where(Archive.code == code)):
        errors["code"] = _l("代码 %(code)s 已被其他档案馆使用", code=code)
    fields = _checked(typed, errors)
    if errors:
        raise ValidationFailed(errors)
    archive = Archive(code=code, **fields)
    session.add(archive)
    try:
        session.flush()
    except IntegrityError:  # the same code, created at this very moment
        session.rollback()
        raise ValidationFailed({"code": _l("代码 %(code)s 已被其他档案馆使用", code=code)}) from None
    log(session, "archive_created", actor=actor, object_type="archive", object_id=code, ip=ip,
        after={"code": code, **fields})
    session.commit()
    return archive


def values_of(archive: Archive) -> dict:
    return {name: getattr(archive, name) for name in EDITABLE}


def edit_archive(session: Session, archive: Archive, typed: dict, actor, ip: str = "") -> dict:
    """Change the archive's editable fields (never its code: request numbers, serials and keys
    carry it). Returns the changes ({field: [before, after]}); nothing changed, nothing logged."""
    if not policy.can(actor, "edit", archive):
        raise NotAllowed("edit")
    errors: dict = {}
    fields = _checked(typed, errors)
    if errors:
        raise ValidationFailed(errors)
    before = values_of(archive)
    changes = {name: [before[name], value] for name, value in fields.items() if before[name] != value}
    if changes:
        for name, (_old, new) in changes.items():
            setattr(archive, name, new)
        log(session, "archive_updated", actor=actor, object_type="archive", object_id=archive.code, ip=ip,
            before={k: v[0] for k, v in changes.items()}, after={k: v[1] for k, v in changes.items()})
    session.commit()
    return changes
