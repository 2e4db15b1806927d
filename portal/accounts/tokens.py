"""Bearer tokens for the JSON API: issued for an email and password, good for API_TOKEN_HOURS.
Only the token's SHA-256 is stored, so a copy of the table lets nobody in."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.accounts.models import ApiToken, User
from portal.accounts.service import authenticate
from portal.audit.service import log
from portal.core.clock import utcnow

# token_urlsafe(32) gives 43 characters; anything much longer is not one of ours and is not worth hashing.
_MAX_TOKEN_LENGTH = 100


class InvalidCredentials(Exception):
    """Wrong email, wrong password or a disabled account: deliberately one case."""


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(session: Session, email: str, password: str, ip: str = "") -> tuple[str, datetime]:
    """A new token and its expiry. Raises InvalidCredentials (the caller counted the attempt against
    the "login" throttle, together with the web log-in's)."""
    user = authenticate(session, email, password, ip=ip)
    if user is None:
        raise InvalidCredentials()
    now = utcnow()
    raw = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    # Expired tokens open nothing; clearing them here keeps the table at a few rows per person.
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at <= now))
    token = ApiToken(user_id=user.id, token_hash=_digest(raw), created_at=now, expires_at=expires_at)
    session.add(token)
    session.flush()
    log(session, "api_token_issued", actor=user, object_type="api_token", object_id=token.id, ip=ip,
        expires_at=expires_at.isoformat())
    session.commit()
    return raw, expires_at


def user_for_token(session: Session, raw: str | None) -> User | None:
    """The token's user, or None for an unknown or expired token or a disabled account. A lookup by
    hash leaks no timing about the token itself: an attacker cannot steer the hash byte by byte."""
    if not raw or len(raw) > _MAX_TOKEN_LENGTH:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.expires_at <= utcnow() or not token.user.is_active:
        return None
    token.user.signed_in_at = token.created_at  # the password was typed to get this token
    return token.user


def revoke_token(session: Session, raw: str) -> None:
    """The token stops working now (DELETE /api/v1/tokens: a script signing out)."""
    session.execute(delete(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    session.commit()
