"""The staff pages of digitized copies: the archive's section (a ZIP matched by reference code),
a record's copies (attach one file, follow the reading of its text) and the progress partial."""
from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.admin import sections
from portal.admin.copies import COPY_MAX_BYTES, ZIP_MAX_BYTES, ZIP_MAX_ENTRIES, attach_file, attach_zip
from portal.admin.models import AdminJob
from portal.admin.views import archive_for, bp
from portal.catalog.copies import DigitizedCopy
from portal.catalog.models import Record
from portal.core.categories import ACCESS_LEVELS
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.web_util import render, see_other

sections.section("admin.copies", "数字化副本", "attach_copies", order=40)
LIMITS = {"file_mb": COPY_MAX_BYTES // 1024 // 1024, "zip_mb": ZIP_MAX_BYTES // 1024 // 1024,
          "zip_entries": ZIP_MAX_ENTRIES}


def _record_of(archive, record_id: int) -> Record:
    record = db.session.get(Record, record_id)
    if record is None or record.archive_id != archive.id:
        abort(404)
    return record


def _recent(archive) -> list[DigitizedCopy]:
    return list(db.session.scalars(select(DigitizedCopy).join(Record).where(Record.archive_id == archive.id)
                                   .order_by(DigitizedCopy.id.desc()).limit(30)))


@bp.get("/<code>/copies")
@login_required
def copies(code: str):
    archive = archive_for(code, "attach_copies")
    reference = (request.args.get("reference_code") or "").strip()
    errors = {}
    if reference:
        record = db.session.scalar(select(Record).where(Record.archive_id == archive.id,
                                                        Record.reference_code == reference))
        if record is not None:
            return see_other(url_for("admin.record_copies", code=code, record_id=record.id))
        errors["reference_code"] = _("本馆没有档号为“%(code)s”的档案", code=reference)
    return render("admin/copies.html", archive=archive, recent=_recent(archive), errors=errors,
                  reference=reference, report=None, limits=LIMITS)


@bp.post("/<code>/copies/zip")
@login_required
def copies_zip(code: str):
    archive = archive_for(code, "attach_copies")
    upload = request.files.get("zip")
    try:
        report = attach_zip(db.session, archive, current_user, upload.filename if upload else None,
                            upload.stream if upload else None)
    except ValidationFailed as exc:
        db.session.rollback()
        return render("admin/copies.html", archive=archive, recent=_recent(archive), errors=exc.errors,
                      reference="", report=None, limits=LIMITS, status=422)
    return render("admin/copies.html", archive=archive, recent=_recent(archive), errors={}, reference="",
                  report=report, limits=LIMITS)


@bp.get("/<code>/records/<int:record_id>/copies")
@login_required
def record_copies(code: str, record_id: int):
    archive = archive_for(code, "attach_copies")
    record = _record_of(archive, record_id)
    return render("admin/record_copies.html", archive=archive, record=record, access_labels=ACCESS_LEVELS, errors={}, limits=LIMITS,
                  jobs=_jobs_of(record))


@bp.post("/<code>/records/<int:record_id>/copies")
@login_required
def attach(code: str, record_id: int):
    archive = archive_for(code, "attach_copies")
    record = _record_of(archive, record_id)
    upload = request.files.get("file")
    try:
        attach_file(db.session, record, current_user, upload.filename if upload else None,
                    upload.stream if upload else None)
    except ValidationFailed as exc:
        db.session.rollback()
        return render("admin/record_copies.html", archive=archive, record=record, access_labels=ACCESS_LEVELS, errors=exc.errors,
                      limits=LIMITS, jobs=_jobs_of(record), status=422)
    return see_other(url_for("admin.record_copies", code=code, record_id=record.id))


@bp.get("/<code>/records/<int:record_id>/copies/progress")
@login_required
def copies_progress(code: str, record_id: int):
    """The partial htmx polls while a copy's text is being read."""
    archive = archive_for(code, "attach_copies")
    record = _record_of(archive, record_id)
    return render("admin/partials/_copies.html", "admin/partials/_copies.html", archive=archive, record=record,
                  jobs=_jobs_of(record))


def _jobs_of(record: Record) -> dict[int, AdminJob]:
    ids = [c.job_id for c in record.copies if c.job_id]
    return {j.id: j for j in db.session.scalars(select(AdminJob).where(AdminJob.id.in_(ids)))} if ids else {}
