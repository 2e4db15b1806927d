"""Archives in the browser: the network admin's list of all archives and "new archive"
(policy.may_create_archive), and each archive's own page (the rule `edit`: its admin and the
network admin) with its details and its seal. Registered on the administration blueprint."""
from __future__ import annotations

from flask import abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal import policy
from portal.admin.archive_service import EDITABLE, create_archive, edit_archive, values_of
from portal.admin.sections import section
from portal.admin.staff_forms import ArchiveForm
from portal.admin.views import archive_for, bp
from portal.archives.service import list_archives, set_seal
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.web_util import client_ip, render, see_other

section("admin.archive_edit", _l("档案馆信息与印章"), "edit", order=10)


def _form_errors(form: ArchiveForm, exc: ValidationFailed) -> None:
    for name, message in exc.errors.items():
        getattr(form, name, form.name).errors = [str(message)]


@bp.get("/network/archives")
@login_required
def archive_index():
    if not policy.may_create_archive(current_user):
        abort(404)
    return render("admin/archives.html", archives=list_archives(db.session))


@bp.route("/network/archives/new", methods=["GET", "POST"])
@login_required
def archive_new():
    if not policy.may_create_archive(current_user):
        abort(404)
    form = ArchiveForm()
    if request.method == "GET":
        form.task_due_working_days.data = "4"
    elif form.validate_on_submit():
        try:
            archive = create_archive(db.session, {name: getattr(form, name).data for name in ("code", *EDITABLE)},
                                     current_user, ip=client_ip())
        except ValidationFailed as exc:
            _form_errors(form, exc)
        else:
            flash(_("已新建档案馆“%(name)s”。请为它添加管理员和工作人员；出具证明前须配置本馆的签名密钥（portal keys init）。",
                    name=archive.name), "success")
            return see_other(url_for("admin.staff_list", code=archive.code))
    return render("admin/archive_form.html", form=form, archive=None, status=422 if form.errors else 200)


@bp.route("/<code>/archive", methods=["GET", "POST"])
@login_required
def archive_edit(code: str):
    archive = archive_for(code, "edit")
    form = ArchiveForm(data={**values_of(archive), "code": archive.code})
    if request.method == "POST" and form.validate_on_submit():
        try:
            changes = edit_archive(db.session, archive, {name: getattr(form, name).data for name in EDITABLE},
                                   current_user, ip=client_ip())
        except ValidationFailed as exc:
            db.session.rollback()
            _form_errors(form, exc)
        else:
            flash(_("已保存。") if changes else _("没有修改。"), "success" if changes else "info")
            return see_other(url_for("admin.archive_edit", code=archive.code))
    return _edit_page(archive, form, status=422 if form.errors else 200)


def _edit_page(archive, form, *, seal_error: str = "", status: int = 200):
    return render("admin/archive_form.html", form=form, archive=archive, seal_error=seal_error,
                  has_seal=archive.seal_png is not None, status=status)


@bp.post("/<code>/archive/seal")
@login_required
def archive_seal(code: str):
    """The seal its certificates print from now on (portal.archives.service.set_seal checks it)."""
    archive = archive_for(code, "edit")
    sent = request.files.get("seal")
    try:
        if sent is None or not sent.filename:
            raise ValidationFailed({"seal": _("请选择印章图片（PNG）")})
        set_seal(db.session, archive.code, sent.filename, sent.stream, current_user, ip=client_ip())
    except ValidationFailed as exc:
        db.session.rollback()
        form = ArchiveForm(formdata=None, data={**values_of(archive), "code": archive.code})
        return _edit_page(archive, form, seal_error=str(exc.errors["seal"]), status=422)
    flash(_("印章已更新，此后出具的证明将使用新印章。"), "success")
    return see_other(url_for("admin.archive_edit", code=archive.code))


@bp.get("/<code>/archive/seal.png")
@login_required
def archive_seal_image(code: str):
    archive = archive_for(code, "edit")
    if archive.seal_png is None:
        abort(404)
    response = make_response(archive.seal_png)
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "private, no-store"
    return response
