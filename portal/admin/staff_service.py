"""An archive's staff accounts: invited by email (the account has no usable password until the
person sets one from the link), given a role, disabled and enabled again — never deleted (their
name stays on every timeline event and audit entry). Each step checks the archive rule
`manage_staff` (portal.policy) and is in the audit log.

The invitation link is a one-time password link (portal.accounts.links, purpose "reset_password")
that lasts INVITATION_LIFETIME: a new one replaces the old, a used one opens nothing, and
disabling the account revokes it with the person's sessions and API tokens (sessions.revoke)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import policy
from portal.accounts import links, sessions
from portal.accounts.models import User
from portal.accounts.service import EMAIL_PATTERN, PHONE_PATTERN, normalize_email, password_from_link
from portal.archives.models import Archive
from portal.audit.models import AuditLog
from portal.audit.service import log
from portal.core.clock import utcnow
from portal.core.errors import Conflict, NotAllowed, ValidationFailed
from portal.core.i18n import N_
from portal.mail.service import letter, queue_email
from portal.requests.models import OPEN_STATUSES, UtilizationRequest
from portal.review.models import VerificationTask
from portal.web_util import public_url

# Network admins are made on the server (`portal create-user --role admin`), never in the browser.
STAFF_ROLES = ("clerk", "reviewer", "archive_admin")
ROLE_LABELS = {"clerk": N_("查档接待员"), "reviewer": N_("审核员"), "archive_admin": N_("档案馆管理员")}
INVITATION_LIFETIME = timedelta(hours=72)
# Not an argon2 hash: no password matches it (verify_password refuses it), until the person sets one.
NO_PASSWORD = "!invited"


def _check(actor, archive: Archive, session: Session | None = None) -> None:
    """May `actor` manage the staff of `archive`; with `session`, as their account is now, read
    under a lock on the archive's row (two admins demoting or disabling each other at once: the
    second is no admin any more by then, and the archive keeps one)."""
    if not policy.can(actor, "manage_staff", archive):
        raise NotAllowed("manage_staff")
    if session is not None and actor.role != "admin":
        session.execute(select(Archive.id).where(Archive.id == archive.id).with_for_update())
        now = session.execute(select(User.role, User.archive_id, User.is_active_account)
                              .where(User.id == actor.id)).one_or_none()
        if now is None or tuple(now) != (actor.role, actor.archive_id, True):
            raise NotAllowed("manage_staff")


def staff_of(session: Session, archive: Archive) -> list[User]:
    return list(session.scalars(select(User).where(User.archive_id == archive.id, User.role.in_(STAFF_ROLES))
                                .order_by(User.is_active_account.desc(), User.role, User.real_name, User.id)))


def member(session: Session, archive: Archive, user_id: int) -> User:
    """A staff member of `archive` (LookupError for anyone else: the page answers 404)."""
    user = session.get(User, user_id)
    if user is None or user.archive_id != archive.id or user.role not in STAFF_ROLES:
        raise LookupError(user_id)
    return user


def invited(user: User) -> bool:
    """Has not set a password from the invitation yet."""
    return user.password_hash == NO_PASSWORD


def _role_problem(role: str) -> str | None:
    return None if role in STAFF_ROLES else _l("请选择查档接待员、审核员或档案馆管理员")


def invite(session: Session, archive: Archive, typed: dict, actor, ip: str = "") -> User:
    """A new staff account of `archive` without a password, and an email with the link to set
    one. ValidationFailed with every field's problem at once."""
    _check(actor, archive)
    errors: dict = {}
    email = normalize_email(typed.get("email") or "")
    name = " ".join(str(typed.get("name") or "").split())
    phone = str(typed.get("phone") or "").strip().replace(" ", "")
    role = str(typed.get("role") or "")
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        errors["email"] = _l("请填写有效的电子邮箱")
    elif session.scalar(select(User.id).where(User.email == email)):
        errors["email"] = _l("这个邮箱已有账号，不能再邀请")
    if not name:
        errors["name"] = _l("请填写真实姓名")
    elif len(name) > 50:
        errors["name"] = _l("姓名不能超过 50 个字")
    if phone and not PHONE_PATTERN.match(phone):
        errors["phone"] = _l("请填写有效的手机号或固定电话")
    if problem := _role_problem(role):
        errors["role"] = problem
    if errors:
        if set(errors) == {"email"} and (again := _just_invited(session, archive, actor, email, name, role)):
            return again
        raise ValidationFailed(errors)
    user = User(email=email, password_hash=NO_PASSWORD, real_name=name, phone=phone, role=role, archive_id=archive.id)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # the same address, invited at this very moment
        session.rollback()
        if again := _just_invited(session, archive, actor, email, name, role):
            return again
        raise ValidationFailed({"email": _l("这个邮箱已有账号，不能再邀请")}) from None
    log(session, "staff_invited", actor=actor, object_type="user", object_id=user.id, ip=ip,
        archive=archive.code, after={"email": email, "name": name, "role": role})
    _send_invitation(session, user, archive)
    session.commit()
    return user


