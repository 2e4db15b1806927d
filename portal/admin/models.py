"""Work an archive's staff start and the background finishes (a catalog import, the OCR of
digitized copies): its state lives in the database, so a page can follow it across reloads and a
restarted server takes it up again (portal.admin.jobs)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.clock import utcnow
from portal.db import Base, UTCDateTime

# queued → running → done | failed; a job shown for confirmation first (a dry run) waits in
# "draft" until it is confirmed (queued) or dropped (cancelled).
JOB_STATUSES = ("draft", "queued", "running", "done", "failed", "cancelled")


class AdminJob(Base):
    __tablename__ = "admin_job"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'queued', 'running', 'done', 'failed', 'cancelled')", name="status"),
        Index("ix_admin_job_waiting", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))           # a handler registered in portal.admin.jobs
    archive_id: Mapped[int] = mapped_column(ForeignKey("archive.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    total: Mapped[int] = mapped_column(default=0)           # units of work (rows, pages)
    done: Mapped[int] = mapped_column(default=0)
    file_path: Mapped[str] = mapped_column(String(500), default="")  # what the job works on (uploads dir)
    file_name: Mapped[str] = mapped_column(String(200), default="")  # as the person uploaded it (shown only)
    params_json: Mapped[str] = mapped_column(Text, default="{}")    # what the handler needs
    result_json: Mapped[str] = mapped_column(Text, default="{}")    # what it found or did (the report)
    error: Mapped[str] = mapped_column(String(500), default="")
    runner: Mapped[str] = mapped_column(String(80), default="")  # "host:pid" of the process running it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.params_json or "{}")

    @params.setter
    def params(self, value: dict[str, Any]) -> None:
        self.params_json = json.dumps(value, ensure_ascii=False)

    @property
    def result(self) -> dict[str, Any]:
        return json.loads(self.result_json or "{}")

    @result.setter
    def result(self, value: dict[str, Any]) -> None:
        self.result_json = json.dumps(value, ensure_ascii=False)

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "cancelled")
