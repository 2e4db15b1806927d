"""What a certificate says, as plain data: no database, no Flask.

The service builds a `CertificateContent` from a request and its records; `pdf.render` prints
it. Every string here is printed as it is (already masked where it must be)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit, urlunsplit

from portal.core.i18n import N_

FOUND = "found"
NOT_FOUND = "not_found"

# The title printed (always Chinese) and, translated, the kind's name on the portal's pages.
TITLES = {FOUND: N_("档案查询结果证明"), NOT_FOUND: N_("查无档案记录证明")}


@dataclass(frozen=True)
class RecordLine:
    """One record found, as the holding archive verified it."""

    holding_archive: str   # e.g. "南宁市档案馆"
    reference_code: str    # 档号
    title: str
    date: str              # as to print, e.g. "1998-05-12" or "1998"
    content: str           # the verified content / holding archive's note ("" allowed)


@dataclass(frozen=True)
class SearchAnswer:
    """One archive searched, for the no-record certificate, and what it answered."""

    archive: str
    answer: str            # e.g. "未找到（已查 1950—2000 年全部案卷）"


@dataclass(frozen=True)
class Attachment:
    """A certified copy attached by a holding archive, appended after the certificate."""

    filename: str
    data: bytes            # PDF, JPEG or PNG bytes (already validated upstream)

    @property
    def kind(self) -> str:
        """"pdf", "jpeg" or "png", from the bytes (the file name may say anything)."""
        if self.data.startswith(b"%PDF-"):
            return "pdf"
        if self.data.startswith(b"\xff\xd8\xff"):
            return "jpeg"
        if self.data.startswith(b"\x89PNG\r\n\x1a\n"):
            return "png"
        raise ValueError(f"附件 {self.filename} 不是 PDF、JPEG 或 PNG 文件 (attachment is not a PDF, JPEG or PNG)")


@dataclass(frozen=True)
class CertificateContent:
    kind: str                    # "found" (档案查询结果证明) or "not_found" (查无档案记录证明)
    serial: str                  # "450100-2026-000001"
    code: str                    # 8-char verification code
    verify_url: str              # absolute URL opened by the QR code, serial and code in its query
    issuing_archive: str         # name of the issuing archive
    issued_on: date
    subject_name: str            # in full
    subject_id_masked: str       # e.g. "4501**********1234"
    purpose: str                 # label, e.g. "办理养老保险"
    records: tuple[RecordLine, ...] = ()
    searched_categories: tuple[str, ...] = ()   # not_found: what was searched
    searched_years: str = ""                    # e.g. "1980—1990"
    searched_place: str = ""
    answers: tuple[SearchAnswer, ...] = ()      # not_found: archives searched and their answers (found may list them too)
    seal_png: bytes | None = None  # the archive's seal image; None → a demo seal drawn by the code, clearly marked 演示
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in TITLES:
            raise ValueError(f"unknown certificate kind {self.kind!r}: use {FOUND!r} or {NOT_FOUND!r}")

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    @property
    def verify_page(self) -> str:
        """The verification page without the query: what a reader types in by hand."""
        parts = urlsplit(self.verify_url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def chinese_date(day: date) -> str:
    """2026年11月21日: the way a certificate is dated (no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"