DOUBLE_CLICK = timedelta(minutes=2)


def _just_invited(session: Session, archive: Archive, actor, email: str, name: str, role: str) -> User | None:
    """The same invitation this admin sent a moment ago (a double click: the browser shows the
    second answer, which says it was sent, not that the address is taken); no second email."""
    user = session.scalar(select(User).where(User.email == email))
    if (user is None or (user.archive_id, user.role, user.real_name) != (archive.id, role, name) or not invited(user)
            or user.created_at < utcnow() - DOUBLE_CLICK):
        return None
    sent_by = session.scalar(select(AuditLog.actor_id).where(AuditLog.action == "staff_invited",
                                                              AuditLog.object_id == str(user.id)))
    return user if sent_by == actor.id else None


def _send_invitation(session: Session, user: User, archive: Archive) -> None:
    raw = links.issue(session, user, "reset_password", lifetime=INVITATION_LIFETIME)
    queue_email(session, user.email, f"邀请您加入{archive.name}的档案利用服务平台", letter(
        user.real_name,
        f"{archive.name}为您开通了档案利用服务平台的工作人员账号（{ROLE_LABELS[user.role]}），登录邮箱为 {user.email}。",
        "请在 3 天内打开下面的链接设置密码，链接只能使用一次：",
        public_url("invitation.welcome", token=raw), "",
        "链接过期后，请联系本馆管理员重新发送邀请。如果您不知道这件事，请忽略这封邮件。"))


def resend(session: Session, archive: Archive, user: User, actor, ip: str = "") -> None:
    """A new invitation link (the old one stops working); only for an active account that has not
    set its password yet."""
    _check(actor, archive)
    if not user.is_active_account:
        raise Conflict(_l("账号已停用，请先启用再发送邀请"))
    if not invited(user):
        raise Conflict(_l("%(name)s已经设置了密码，无需再次邀请", name=user.real_name))
    _send_invitation(session, user, archive)
    log(session, "staff_invitation_resent", actor=actor, object_type="user", object_id=user.id, ip=ip)
    session.commit()


@dataclass(frozen=True)
class Claims:
    """The open work a person holds: request numbers and task ids (claims stop others working on them)."""
    requests: list[str]
    tasks: list[str]

    def __bool__(self) -> bool:
        return bool(self.requests or self.tasks)


def open_claims(session: Session, user: User) -> Claims:
    requests = session.scalars(select(UtilizationRequest.number).where(
        UtilizationRequest.claimed_by_id == user.id, UtilizationRequest.status.in_(OPEN_STATUSES))
        .order_by(UtilizationRequest.number)).all()
    tasks = session.scalars(select(VerificationTask.public_id).where(
        VerificationTask.claimed_by_id == user.id, VerificationTask.status == "open")
        .order_by(VerificationTask.public_id)).all()
    return Claims(list(requests), list(tasks))


