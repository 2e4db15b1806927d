"""Accounts: creating citizens and staff, logging in. Rules live here; views and the CLI call in."""
from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.identity import mark_verified
from portal.accounts.models import ROLES, User
from portal.accounts.passwords import hash_password, password_problem, verify_password
from portal.archives.models import Archive
from portal.audit.service import log
from portal.core.errors import ValidationFailed
from portal.core.idnumber import InvalidIdNumber, normalize_id_number
from portal.core.personal_data import cipher
from portal.core.clock import utcnow

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(session: Session, *, role: str, email: str, password: str, name: str,
                id_number: str | None = None, phone: str = "", archive_code: str | None = None,
                actor: User | None = None, ip: str = "", verified: bool = False) -> User:
    """Validate everything, then add the user; raises ValidationFailed with every problem at once.
    `verified`: an administrator vouches for the identity (`portal create-user --verified`, demos)."""
    errors: dict[str, str] = {}
    email = normalize_email(email)
    name = (name or "").strip()
    phone = (phone or "").strip().replace(" ", "")
    if role not in ROLES:
        errors["role"] = _l("未知角色：%(role)s", role=role)
    if not _EMAIL.match(email) or len(email) > 254:
        errors["email"] = _l("请填写有效的电子邮箱")
    elif session.scalar(select(User.id).where(User.email == email)):
        errors["email"] = _l("该邮箱已注册，请直接登录或找回密码")
    if not name:
        errors["name"] = _l("请填写真实姓名")
    elif len(name) > 50:
        errors["name"] = _l("姓名不能超过 50 个字")
    if problem := password_problem(password or "", email):
        errors["password"] = problem
    if phone and not _PHONE.match(phone):
        errors["phone"] = _l("请填写有效的手机号或固定电话")

    id_hash = None
    if id_number or role == "citizen":
        try:
            id_number = normalize_id_number(id_number or "")
            id_hash = cipher().lookup_hash(id_number)
            if session.scalar(select(User.id).where(User.id_number_hash == id_hash)):
                errors["id_number"] = _l("该身份证号码已注册账号")
        except InvalidIdNumber as exc:
            errors["id_number"] = exc.args[0]

    archive = None
    if role in ("clerk", "reviewer"):
        if not archive_code:
            errors["archive"] = _l("工作人员必须属于一个档案馆")
        elif not (archive := session.scalar(select(Archive).where(Archive.code == archive_code))):
            errors["archive"] = _l("档案馆代码不存在：%(code)s", code=archive_code)
    elif role == "admin" and archive_code:
        archive = session.scalar(select(Archive).where(Archive.code == archive_code))
    if errors:
        raise ValidationFailed(errors)

    user = User(role=role, email=email, password_hash=hash_password(password), real_name=name,
                phone=phone, archive=archive,
                id_number_enc=cipher().encrypt(id_number) if id_hash else None, id_number_hash=id_hash)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        # Two registrations with the same email or ID raced past the checks above.
        session.rollback()
        raise ValidationFailed({"email": _l("该邮箱或身份证号码已注册账号")}) from None
    log(session, "user_created", actor=actor or user, object_type="user", object_id=user.id, ip=ip, role=role)
    if verified and id_hash:
        mark_verified(session, user, method="created", actor=actor, ip=ip)
    session.commit()
    return user


def authenticate(session: Session, email: str, password: str, ip: str = "") -> User | None:
    """The user, or None for a wrong email, a wrong password or a disabled account alike.
    The callers count the attempt against the "login" throttle first (portal/throttle.py)."""
    email = normalize_email(email)
    # Emails are stored normalised, so the unique index answers this.
    user = session.scalar(select(User).where(User.email == email)) if email else None
    ok = verify_password(user.password_hash if user else None, password or "")
    if ok and user.is_active:
        user.last_login_at = utcnow()
        log(session, "login", actor=user, object_type="user", object_id=user.id, ip=ip)
        session.commit()
        return user
    # Keyed on the email as typed, so that unknown and known accounts are throttled alike.
    log(session, "login_failed", object_type="login", object_id=email[:80], ip=ip,
        email=email[:254], user_id=user.id if user else None)
    session.commit()
    return None


def id_number_of(user: User) -> str | None:
    return cipher().decrypt(user.id_number_enc) if user.id_number_enc else None

