"""Attaching digitized copies to records: one file to one record, or a ZIP of many matched to
records by reference code (file name = reference code, optionally with a page suffix: J001-1985-0001_002.pdf).
Every file passes the checks of every upload (portal.core.uploads); its text is read by the job
"ocr" (portal.admin.copies_text)."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import PurePosixPath

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.admin import jobs
from portal.admin.copies_text import OCR_MAX_PAGES  # noqa: F401 (registers the "ocr" job handler)
from portal.archives.models import Archive
from portal.audit.service import log
from portal.catalog.copies import DigitizedCopy, copies_folder
from portal.catalog.models import Record
from portal.core.after_commit import after_commit
from portal.core.errors import ValidationFailed
from portal.core.uploads import (TIFF, CheckedUpload, UploadRejected, check_upload, clean_filename, store_with,
                                 tiff_pages)

COPY_MAX_BYTES = 30 * 1024 * 1024          # one file (a PDF of up to 200 pages, or a page image)
ZIP_MAX_BYTES = 55 * 1024 * 1024           # the ZIP as uploaded (the request limit is 60 MB)
ZIP_MAX_ENTRIES = 500
ZIP_MAX_TOTAL_BYTES = 300 * 1024 * 1024    # all entries uncompressed
_PAGE_SUFFIX = re.compile(r"_[0-9]{1,4}$")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


@dataclass
class ZipReport:
    matched: list[tuple[str, str]] = field(default_factory=list)     # (entry, reference code)
    unmatched: list[str] = field(default_factory=list)               # no record with that code here
    refused: list[tuple[str, str]] = field(default_factory=list)     # (entry, why)


def _page_count(upload: CheckedUpload) -> int:
    if upload.content_type == TIFF:
        return tiff_pages(upload.data)
    if upload.content_type != "application/pdf":
        return 1
    from pypdf import PdfReader
    return len(PdfReader(BytesIO(upload.data)).pages)  # checked already: at most MAX_PDF_PAGES


def _attach(session: Session, record: Record, user, upload: CheckedUpload) -> DigitizedCopy:
    """Store the file, add the copy and queue the job that reads its text (not committed). The
    same file again (a double click, a ZIP sent twice) is the copy it already is: read again under a
    lock on the record's row, so two uploads at the same moment attach it once."""
    session.execute(select(Record.id).where(Record.id == record.id).with_for_update())
    session.expire(record, ["copies"])
    same = next((c for c in record.copies if c.sha256 == upload.sha256), None)
    if same is not None:
        return same
    stored = store_with(session, upload.data, copies_folder())
    copy = DigitizedCopy(record=record, stored_name=stored, content_type=upload.content_type,
                         original_name=upload.original_name, size=upload.size, sha256=upload.sha256, page_count=_page_count(upload),
                         attached_by_id=getattr(user, "id", None))
    session.add(copy)
    session.flush()
    job = jobs.create(session, "ocr", record.archive_id, user, file_name=upload.original_name,
                      params={"copy_id": copy.id}, total=min(copy.page_count, OCR_MAX_PAGES))
    copy.job_id = job.id
    if not record.copy_path:
        record.copy_path = f"copies/{stored}"  # the catalog's "has a digitized copy"
    log(session, "attach_copy", actor=user, object_type="record", object_id=record.id, copy_id=copy.id,
        pages=copy.page_count, size=copy.size)
    after_commit(session, jobs.wake)
    return copy


def attach_file(session: Session, record: Record, user, filename: str | None, stream) -> DigitizedCopy:
    """One file to one record; ValidationFailed({"file": why}) for a file that cannot be taken."""
    if stream is None or not filename:
        raise ValidationFailed({"file": str(_l("请选择要上传的文件"))})
    try:
        upload = check_upload(filename, stream, COPY_MAX_BYTES, tiff=True)
    except UploadRejected as exc:
        raise ValidationFailed({"file": str(exc.message)}) from None
    copy = _attach(session, record, user, upload)
    session.commit()
    return copy


