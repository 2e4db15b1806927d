"""One-time links sent by email: confirm an address (24 hours), reset a forgotten password (30
minutes). The link carries a random token; only its SHA-256 is stored (`AccountToken`), it works
once (`used_at`), and a new link of the same purpose replaces the older ones. Links are built
from PUBLIC_URL, never from the request's host."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import AccountToken, User
from portal.core.clock import utcnow
from portal.mail.service import letter, queue_email
from portal.web_util import public_url

LIFETIMES = {"confirm_email": timedelta(hours=24), "reset_password": timedelta(minutes=30)}
_MAX_TOKEN_LENGTH = 100


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii", "replace")).hexdigest()


def issue(session: Session, user: User, purpose: str, lifetime: timedelta | None = None) -> str:
    """A new link token for `purpose` (older unused ones of that purpose stop working), good for
    LIFETIMES[purpose] or `lifetime` (a staff invitation's first password). In the caller's transaction."""
    now = utcnow()
    session.execute(delete(AccountToken).where(AccountToken.user_id == user.id, AccountToken.purpose == purpose))
    raw = secrets.token_urlsafe(32)
    session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=_digest(raw), created_at=now,
                             expires_at=now + (lifetime or LIFETIMES[purpose])))
    return raw


def peek(session: Session, raw: str | None, purpose: str) -> User | None:
    """The account a still valid, unused token of `purpose` belongs to (nothing is used up)."""
    if not raw or len(raw) > _MAX_TOKEN_LENGTH:
        return None
    token = session.scalar(select(AccountToken).where(AccountToken.token_hash == _digest(raw),
                                                      AccountToken.purpose == purpose))
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    return session.get(User, token.user_id)


def use(session: Session, raw: str | None, purpose: str) -> User | None:
    """Use the token up (once: two clicks at the same moment, one wins) and return its account,
    or None. In the caller's transaction."""
    user = peek(session, raw, purpose)
    if user is None:
        return None
    used = session.execute(update(AccountToken).where(AccountToken.token_hash == _digest(raw),
                                                      AccountToken.used_at.is_(None))
                           .values(used_at=utcnow())).rowcount
    return user if used == 1 else None


def send_confirmation(session: Session, user: User) -> None:
    """Email the link that confirms `user`'s address. In the caller's transaction."""
    raw = issue(session, user, "confirm_email")
    queue_email(session, user.email, "请确认您在档案利用服务平台注册的邮箱", letter(
        user.real_name,
        "请在 24 小时内打开下面的链接，确认这是您的邮箱。确认后即可提交档案利用申请：",
        public_url("accounts.confirm_email", token=raw), "",
        "如果您没有注册，请忽略这封邮件。"))


def send_password_reset(session: Session, user: User, *, verified_at_counter: bool = False) -> None:
    """Email a link to choose a new password (30 minutes, once). In the caller's transaction.
    `verified_at_counter`: the person's identity was just checked at a reading room, and the
    password they had is void (portal/review/identity.py)."""
    raw = issue(session, user, "reset_password")
    intro = ("您的身份已在档案馆查档大厅核验。为确保账号只由您本人使用，原密码已失效，请在 30 分钟内打开下面的链接设置新密码"
             "（过期后可在登录页点“忘记密码？”重新获取）：" if verified_at_counter else
             "有人（希望是您）请求重设您的密码。请在 30 分钟内打开下面的链接设置新密码，链接只能使用一次：")
    queue_email(session, user.email, "重设档案利用服务平台的密码", letter(
        user.real_name,
        intro,
        public_url("accounts.reset_password", token=raw), "",
        "设置新密码后，您在其他设备上的登录和访问令牌都会失效。如果不是您本人操作，请忽略这封邮件，您的密码不会改变。"))
