"""The catalog import pages of an archive (/admin/<code>/import): upload, the dry run's report,
confirm, and a job page (its own URL) whose progress bar polls a small partial until the import
ends. Every page needs `import_catalog` on the archive in the URL; another archive's jobs are 404."""
from __future__ import annotations

from flask import Response, abort, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select

from portal.admin import importing
from portal.admin.models import AdminJob
from portal.admin.sections import section
from portal.admin.views import archive_for, bp
from portal.catalog.csv_input import ImportFileError
from portal.catalog.importer import HEADER
from portal.db import db
from portal.web_util import render, see_other

section("admin.import_page", _l("导入目录"), "import_catalog", order=30)
MAX_LISTED = 200  # refused rows listed on the page; all of them are in the download


class ImportForm(FlaskForm):
    file = FileField(_l("目录文件（CSV 或 XLSX）"), validators=[FileRequired(_l("请选择要导入的文件"))])


def _job(archive, job_id: int) -> AdminJob:
    job = db.session.get(AdminJob, job_id)
    if job is None or job.kind != "import" or job.archive_id != archive.id:
        abort(404)
    return job


@bp.route("/<code>/import", methods=["GET", "POST"])
@login_required
def import_page(code: str):
    archive = archive_for(code, "import_catalog")
    form = ImportForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.file.data
            try:
                job = importing.start(db.session, archive, current_user, upload.stream, upload.filename or "",
                                      str(get_locale()))
            except ImportFileError as exc:
                form.file.errors = [str(exc)]
            else:
                return see_other(url_for("admin.import_job", code=code, job_id=job.id))
        status = 422
    recent = db.session.scalars(select(AdminJob).where(AdminJob.archive_id == archive.id, AdminJob.kind == "import")
                                .order_by(AdminJob.id.desc()).limit(10)).all()
    return render("admin/import.html", archive=archive, form=form, recent=recent, header=HEADER, status=status,
                  max_mb=importing.MAX_UPLOAD_BYTES // (1024 * 1024))


@bp.get("/<code>/import/<int:job_id>")
@login_required
def import_job(code: str, job_id: int):
    archive = archive_for(code, "import_catalog")
    job = _job(archive, job_id)
    check = importing.check_of(db.session, job)
    return render("admin/import_job.html", "admin/partials/_import_status.html", archive=archive, job=job,
                  check=check, may_confirm=importing.may_confirm(check) and job.status == "draft",
                  max_listed=MAX_LISTED, headers={"Cache-Control": "no-store"})


@bp.post("/<code>/import/<int:job_id>/confirm")
@login_required
def import_confirm(code: str, job_id: int):
    archive = archive_for(code, "import_catalog")
    form = FlaskForm()
    job = _job(archive, job_id)
    if form.validate_on_submit():
        importing.confirm(db.session, job, importing.check_of(db.session, job))  # twice: queued once
    return see_other(url_for("admin.import_job", code=code, job_id=job.id))


@bp.post("/<code>/import/<int:job_id>/cancel")
@login_required
def import_cancel(code: str, job_id: int):
    archive = archive_for(code, "import_catalog")
    form = FlaskForm()
    job = _job(archive, job_id)
    if form.validate_on_submit():
        importing.cancel(db.session, job, current_user)
    return see_other(url_for("admin.import_job", code=code, job_id=job.id))


@bp.get("/<code>/import/<int:job_id>/refused.csv")
@login_required
def import_refused(code: str, job_id: int):
    archive = archive_for(code, "import_catalog")
    job = _job(archive, job_id)
    check = importing.check_of(db.session, job)
    if not importing.may_confirm(check) or not check.result.get("refused"):
        abort(404)
    body = importing.refused_csv(db.session, job, check, current_user)
    if body is None:
        abort(410)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="refused-rows-{job.id}.csv"',
        "Cache-Control": "no-store"})