def attach_zip(session: Session, archive: Archive, user, filename: str | None, stream) -> ZipReport:
    """Each entry of a ZIP to the record of this archive its name says; the whole ZIP refused
    (ValidationFailed on "zip") if it is not a ZIP, too large, or has too many entries."""
    if stream is None or not filename:
        raise ValidationFailed({"zip": str(_l("请选择要上传的 ZIP 文件"))})
    name = clean_filename(filename)
    data = stream.read(ZIP_MAX_BYTES + 1)
    if len(data) > ZIP_MAX_BYTES:
        raise ValidationFailed({"zip": str(_l("“%(name)s”超过 %(mb)d MB", name=name, mb=ZIP_MAX_BYTES // 1024 // 1024))})
    try:
        archive_zip = zipfile.ZipFile(BytesIO(data))
        entries = [e for e in archive_zip.infolist() if not e.is_dir() and not e.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValidationFailed({"zip": str(_l("“%(name)s”不是有效的 ZIP 文件", name=name))}) from None
    if len(entries) > ZIP_MAX_ENTRIES:
        raise ValidationFailed({"zip": str(_l("ZIP 文件中的文件超过 %(n)d 个，请分批上传", n=ZIP_MAX_ENTRIES))})
    if sum(e.file_size for e in entries) > ZIP_MAX_TOTAL_BYTES:
        raise ValidationFailed({"zip": str(_l("ZIP 文件解压后超过 %(mb)d MB，请分批上传",
                                              mb=ZIP_MAX_TOTAL_BYTES // 1024 // 1024))})
    report = ZipReport()
    wanted = {code for e in entries if _safe_name(e.filename) for code in _references_of(e.filename) if code}
    records = {r.reference_code: r for r in session.scalars(select(Record).where(
        Record.archive_id == archive.id, Record.reference_code.in_(wanted)))}
    try:
        _attach_entries(session, archive_zip, entries, records, user, report)
    except ValidationFailed:
        session.rollback()  # nothing of a refused ZIP is kept (its stored files go too)
        raise
    log(session, "attach_copies_zip", actor=user, object_type="archive", object_id=archive.id, file=name,
        matched=len(report.matched), unmatched=len(report.unmatched), refused=len(report.refused))
    session.commit()
    return report


def _attach_entries(session, archive_zip, entries, records, user, report: ZipReport) -> None:
    read_so_far = 0
    for entry in sorted(entries, key=lambda e: e.filename):
        shown = clean_filename(entry.filename) if _safe_name(entry.filename) else entry.filename[:100]
        why = _entry_problem(entry)
        if why is None:
            record = next((records[c] for c in _references_of(entry.filename) if c in records), None)
            if record is None:
                report.unmatched.append(shown)
                continue
            try:
                with archive_zip.open(entry) as member:
                    content = member.read(COPY_MAX_BYTES + 1)  # what it really holds, not what it declares
                read_so_far += len(content)
                if read_so_far > ZIP_MAX_TOTAL_BYTES:
                    raise ValidationFailed({"zip": str(_l("ZIP 文件解压后超过 %(mb)d MB，请分批上传",
                                                          mb=ZIP_MAX_TOTAL_BYTES // 1024 // 1024))})
                if content.startswith(_ZIP_MAGIC):
                    why = _l("压缩包中不能再含压缩包")
                else:
                    _attach(session, record, user, check_upload(shown, BytesIO(content), COPY_MAX_BYTES, tiff=True))
                    report.matched.append((shown, record.reference_code))
                    continue
            except UploadRejected as exc:
                why = exc.message
            except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError):
                why = _l("无法解压（已损坏、加密或压缩方式不受支持）")
        report.refused.append((shown, str(why)))


def _safe_name(name: str) -> bool:
    """No absolute path, no "..", no backslashes or drive letters: nothing that could name a place
    outside (entries are never written to disk, but such a ZIP is not one a scanner makes)."""
    path = PurePosixPath(name)
    return not (name.startswith("/") or "\\" in name or ":" in name or ".." in path.parts)


def _entry_problem(entry: zipfile.ZipInfo):
    if not _safe_name(entry.filename):
        return _l("文件路径不安全（含“..”或绝对路径）")
    if entry.filename.lower().endswith(".zip"):
        return _l("压缩包中不能再含压缩包")
    if entry.file_size > COPY_MAX_BYTES:
        return _l("超过 %(mb)d MB", mb=COPY_MAX_BYTES // 1024 // 1024)
    return None


def _references_of(name: str) -> tuple[str, str]:
    """J001-1985-0001_002.pdf in any folder of the ZIP → the whole stem, then J001-1985-0001."""
    stem = PurePosixPath(name).name.rsplit(".", 1)[0].strip()
    return stem, _PAGE_SUFFIX.sub("", stem).strip()
