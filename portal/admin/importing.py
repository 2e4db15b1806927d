"""Catalog import in the browser: an archive's staff upload a CSV or XLSX file, see a dry run's
report, and confirm; the import runs as a background job (portal.admin.jobs).

An upload makes two jobs: a dry run ("import_check", queued at once) and the import itself
("import", a draft until confirmed). Both read the uploaded file, kept under the uploads folder
until the import ends (or is cancelled), then removed. The file's rows go through the one code
path of `portal import` (portal.catalog.importer.import_rows), restricted to the page's archive.
The reports in the jobs' results hold line numbers and reasons only, never a name or ID number;
the refused rows themselves are read back from the file when someone downloads them."""
from __future__ import annotations

import csv
import io
import os
import secrets
from contextlib import ExitStack, contextmanager
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.admin import jobs
from portal.admin.models import AdminJob
from portal.archives.models import Archive
from portal.audit.service import log
from portal.catalog.csv_input import ImportFileError, column_layout
from portal.catalog.importer import HEADER, ImportReport, import_rows
from portal.catalog.xlsx_input import open_table
from portal.core.clock import utcnow

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SUFFIXES = (".csv", ".xlsx", ".txt")


def start(session: Session, archive: Archive, user, stream, file_name: str, locale: str) -> AdminJob:
    """Keep the upload, check it can be read at all, and queue its dry run; the draft import job
    (the page follows it) is returned. Raises ImportFileError with what is wrong with the file."""
    suffix = Path(file_name).suffix.lower()
    if suffix == ".xls":
        raise ImportFileError(_("不支持旧版 Excel（.xls）文件，请在 Excel 或 WPS 中另存为 .xlsx 或“CSV UTF-8”后重新上传。"))
    if suffix not in SUFFIXES:
        raise ImportFileError(_("请上传 CSV 或 XLSX 文件。"))
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(16)}{suffix}"
    try:
        _save(stream, path)
        with ExitStack() as stack:  # the kind of file; a CSV file's encoding and header, before any job
            if (table := open_table(path, file_name, stack, quick=True)) is not None:
                column_layout(table.header, HEADER)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    job = jobs.create(session, "import", archive.id, user, status="draft", file_path=str(path),
                      file_name=file_name, params={"locale": locale})
    check = jobs.create(session, "import_check", archive.id, user, params={"import_job": job.id, "locale": locale})
    job.params = {"locale": locale, "check_job": check.id}
    session.commit()
    jobs.wake()
    return job


def _save(stream, path: Path) -> None:
    written = 0
    with open(path, "wb") as out:
        while chunk := stream.read(1 << 20):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                raise ImportFileError(_("文件超过 %(mb)s MB，请分成几个文件导入。", mb=MAX_UPLOAD_BYTES // (1024 * 1024)))
            out.write(chunk)
    if not written:
        raise ImportFileError(_("文件是空的。"))


def check_of(session: Session, job: AdminJob) -> AdminJob | None:
    check_id = job.params.get("check_job")
    return session.get(AdminJob, check_id) if check_id else None


def may_confirm(check: AdminJob | None) -> bool:
    return check is not None and check.status == "done" and not check.result.get("file_error")


def confirm(session: Session, job: AdminJob, check: AdminJob | None) -> bool:
    """Queue the import once its dry run is done (a second click queues nothing)."""
    return may_confirm(check) and jobs.queue(session, job)


def cancel(session: Session, job: AdminJob, user) -> bool:
    moved = session.execute(update(AdminJob).where(AdminJob.id == job.id, AdminJob.status == "draft")
                            .values(status="cancelled", finished_at=utcnow(), updated_at=utcnow())).rowcount
    if moved:
        log(session, "catalog_import_cancelled", actor=user, object_type="admin_job", object_id=job.id)
    session.commit()
    session.refresh(job)
    if moved:
        _remove(job.file_path)
    return bool(moved)


def refused_csv(session: Session, job: AdminJob, check: AdminJob, user) -> str | None:
    """The refused rows as the file had them, each with its line and reason (None: the file is gone).
    They may hold names and ID numbers: the download is in the audit log (counted, not copied)."""
    reasons = {line: reason for line, reason in check.result.get("errors", [])}
    if not job.file_path or not os.path.exists(job.file_path):
        return None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    with ExitStack() as stack, force_locale(job.params.get("locale") or "zh_Hans_CN"):
        table = open_table(job.file_path, job.file_name, stack)
        writer.writerow([_("行号"), _("原因"), *(table.header or [])])
        for line, cells, stopped in table.rows:
            if line in reasons:
                writer.writerow([line, reasons[line], *(cells or [])])
            if stopped:
                break
    log(session, "catalog_import_refused_download", actor=user, object_type="admin_job", object_id=job.id,
        rows=len(reasons))
    session.commit()
    return "\ufeff" + out.getvalue()  # Excel opens a CSV as UTF-8 only with the byte-order mark


def _report(report: ImportReport) -> dict:
    return {"inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged,
            "refused": report.bad, "errors": report.errors}


def _remove(path: str) -> None:
    if path:
        Path(path).unlink(missing_ok=True)


@contextmanager
def _plain_errors():
    """A database error's text holds its statement's parameters (names, ID numbers): the job's
    stored error and the log get its kind only (e.g. two imports writing the same rows at once)."""
    try:
        yield
    except DBAPIError as exc:
        raise RuntimeError(f"database error while importing ({type(exc.orig).__name__}); run the import again") \
            from None


def _progress(progress):
    return lambda done, total: progress(done, total or max(done, 1))


@jobs.handler("import_check")
def run_check(session: Session, job: AdminJob, progress) -> None:
    """The dry run: what the import would add, update, leave and refuse."""
    target = session.get(AdminJob, job.params["import_job"])
    archive = session.get(Archive, job.archive_id)
    with ExitStack() as stack, force_locale(job.params.get("locale") or "zh_Hans_CN"), _plain_errors():
        try:
            table = open_table(target.file_path, target.file_name, stack)
            report = import_rows(session, table, _progress(progress), dry_run=True, archive_code=archive.code)
        except ImportFileError as exc:  # (found past the header: too many rows) it can never be confirmed
            job.result = {"file_error": str(exc)}
            session.execute(update(AdminJob).where(AdminJob.id == target.id, AdminJob.status == "draft")
                            .values(status="cancelled", finished_at=utcnow(), updated_at=utcnow()))
            _remove(target.file_path)
            return
    job.result = _report(report)


@jobs.handler("import")
def run_import(session: Session, job: AdminJob, progress) -> None:
    """The confirmed import, into the job's archive only; the file is removed when it ends."""
    archive = session.get(Archive, job.archive_id)
    user = session.get(User, job.created_by_id) if job.created_by_id else None
    path = job.file_path
    try:
        with ExitStack() as stack, force_locale(job.params.get("locale") or "zh_Hans_CN"), _plain_errors():
            table = open_table(path, job.file_name, stack)
            report = import_rows(session, table, _progress(progress), actor=user, archive_code=archive.code,
                                 source_name=f"admin_job:{job.id}")
        job.result = _report(report)
    except ImportFileError as exc:
        job.result = {"file_error": str(exc)}
    finally:
        _remove(path)
