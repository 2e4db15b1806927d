from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.archives.models import Archive
from portal.db import Base, UTCDateTime
from portal.core.clock import utcnow

# "admin" runs the whole network; "archive_admin" runs one archive (its staff, catalog, appraisal:
# portal.policy.ARCHIVE_RULES) and works no requests itself.
# "peer" is another node's system account (portal.federation.peers): it never logs in; what the
# peer does here (answer a verification task, withdraw what it forwarded) is dispatched as it.
ROLES = ("citizen", "clerk", "reviewer", "archive_admin", "admin", "peer")
STAFF_ROLES = ("clerk", "reviewer", "admin")
# Identity assurance: "unverified" is self-asserted at registration; "verified" was checked by a
# clerk against the ID card, by an external real-name provider, or when a request was accepted.
IDENTITY_LEVELS = ("unverified", "verified")
VERIFY_METHODS = ("counter", "oidc", "request", "created")


class User(UserMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('citizen', 'clerk', 'reviewer', 'archive_admin', 'admin', 'peer')", name="role"),
        CheckConstraint("role NOT IN ('clerk', 'reviewer', 'archive_admin') OR archive_id IS NOT NULL",
                        name="staff_archive"),
        CheckConstraint("identity_level IN ('unverified', 'verified')", name="identity_level"),
        Index("uq_user_account_verified_id", "id_number_hash", unique=True,
              sqlite_where=text("identity_level = 'verified'"), postgresql_where=text("identity_level = 'verified'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    real_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), default="")
    role: Mapped[str] = mapped_column(String(20))
    archive_id: Mapped[int | None] = mapped_column(ForeignKey("archive.id"), index=True)
    # A peer account's node (portal.federation): the peer it acts for. None for everyone else.
    node: Mapped[str | None] = mapped_column(String(20))
    # Encrypted resident ID number and its keyed hash (see portal.core.personal_data).
    id_number_enc: Mapped[str | None] = mapped_column(String(200))
    # Many accounts may claim an ID number; one may hold it verified (uq_user_account_verified_id).
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    identity_level: Mapped[str] = mapped_column(String(10), default="unverified", server_default="unverified")
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # who verified: the audit log
    verified_method: Mapped[str | None] = mapped_column(String(20))
    # A frozen account (its ID number was verified on another account) cannot log in; the reason is
    # kept for the reading room that hears the appeal.
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The version of the personal-information notice (portal.accounts.privacy.NOTICE) the person
    # consented to at registration; None for accounts made before it was recorded, or by an administrator.
    privacy_notice_version: Mapped[str | None] = mapped_column(String(20))

    archive: Mapped[Archive | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses log-in to deactivated and frozen accounts
        return self.is_active_account and self.frozen_at is None

    # When the person behind this request last typed their password: set by each door (the web
    # session, the API token) on the user it loads; None for code acting directly (the CLI, jobs).
    # Actions marked `recent_password` in portal.actions check it (portal.accounts.sessions).
    signed_in_at = None

    @property
    def is_verified(self) -> bool:
        """A verified identity: only this matches records by ID number (see portal.policy)."""
        return self.identity_level == "verified" and bool(self.id_number_hash)

    @property
    def is_staff(self) -> bool:
        """Works requests: clerks, reviewers and network admins (an archive admin does not)."""
        return self.role in STAFF_ROLES

    @property
    def runs_an_archive(self) -> bool:
        """Has the administration pages (portal.admin): an archive admin, or the network admin."""
        return self.role in ("archive_admin", "admin")

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(Base):
    """A bearer token for the JSON API. Only its SHA-256 is stored: a leaked table opens nothing."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


def lock_account(session, user) -> None:
    """Hold `user`'s row until the transaction ends, so that per-person limits (open requests,
    draft space) are counted and used by one request at a time. A write that changes nothing:
    PostgreSQL locks the row, SQLite takes its one write lock (SELECT … FOR UPDATE would lock
    nothing there)."""
    session.execute(update(User).where(User.id == user.id).values(id=User.id)
                    .execution_options(synchronize_session=False))


class UserSession(Base):
    """One signed-in browser. The cookie holds a random id; only its SHA-256 is stored. Logging out
    deletes the row, so a cookie copied before then opens nothing; "log out everywhere" and a new
    password delete all of a person's rows."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the password was last typed in this session (staff confirm it again before signing).
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class AccountToken(Base):
    """A one-time link sent by email (confirm the address, reset a forgotten password). Only the
    token's SHA-256 is stored; `used_at` makes it single-use."""

    __tablename__ = "account_token"
    __table_args__ = (CheckConstraint("purpose IN ('confirm_email', 'reset_password')", name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
