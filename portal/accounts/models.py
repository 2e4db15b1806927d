from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.archives.models import Archive
from portal.db import Base, UTCDateTime
from portal.core.clock import utcnow

ROLES = ("citizen", "clerk", "reviewer", "admin")
STAFF_ROLES = ("clerk", "reviewer", "admin")


class User(UserMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('citizen', 'clerk', 'reviewer', 'admin')", name="role"),
        CheckConstraint("role NOT IN ('clerk', 'reviewer') OR archive_id IS NOT NULL", name="staff_archive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    real_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), default="")
    role: Mapped[str] = mapped_column(String(10))
    archive_id: Mapped[int | None] = mapped_column(ForeignKey("archive.id"), index=True)
    # Encrypted resident ID number and its keyed hash (see portal.core.personal_data).
    id_number_enc: Mapped[str | None] = mapped_column(String(200))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    archive: Mapped[Archive | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses log-in to deactivated accounts
        return self.is_active_account

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

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