def _release_claims(session: Session, user: User, claims: Claims, actor, ip: str) -> None:
    """Back to the queue, each row's version moved on (a page showing the old claim gets "changed")."""
    session.execute(update(UtilizationRequest).where(UtilizationRequest.number.in_(claims.requests))
                    .values(claimed_by_id=None, claimed_at=None, version=UtilizationRequest.version + 1)
                    .execution_options(synchronize_session=False))
    session.execute(update(VerificationTask).where(VerificationTask.public_id.in_(claims.tasks))
                    .values(claimed_by_id=None, claimed_at=None, version=VerificationTask.version + 1)
                    .execution_options(synchronize_session=False))
    log(session, "staff_claims_released", actor=actor, object_type="user", object_id=user.id, ip=ip,
        requests=claims.requests, tasks=claims.tasks)


class HoldsClaims(Conflict):
    """The person holds open work: the page lists it and asks to confirm its release."""

    def __init__(self, claims: Claims):
        super().__init__(_l("该工作人员认领了尚未办结的申请或协办任务"))
        self.claims = claims


def _claims_settled(session: Session, user: User, release: bool, actor, ip: str) -> None:
    claims = open_claims(session, user)
    if claims and not release:
        raise HoldsClaims(claims)
    if claims:
        _release_claims(session, user, claims, actor, ip)


def change_role(session: Session, archive: Archive, user: User, role: str, actor, *, release: bool = False,
                ip: str = "") -> None:
    """A new role in the same archive. Nobody changes their own (an archive would lose its last
    admin by a slip); open work the person holds goes back to the queue, once `release` confirms it."""
    _check(actor, archive, session)
    if problem := _role_problem(role):
        raise ValidationFailed({"role": problem})
    if user.id == actor.id:
        raise Conflict(_l("不能修改自己的角色，请由其他管理员操作"))
    if role == user.role:
        return
    _claims_settled(session, user, release, actor, ip)  # a new desk: the old one's work goes back
    log(session, "staff_role_changed", actor=actor, object_type="user", object_id=user.id, ip=ip,
        before={"role": user.role}, after={"role": role})
    user.role = role
    session.commit()


def disable(session: Session, archive: Archive, user: User, actor, *, release: bool = False, ip: str = "") -> int:
    """The account stops working now: its sessions, API tokens and links end in the same
    transaction. Open work it holds goes back to the queue, once `release` confirms it (else
    HoldsClaims says what it holds). Returns how many sessions ended."""
    _check(actor, archive, session)
    if user.id == actor.id:
        raise Conflict(_l("不能停用自己的账号"))
    if not user.is_active_account:
        return 0
    _claims_settled(session, user, release, actor, ip)
    user.is_active_account = False
    ended = sessions.revoke(session, user)
    log(session, "staff_disabled", actor=actor, object_type="user", object_id=user.id, ip=ip,
        before={"active": True}, after={"active": False}, sessions_ended=ended)
    session.commit()
    return ended


def enable(session: Session, archive: Archive, user: User, actor, ip: str = "") -> None:
    _check(actor, archive)
    if user.is_active_account:
        return
    user.is_active_account = True
    log(session, "staff_enabled", actor=actor, object_type="user", object_id=user.id, ip=ip,
        before={"active": False}, after={"active": True})
    session.commit()


def accept_invitation(session: Session, raw: str | None, password: str, ip: str = "") -> User | None:
    """The first password, set from the invitation link (once, while it lasts): the address is
    confirmed by it. None for a wrong, used or expired link, or a disabled account;
    ValidationFailed for a weak password (the link still works then)."""
    user = password_from_link(session, raw, password, active_only=True)
    if user is None:
        return None
    user.last_login_at = utcnow()
    log(session, "staff_invitation_accepted", actor=user, object_type="user", object_id=user.id, ip=ip)
    sessions.revoke(session, user)
    session.commit()
    return user
