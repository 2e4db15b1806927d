"""An archive's catalog in the administration (/admin/<code>/records): a list searched by
reference code or title, and the page that edits one record (portal.catalog.editing). Both need
`edit_record` on the archive in the URL; a record of another archive is 404."""
from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from portal.admin.sections import section
from portal.admin.views import archive_for, bp
from portal.audit.service import log
from portal.catalog.editing import Edit, date_text, edit_record, version_of
from portal.catalog.models import Record
from portal.core.categories import ACCESS_LEVELS, CATEGORIES
from portal.core.errors import Conflict, ValidationFailed
from portal.core.masking import mask_id_number
from portal.core.personal_data import cipher
from portal.db import db
from portal.web_util import client_ip, render, see_other

section("admin.records", _l("目录条目"), "edit_record", order=35)
PAGE = 50


class RecordForm(FlaskForm):
    title = StringField(_l("题名"))
    event_date = StringField(_l("形成日期"))
    category = SelectField(_l("档案类别"), choices=[], validate_choice=False)  # the service checks it
    subject_name = StringField(_l("当事人姓名"))
    subject_id_number = StringField(_l("当事人身份证号码"))
    clear_id_number = BooleanField(_l("删除已登记的身份证号码"))
    summary = TextAreaField(_l("内容摘要"))
    access_level = SelectField(_l("开放状态"), choices=[], validate_choice=False)
    version = HiddenField()


@bp.get("/<code>/records")
@login_required
def records(code: str):
    archive = archive_for(code, "edit_record")
    q = (request.args.get("q") or "").strip()[:100]
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    query = select(Record).where(Record.archive_id == archive.id)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(Record.reference_code.startswith(q, autoescape=True),
                                Record.title.like(f"%{escaped}%", escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Record.reference_code).offset((page - 1) * PAGE).limit(PAGE)).all()
    return render("admin/records.html", archive=archive, rows=rows, q=q, page=page, total=total,
                  pages=max(1, -(-total // PAGE)), access_labels=ACCESS_LEVELS)


@bp.route("/<code>/records/<path:reference_code>", methods=["GET", "POST"])
@login_required
def record_edit(code: str, reference_code: str):
    archive = archive_for(code, "edit_record")
    record = db.session.scalar(select(Record).where(Record.archive_id == archive.id,
                                                    Record.reference_code == reference_code))
    if record is None:
        abort(404)
    form = RecordForm()
    form.category.choices = [(c, _l(label)) for c, label in CATEGORIES.items()]
    form.access_level.choices = [(c, _l(label)) for c, label in ACCESS_LEVELS.items()]
    status, conflict, saved = 200, None, request.args.get("saved") == "1"
    if request.method == "POST":
        if form.validate_on_submit():
            edit = Edit(**{name: getattr(form, name).data or "" for name in (
                "title", "event_date", "category", "subject_name", "subject_id_number", "summary", "access_level",
                "version")}, clear_id_number=bool(form.clear_id_number.data))
            try:
                edit_record(db.session, record, current_user, edit)
            except ValidationFailed as exc:
                for name, message in exc.errors.items():
                    getattr(form, name).errors = [message]
                status = 422
            except Conflict as exc:
                conflict, status = str(exc), 409
                db.session.refresh(record)
                form.version.data = version_of(record)  # saving again overwrites, knowingly
            else:
                return see_other(url_for("admin.record_edit", code=code, reference_code=reference_code, saved=1))
        else:
            status = 422
        form.subject_id_number.data = ""  # never sent back in the page
    else:
        form.process(data={"title": record.title, "event_date": date_text(record), "category": record.category,
                           "subject_name": record.subject_name, "summary": record.summary,
                           "access_level": record.access_level, "version": version_of(record)})
        # The staff see the full name here (as on the record page), the ID number masked: logged alike.
        log(db.session, "view_personal_data", actor=current_user, object_type="record", object_id=record.id,
            ip=client_ip(), page="record_edit")
        db.session.commit()
    registered = mask_id_number(cipher().decrypt(record.subject_id_enc)) if record.subject_id_enc else ""
    return render("admin/record_edit.html", archive=archive, record=record, form=form, status=status,
                  conflict=conflict, saved=saved, registered=registered, headers={"Cache-Control": "no-store"})
