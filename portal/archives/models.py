from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime
from portal.core.clock import utcnow


class Archive(Base):
    """A tenant: an archive that holds records and issues certificates."""

    __tablename__ = "archive"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    # Working days this archive gives itself to answer another archive's verification task.
    task_due_working_days: Mapped[int] = mapped_column(default=4, server_default="4")
    # The seal printed on its certificates (PNG, set by an admin); none: a marked demo seal.
    # Deferred: archives are joined to nearly every row, the image is needed only to issue.
    seal_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # An archive of another node (portal.federation.peers.mirror_archive): the peer's name. None:
    # one of this node's own archives. Mirrors have no staff and no catalog of their own here.
    node: Mapped[str | None] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Archive {self.code} {self.name}>"
