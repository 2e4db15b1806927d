"""The store of finished months' figures (portal.stats.store): per scope (an archive, or the whole
network) and China-time month, the additive figures counted from the timeline on first use."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.clock import utcnow
from portal.db import Base, UTCDateTime


class StatsMonth(Base):
    __tablename__ = "stats_month"
    __table_args__ = (UniqueConstraint("scope", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))   # "network", or the archive's id
    month: Mapped[str] = mapped_column(String(7))    # YYYY-MM, China time
    figures_json: Mapped[str] = mapped_column(Text)  # figures.live_part of the month
    open_tasks: Mapped[int] = mapped_column(default=0)  # received tasks still open when counted
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
