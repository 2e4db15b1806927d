"""Accounts: creating citizens and staff, logging in. Rules live here; views and the CLI call in."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts import links
from portal.accounts.identity import IdentityConflict, mark_verified
from portal.accounts.models import ROLES, User
from portal.accounts.notice import NOTICE
from portal.accounts.passwords import hash_password, password_problem, verify_password
from portal.archives.models import Archive
from portal.audit.service import log
from portal.core.errors import ValidationFailed
from portal.core.idnumber import InvalidIdNumber, normalize_id_number
from portal.core.personal_data import cipher
from portal.core.clock import utcnow
from portal.mail.service import letter, queue_email
from portal.web_util import public_url

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_PATTERN = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def checked_account_fields(session: Session, *, role: str, email: str, password: str, name: str,
                           id_number: str | None, phone: str, archive_code: str | None,
                           errors: dict[str, str]) -> dict:
    """The fields, normalised, with every problem of their shape in `errors` (nothing about
    which accounts exist: registration must not tell)."""
    email = normalize_email(email)
    name = (name or "").strip()
    phone = (phone or "").strip().replace(" ", "")
    if role not in ROLES:
        errors["role"] = _l("未知角色：%(role)s", role=role)
    if len(email) > 254 or not EMAIL_PATTERN.match(email):  # the length first: the pattern is slow on long text
        errors["email"] = _l("请填写有效的电子邮箱")
    if not name:
        errors["name"] = _l("请填写真实姓名")
    elif len(name) > 50:
        errors["name"] = _l("姓名不能超过 50 个字")
    if problem := password_problem(password or "", email):
        errors["password"] = problem
    if phone and not PHONE_PATTERN.match(phone):
        errors["phone"] = _l("请填写有效的手机号或固定电话")
    id_hash = None
    if id_number or role == "citizen":
        try:
            id_number = normalize_id_number(id_number or "")
            id_hash = cipher().lookup_hash(id_number)
        except InvalidIdNumber as exc:
            errors["id_number"] = exc.args[0]
    archive = None
    if role in ("clerk", "reviewer", "archive_admin"):
        if not archive_code:
            errors["archive"] = _l("工作人员必须属于一个档案馆")
        elif not (archive := session.scalar(select(Archive).where(Archive.code == archive_code, Archive.node.is_(None)))):
            errors["archive"] = _l("档案馆代码不存在：%(code)s", code=archive_code)
    elif role == "admin" and archive_code:
        archive = session.scalar(select(Archive).where(Archive.code == archive_code))
    return {"role": role, "email": email, "real_name": name, "phone": phone, "archive": archive,
            "id_number_enc": cipher().encrypt(id_number) if id_hash else None, "id_number_hash": id_hash}


def create_user(session: Session, *, role: str, email: str, password: str, name: str,
                id_number: str | None = None, phone: str = "", archive_code: str | None = None,
                actor: User | None = None, ip: str = "", verified: bool = False) -> User:
    """An account made by an administrator (the CLI, demos, tests): validate everything, then add
    it; raises ValidationFailed with every problem at once. `verified`: the administrator vouches
    for the identity (`portal create-user --verified`). The address counts as confirmed."""
    errors: dict[str, str] = {}
    fields = checked_account_fields(session, role=role, email=email, password=password, name=name, id_number=id_number,
                      phone=phone, archive_code=archive_code, errors=errors)
    if "email" not in errors and session.scalar(select(User.id).where(User.email == fields["email"])):
        errors["email"] = _l("该邮箱已注册，请直接登录或找回密码")
    if errors:
        raise ValidationFailed(errors)
    user = User(password_hash=hash_password(password), email_confirmed_at=utcnow(), **fields)
    session.add(user)
    try:
        session.flush()
        log(session, "user_created", actor=actor or user, object_type="user", object_id=user.id, ip=ip, role=role)
        if verified and user.id_number_hash:
            mark_verified(session, user, method="created", actor=actor, ip=ip)
        session.commit()
    except (IntegrityError, IdentityConflict):
        # The same email raced past the check above, or the ID number is verified on another account.
        session.rollback()
        raise ValidationFailed({"email": _l("该邮箱或身份证号码已注册账号")}) from None
    return user


def registration_problems(session: Session, *, email: str, password: str, name: str, id_number: str,
                          phone: str = "") -> dict[str, str]:
    """Every problem with what was typed on the registration form, by field, in one pass (the form
    shows them all at once). Only the shape of the fields: never whether an address or an ID
    number has an account already."""
    errors: dict[str, str] = {}
    checked_account_fields(session, role="citizen", email=email, password=password, name=name, id_number=id_number,
             phone=phone, archive_code=None, errors=errors)
    return errors


def register(session: Session, *, email: str, password: str, name: str, id_number: str, phone: str = "",
             ip: str = "") -> None:
    """A citizen signing up on the web. Mistakes in what was typed raise ValidationFailed; beyond
    that, the answer is the same whoever already has an account ("check your email"), so nobody
    learns whether an address or an ID number is registered:
    - a new address: an unverified, unconfirmed account and a confirmation link by email;
    - an address that has an account: no new one; its holder is emailed that someone tried;
    - an ID number others registered: the account is made all the same (the verified one wins
      later: portal.accounts.identity), and the earlier holders are emailed.
    The password is hashed in every case, so the time taken does not tell either."""
    errors: dict[str, str] = {}
    fields = checked_account_fields(session, role="citizen", email=email, password=password, name=name, id_number=id_number,
                      phone=phone, archive_code=None, errors=errors)
    if errors:
        raise ValidationFailed(errors)
    password_hash = hash_password(password)
    existing = session.scalar(select(User).where(User.email == fields["email"]))
    if existing is None:
        user = User(password_hash=password_hash, privacy_notice_version=NOTICE.version, **fields)
        session.add(user)
        try:
            session.flush()
        except IntegrityError:  # the same address, registered at this very moment
            session.rollback()
            existing = session.scalar(select(User).where(User.email == fields["email"]))
    if existing is not None:
        _tell_someone_tried(session, existing)
        log(session, "registration_refused", object_type="user", object_id=existing.id, ip=ip, reason="email")
        session.commit()
        return
    log(session, "user_created", actor=user, object_type="user", object_id=user.id, ip=ip, role="citizen")
    for holder in session.scalars(select(User).where(User.id_number_hash == user.id_number_hash, User.id != user.id)):
        _tell_id_registered_again(session, holder)
    links.send_confirmation(session, user)
    session.commit()


def _tell_someone_tried(session: Session, holder: User) -> None:
    queue_email(session, holder.email, "有人尝试用您的邮箱注册档案利用服务平台", letter(
        holder.real_name,
        "刚才有人用您的邮箱在档案利用服务平台注册新账号。您已经有账号，所以没有建立新的账号。",
        f"如果是您本人，请直接登录；忘记密码可以在这里重设：{public_url('accounts.forgot_password')}",
        "如果不是您本人，请忽略这封邮件，您的账号没有任何改变。"))


def _tell_id_registered_again(session: Session, holder: User) -> None:
    lines = ["刚才有人用您登记的身份证号码在档案利用服务平台注册了另一个账号。"]
    if holder.is_verified:
        lines.append("您的身份已经核验，那个账号不能查看您的档案，也不能以您本人的身份申请。")
    else:
        lines.append("为保护您的个人信息，请携带居民身份证到任一档案馆查档大厅核验身份（或在提交申请时上传身份证件）。"
                     "身份核验后，用同一号码注册的其他账号将被冻结。")
    lines.append("如果那个账号是您本人注册的，请忽略这封邮件。")
    queue_email(session, holder.email, "您的身份证号码被用于注册另一个账号", letter(holder.real_name, *lines))


def authenticate(session: Session, email: str, password: str, ip: str = "") -> User | None:
    """The user, or None for a wrong email, a wrong password or a disabled account alike.
    The callers count the attempt against the "login" throttle first (portal/throttle.py)."""
    email = normalize_email(email)
    # Emails are stored normalised, so the unique index answers this.
    user = session.scalar(select(User).where(User.email == email)) if email else None
    ok = verify_password(user.password_hash if user else None, password or "")
    if ok and user.is_active and user.role != "peer":  # a peer node's system account never logs in
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



# ---- email addresses and passwords ------------------------------------------------------------

def confirm_email(session: Session, raw: str | None, ip: str = "") -> User | None:
    """The account whose address the link confirms (now confirmed), or None for a wrong, used or
    expired link."""
    user = links.use(session, raw, "confirm_email")
    if user is None:
        session.rollback()
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        log(session, "email_confirmed", actor=user, object_type="user", object_id=user.id, ip=ip)
    session.commit()
    return user


def resend_confirmation(session: Session, user: User) -> None:
    if user.email_confirmed_at is None:
        links.send_confirmation(session, user)
        session.commit()


def request_password_reset(session: Session, email: str, ip: str = "") -> None:
    """"Forgot my password": the same answer whether or not the address has an account, and the same
    work (a row in the audit log and a commit either way, so the time taken does not tell). A
    citizen gets a link; a member of staff is told to ask an administrator of their archive (staff
    passwords are reset only by them); a frozen or unknown account gets nothing."""
    email = normalize_email(email)
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        log(session, "password_reset_requested", object_type="login", object_id=email[:80], ip=ip)
        session.commit()
        return
    if user.is_staff:
        queue_email(session, user.email, "重设档案利用服务平台的密码", letter(
            user.real_name, "工作人员账号的密码只能由本馆的系统管理员重设，请联系管理员。如果不是您本人操作，请忽略这封邮件。"))
    else:
        links.send_password_reset(session, user)
    log(session, "password_reset_requested", object_type="login", object_id=email[:80], ip=ip)
    session.commit()


def password_from_link(session: Session, raw: str | None, password: str, *, active_only: bool = False) -> User | None:
    """The password set from an emailed link (a reset link, a staff invitation): once, while the link
    lasts; the address is confirmed by it. None for a wrong, used or expired link (or, with
    `active_only`, a disabled account); ValidationFailed for a weak password (the link still works
    then). Not committed: the caller logs and ends sessions."""
    user = links.peek(session, raw, "reset_password")
    if user is None or (active_only and not user.is_active):
        return None
    if problem := password_problem(password or "", user.email):
        raise ValidationFailed({"password": problem})
    password_hash = hash_password(password)
    if links.use(session, raw, "reset_password") is None:  # used at this very moment
        session.rollback()
        return None
    user.password_hash = password_hash
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()  # the link reached this address
    return user


def reset_password(session: Session, raw: str | None, password: str, ip: str = "") -> User | None:
    """Set a new password with a reset link (once, within 30 minutes); every session and token of
    the account ends. None for a wrong, used or expired link; ValidationFailed for a weak password
    (the link still works then)."""
    from portal.accounts import sessions

    user = password_from_link(session, raw, password)
    if user is None:
        return None
    log(session, "password_reset", actor=user, object_type="user", object_id=user.id, ip=ip)
    sessions.end_all(session, user)  # commits
    return user


def change_password(session: Session, user: User, old: str, new: str, ip: str = "") -> None:
    """A signed-in person's new password: the old one first; every other session and all API
    tokens end (this browser stays signed in). ValidationFailed names the field at fault."""
    from portal.accounts import sessions

    if not verify_password(user.password_hash, old or ""):
        raise ValidationFailed({"old_password": _l("当前密码不正确")})
    if problem := password_problem(new or "", user.email):
        raise ValidationFailed({"password": problem})
    user.password_hash = hash_password(new)
    log(session, "password_changed", actor=user, object_type="user", object_id=user.id, ip=ip)
    sessions.end_all(session, user, keep_this_one=True)  # commits


def set_password(session: Session, email: str, password: str) -> User:
    """An administrator's new password for an account (`portal set-password`: staff have no reset
    link). The same rules as the forms; every session, token and reset link of the account ends."""
    from portal.accounts import sessions

    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise ValidationFailed({"email": _l("没有使用这个邮箱的账号")})
    if problem := password_problem(password or "", user.email):
        raise ValidationFailed({"password": problem})
    user.password_hash = hash_password(password)
    log(session, "password_set", object_type="user", object_id=user.id)
    sessions.end_all(session, user)  # commits
    return user
