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
    """One record, as the holding archive verified it. What the certificate prints as its 核实内容
    is `statement`: built from these facts, never the clerk's free text alone."""

    holding_archive: str   # e.g. "南宁市档案馆"
    reference_code: str    # 档号 ("—" when the archive searched its holdings for the applicant)
    title: str
    date: str              # as to print, e.g. "1998-05-12" or "1998"
    verified_on: date | None = None  # the day the holding archive answered
    found: bool = True
    note: str = ""         # the clerk's note, only when they ticked "print this note on the certificate"

    @property
    def statement(self) -> str:
        """E.g. 南宁市档案馆于2026年11月20日核实档号J045-2-1998-0012《结婚登记审查处理表》：已找到，与馆藏原件一致。"""
        what = f"档号{self.reference_code}《{self.title}》" if self.reference_code not in ("", "—") else self.title
        when = f"于{chinese_date(self.verified_on)}" if self.verified_on else ""
        result = "已找到，与馆藏原件一致" if self.found else "未找到"
        text = f"{self.holding_archive}{when}核实{what}：{result}。"
        return f"{text}说明：{self.note}" if self.note else text

    @property
    def content(self) -> str:
        """What the certificate prints in the 核实内容 column: the statement."""
        return self.statement


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
