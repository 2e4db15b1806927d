"""An archive's staff in the browser (the rule `manage_staff`: its admin and the network admin):
the list, inviting someone by email, changing a role, disabling and enabling, resending an
invitation. A member of another archive's staff is not found here (404)."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.admin import staff_service as staff
from portal.admin.sections import section
from portal.admin.staff_forms import ConfirmForm, InviteForm, RoleForm
from portal.admin.views import archive_for, bp
from portal.core.errors import Conflict, NotAllowed, ValidationFailed
from portal.core.punctuation import punct
from portal.db import db
from portal.web_util import client_ip, render, see_other

section("admin.staff_list", _l("工作人员"), "manage_staff", order=20)


def _member(code: str, user_id: int):
    archive = archive_for(code, "manage_staff")
    try:
        return archive, staff.member(db.session, archive, user_id)
    except LookupError:
        abort(404)


@bp.get("/<code>/staff")
@login_required
def staff_list(code: str):
    archive = archive_for(code, "manage_staff")
    return _list_page(archive)


def _list_page(archive, *, status: int = 200, problem: str = ""):
    return render("admin/staff.html", archive=archive, people=staff.staff_of(db.session, archive),
                  invited=staff.invited, role_form=RoleForm, confirm_form=ConfirmForm(),
                  role_labels=staff.ROLE_LABELS, problem=problem, status=status)


@bp.route("/<code>/staff/invite", methods=["GET", "POST"])
@login_required
def staff_invite(code: str):
    archive = archive_for(code, "manage_staff")
    form = InviteForm()
    if form.validate_on_submit():
        typed = {name: getattr(form, name).data for name in ("name", "email", "phone", "role")}
        try:
            user = staff.invite(db.session, archive, typed, current_user, ip=client_ip())
        except ValidationFailed as exc:
            for name, message in exc.errors.items():
                getattr(form, name, form.email).errors = [str(message)]
        else:
            flash(_("已向 %(email)s 发送邀请邮件，链接 3 天内有效。", email=user.email), "success")
            return see_other(url_for("admin.staff_list", code=archive.code))
    return render("admin/staff_invite.html", archive=archive, form=form, status=422 if form.errors else 200)


def _after(archive, user, step: str, do):
    """Run a step on a member; a refusal comes back on the list, held work asks to confirm."""
    try:
        do()
    except staff.HoldsClaims as exc:
        db.session.rollback()
        return render("admin/staff_release.html", archive=archive, person=user, claims=exc.claims, step=step,
                      form=ConfirmForm(), role=request.form.get("role", ""), role_labels=staff.ROLE_LABELS,
                      status=409)
    except NotAllowed:  # the actor's own role or account changed meanwhile (staff.change_role)
        db.session.rollback()
        abort(403)
    except (Conflict, ValidationFailed) as exc:
        db.session.rollback()
        message = exc.message if isinstance(exc, Conflict) else punct("semicolon").join(map(str, exc.errors.values()))
        return _list_page(archive, status=409 if isinstance(exc, Conflict) else 422, problem=str(message))
    return None


def _done(archive, message: str):
    flash(message, "success")
    return see_other(url_for("admin.staff_list", code=archive.code))


@bp.post("/<code>/staff/<int:user_id>/role")
@login_required
def staff_role(code: str, user_id: int):
    archive, user = _member(code, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    release = form.release.data == "1"
    refused = _after(archive, user, "role", lambda: staff.change_role(
        db.session, archive, user, form.role.data, current_user, release=release, ip=client_ip()))
    return refused or _done(archive, _("已修改%(name)s的角色。", name=user.real_name))


@bp.post("/<code>/staff/<int:user_id>/disable")
@login_required
def staff_disable(code: str, user_id: int):
    archive, user = _member(code, user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    release = form.release.data == "1"
    refused = _after(archive, user, "disable", lambda: staff.disable(
        db.session, archive, user, current_user, release=release, ip=client_ip()))
    return refused or _done(archive, _("已停用%(name)s的账号，其登录已全部退出。", name=user.real_name))


@bp.post("/<code>/staff/<int:user_id>/enable")
@login_required
def staff_enable(code: str, user_id: int):
    archive, user = _member(code, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    staff.enable(db.session, archive, user, current_user, ip=client_ip())
    return _done(archive, _("已启用%(name)s的账号。", name=user.real_name))


@bp.post("/<code>/staff/<int:user_id>/resend")
@login_required
def staff_resend(code: str, user_id: int):
    archive, user = _member(code, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    refused = _after(archive, user, "resend", lambda: staff.resend(db.session, archive, user, current_user,
                                                                    ip=client_ip()))
    return refused or _done(archive, _("已重新发送邀请邮件，原链接已失效。"))
