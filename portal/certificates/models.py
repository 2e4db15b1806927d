from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.archives.models import Archive
from portal.db import Base, UTCDateTime
from portal.core.clock import utcnow
from portal.requests.models import UtilizationRequest

class Certificate(Base):
    """档案证明: the signed PDF an issuing archive gives for one request. The file is written once
    and never changed; `sha256` is what every download and every check of an uploaded copy is
    compared with. Revoking changes the record, never the file."""

    __tablename__ = "certificate"
    __table_args__ = (
        CheckConstraint("kind IN ('found', 'not_found')", name="kind"),
        CheckConstraint("status IN ('valid', 'revoked')", name="status"),
        # A request holds revoked certificates and their replacements, but one valid one at most.
        Index("uq_certificate_one_valid", "request_id", unique=True, sqlite_where=text("status = 'valid'"),
              postgresql_where=text("status = 'valid'")),
        Index("ix_certificate_issued_at", "issued_at"),  # statistics (portal.stats)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)  # ZM-[{NODE}-]{issuing code}-{year}-{6 digits} (before: without ZM-)
    code: Mapped[str] = mapped_column(String(8))  # the verification code printed on it
    request_id: Mapped[int] = mapped_column(ForeignKey("utilization_request.id"), index=True)  # re-issued: several
    kind: Mapped[str] = mapped_column(String(10))  # found (档案查询结果证明), not_found (查无档案记录证明)
    status: Mapped[str] = mapped_column(String(10), default="valid")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_name: Mapped[str] = mapped_column(String(80))  # under CERTIFICATE_FOLDER
    size: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[UtilizationRequest] = relationship(back_populates="certificates", lazy="joined")
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    # What the certificate names is the issued request's: neither its archive nor its tasks change
    # once it is issued.
    @property
    def issuing_archive(self) -> Archive:
        return self.request.issuing_archive

    @property
    def holding_archives(self) -> list[Archive]:
        """The archives that answered (found or not found), by code."""
        answered = {t.holding_archive.code: t.holding_archive for t in self.request.tasks if t.answered}
        return [answered[code] for code in sorted(answered)]

    @property
    def holding_archive_codes(self) -> list[str]:
        return [archive.code for archive in self.holding_archives]
