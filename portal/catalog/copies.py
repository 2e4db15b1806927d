"""Digitized copies (数字化副本) of a record: the stored file (a PDF or a page image), its pages
and the text read from it, already masked (portal.core.masking.mask_contact_text). The text
reaches the search index only for open records (copy_text)."""
from __future__ import annotations

import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from flask import current_app

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from portal.catalog.models import Record
from portal.core.clock import utcnow
from portal.core.uploads import stored_path
from portal.db import Base, UTCDateTime

TEXT_SOURCES = ("", "pdf_text", "ocr")        # "": no text (yet, or none could be read)
TEXT_STATUSES = ("pending", "done", "failed")
# What one record gives the index of its copies' text, at most (a few hundred pages of OCR).
MAX_INDEXED_CHARS = 200_000
VIEW_DPI = 110            # a PDF page shown in the browser: about 910 x 1290 pixels for A4
MAX_VIEW_PAGES = 200      # pages one viewer lists (uploads hold at most 200: portal.core.uploads)
TOOL_SECONDS = 120        # one pdftotext, pdftoppm or tesseract run


class DigitizedCopy(Base):
    __tablename__ = "digitized_copy"
    __table_args__ = (
        CheckConstraint("text_source IN ('', 'pdf_text', 'ocr')", name="text_source"),
        CheckConstraint("text_status IN ('pending', 'done', 'failed')", name="text_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(40))      # portal.core.uploads.store_with, under copies/
    content_type: Mapped[str] = mapped_column(String(40))
    original_name: Mapped[str] = mapped_column(String(200))   # as uploaded (shown to staff only)
    size: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")  # the same file twice is attached once
    page_count: Mapped[int] = mapped_column(default=1)
    text: Mapped[str] = mapped_column(Text, default="")       # masked before it is stored
    text_source: Mapped[str] = mapped_column(String(10), default="")
    text_status: Mapped[str] = mapped_column(String(10), default="pending")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("admin_job.id"))
    attached_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    record: Mapped[Record] = relationship(backref=backref("copies", order_by="DigitizedCopy.id",
                                                          cascade="all, delete-orphan", passive_deletes=True))

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"

    @property
    def is_tiff(self) -> bool:
        return self.content_type == "image/tiff"


def copy_text(record: Record) -> str:
    """The copies' text the public index may hold: an open record's only, and nothing of a
    restricted or closed one (its subject and staff see the pages themselves)."""
    if record.access_level != "open":
        return ""
    text = "\n".join(c.text for c in record.copies if c.text_status == "done" and c.text)
    return text[:MAX_INDEXED_CHARS]


def copies_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "copies"


def copy_path(copy: DigitizedCopy) -> Path:
    return stored_path(copies_folder(), copy.stored_name)


def render_page(path: Path, page: int, dpi: int = VIEW_DPI) -> bytes:
    """One page of a PDF as PNG bytes (pdftoppm, that page alone)."""
    with tempfile.TemporaryDirectory(prefix="copy-page-") as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-singlefile",
                        str(path), str(Path(tmp) / "page")], capture_output=True, timeout=TOOL_SECONDS, check=True)
        return (Path(tmp) / "page.png").read_bytes()


def copies_for_task(task) -> list[DigitizedCopy]:
    """The copies a holding archive's clerk may hand in as the certified copy of a verification
    task (review "verify"): those of the request's records that archive holds."""
    return [copy for item in task.request.items if item.record.archive_id == task.holding_archive_id
            for copy in item.record.copies if not copy.is_tiff]  # a certificate embeds PDF, JPEG or PNG


def certified_copy_file(task, chosen: str) -> tuple[str, bytes] | None:
    """(name, content) of the copy `chosen` (its id, as the verify form sends it) if it is one of
    copies_for_task; None otherwise."""
    if not (chosen.isascii() and chosen.isdigit() and len(chosen) < 10):
        return None
    copy = next((c for c in copies_for_task(task) if c.id == int(chosen)), None)
    return (copy.original_name, copy_path(copy).read_bytes()) if copy is not None else None
