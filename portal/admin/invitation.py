"""The invitation link's page: a new member of staff sets their first password and is signed in
(the link proved the address is theirs), landing where their work is."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts import links, sessions
from portal.accounts.forms import NewPasswordForm
from portal.admin.staff_service import accept_invitation
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.web_util import client_ip, render

bp = Blueprint("invitation", __name__)

_INVALID = _l("邀请链接无效、已使用或已过期（有效期 3 天），请联系本馆管理员重新发送邀请。")


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def welcome(token: str):
    user = links.peek(db.session, token, "reset_password")
    if user is None or not user.is_active:
        return render("admin/welcome_invalid.html", message=_INVALID, status=404)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = accept_invitation(db.session, token, form.password.data, ip=client_ip())
        except ValidationFailed as exc:
            form.password.errors = [str(m) for m in exc.errors.values()]
        else:
            if user is None:
                return render("admin/welcome_invalid.html", message=_INVALID, status=404)
            sessions.start(db.session, user, ip=client_ip())
            flash(_("密码已设置，欢迎使用档案利用服务平台。"), "success")
            landing = url_for("review.queue_page") if user.is_staff else url_for("admin.index")
            return redirect(landing, 303)
    return render("admin/welcome.html", form=form, person=user, status=422 if form.errors else 200)
