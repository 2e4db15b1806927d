"""Signed-in browsers, kept on the server (one `UserSession` row each), so that a session ends when
the person ends it.

The session cookie (signed by Flask) carries Flask-Login's user id and a random session id; only
the id's SHA-256 is stored. Every request that carries a user id finds its row (`current`, the
user loader), so:
- logging out deletes the row: a copy of the cookie taken before then opens nothing;
- "log out everywhere" and a new password delete all of a person's rows and API tokens;
- a row not seen for the idle limit (30 minutes for staff, configurable) is gone;
- staff type their password again before signing or revoking a certificate when they typed it
  longer ago than that (`check_recent_password`)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, request, session as cookie
from flask_login import login_user, logout_user
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import AccountToken, ApiToken, User, UserSession
from portal.core.clock import utcnow

SID = "sid"
# last_seen_at is written at most this often: one UPDATE per minute of activity, not per request.
TOUCH_EVERY = timedelta(seconds=60)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii", "replace")).hexdigest()


def idle_limit(user: User) -> timedelta:
    key = "SESSION_IDLE_MINUTES_STAFF" if user.is_staff else "SESSION_IDLE_MINUTES"
    return timedelta(minutes=current_app.config[key])


def start(db_session: Session, user: User, ip: str = "") -> None:
    """Sign `user` in on this browser: a new session id (never one the browser brought along) and
    nothing left over from before (the basket of whoever used the computer last)."""
    cookie.clear()
    raw = secrets.token_urlsafe(32)
    db_session.add(UserSession(user_id=user.id, sid_hash=_digest(raw), ip=ip[:45],
                               user_agent=request.headers.get("User-Agent", "")[:200]))
    db_session.commit()
    login_user(user)
    cookie[SID] = raw


def _row(db_session: Session) -> UserSession | None:
    raw = cookie.get(SID)
    if not isinstance(raw, str) or not raw or len(raw) > 100:
        return None
    return db_session.scalar(select(UserSession).where(UserSession.sid_hash == _digest(raw)))


def current(db_session: Session, user_id: str) -> User | None:
    """The user of this browser's session, or None: no row (logged out, everywhere, new password),
    idle too long, or the account disabled. Flask-Login's user loader; it runs before the view
    (portal.web loads the user first), so its commit never carries a view's half-done work."""
    raw = cookie.get(SID)
    if not isinstance(raw, str) or not raw or len(raw) > 100:
        return None
    found = db_session.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                               .where(UserSession.sid_hash == _digest(raw))).first()  # one query a request
    if found is None or str(found.User.id) != str(user_id):
        return None
    row, user = found
    now = utcnow()
    if not user.is_active or now - row.last_seen_at > idle_limit(user):
        db_session.delete(row)
        db_session.commit()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        db_session.commit()
    user.signed_in_at = row.authenticated_at
    return user


def end(db_session: Session) -> None:
    """Log out of this browser: the row goes, and the whole cookie session with it."""
    if (row := _row(db_session)) is not None:
        db_session.delete(row)
        db_session.commit()
    logout_user()
    cookie.clear()


def count(db_session: Session, user: User) -> int:
    """How many browsers are signed in to this account."""
    return db_session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id))


def revoke(db_session: Session, user: User, *, keep: UserSession | None = None) -> int:
    """Everything that lets someone act as `user` without typing the password now: their sessions
    (but `keep`), API tokens and password-reset links. In the caller's transaction; returns how
    many sessions ended. Log-out everywhere, a new password, a frozen or closed account."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    ended = db_session.execute(query).rowcount
    db_session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db_session.execute(delete(AccountToken).where(AccountToken.user_id == user.id,
                                                  AccountToken.purpose == "reset_password"))
    return ended


def end_all(db_session: Session, user: User, *, keep_this_one: bool = False) -> int:
    """`revoke` and commit (all but this browser's session with keep_this_one)."""
    ended = revoke(db_session, user, keep=_row(db_session) if keep_this_one else None)
    db_session.commit()
    return ended


class PasswordNeeded(Exception):
    """The action needs the password typed again (it was last typed too long ago): HTTP 401 in the
    API, the password page on the web."""


def check_recent_password(user: User) -> None:
    """Raise PasswordNeeded when `user` came through a door (signed_in_at is set) and typed their
    password longer ago than REAUTH_MINUTES (30): a browser left signed in at a counter cannot sign
    or revoke a certificate."""
    window = timedelta(minutes=current_app.config["REAUTH_MINUTES"])
    if user.signed_in_at is not None and utcnow() - user.signed_in_at > window:
        raise PasswordNeeded()


def refreshed(db_session: Session) -> None:
    """The password was just typed again in this session."""
    if (row := _row(db_session)) is not None:
        row.authenticated_at = utcnow()
        db_session.commit()
        user = db_session.get(User, row.user_id)
        if user is not None:
            user.signed_in_at = row.authenticated_at
