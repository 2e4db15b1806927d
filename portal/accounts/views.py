from __future__ import annotations

from flask import Blueprint, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.forms import (ChangePasswordForm, ForgotPasswordForm, LoginForm, NewPasswordForm, ReauthForm,
                                   RegisterForm)
from portal.accounts import sessions
from portal.accounts import privacy, service
from portal.accounts.service import authenticate
from portal.accounts.service import register as register_citizen
from portal.core.errors import ValidationFailed
from portal.db import db
from portal import throttle
from portal.throttle import Throttled, remember_device
from portal.web_util import client_ip, safe_next

bp = Blueprint("accounts", __name__)


def _throttled(exc: Throttled, field, template: str, form, **context):
    """The form again, with what was typed, the refusal next to `field`, and 429 with Retry-After."""
    field.errors.append(exc.text())
    return exc.headers_on(make_response(render_template(template, form=form, **context), 429))


def _typed(form: RegisterForm) -> dict:
    return {"email": form.email.data, "password": form.password.data, "name": form.name.data,
            "id_number": form.id_number.data, "phone": form.phone.data}


def _registration_valid(form: RegisterForm) -> bool:
    """The form's checks and the service's (the ID number's check digit, the password's strength …)
    in one pass, so that every problem shows at once, each at its field, rather than one round of
    errors at a time. Nothing here tells whether an address is registered (see service.register)."""
    form_ok = form.validate()
    # A field the form refused already (too long, missing) is not read again.
    typed = {name: "" if getattr(form, name).errors else value for name, value in _typed(form).items()}
    for field, message in service.registration_problems(db.session, **typed).items():
        if not (target := getattr(form, field, form.email)).errors:
            target.errors.append(message)
    return form_ok and not form.errors


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = RegisterForm()
    if form.is_submitted() and _registration_valid(form):
        try:
            throttle.check("register")  # counted before the password is hashed
            register_citizen(db.session, **_typed(form), ip=client_ip())
        except Throttled as exc:
            return _throttled(exc, form.email, "accounts/register.html", form)
        except ValidationFailed as exc:
            for field, message in exc.errors.items():
                getattr(form, field, form.email).errors.append(message)
        else:
            # The same page whether the address or the ID number had an account already.
            return render_template("accounts/check_email.html", email=form.email.data.strip(), purpose="register")
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            throttle.check("login")  # counted before the password is checked
            user = authenticate(db.session, form.email.data, form.password.data, ip=client_ip())
        except Throttled as exc:
            return _throttled(exc, form.password, "accounts/login.html", form)
        if user:
            sessions.start(db.session, user, ip=client_ip())
            # This browser may log in to this account even while strangers fill its per-email limit.
            # Staff start at their queue, archive admins at their administration pages; citizens at
            # the home page (unless a page sent them here).
            landing = (url_for("review.queue_page") if user.is_staff
                       else url_for("admin.index") if user.runs_an_archive else url_for("site.home"))
            return remember_device(redirect(safe_next(form.next.data) or landing), user)
        # One message for a wrong email and a wrong password: do not reveal which accounts exist.
        form.password.errors.append(_("邮箱或密码不正确"))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@login_required
def logout():
    sessions.end(db.session)
    flash(_("您已安全退出。"), "info")
    return redirect(url_for("site.home"))


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
def reauth():
    """Type the password again before signing or revoking a certificate (portal.actions marks which
    actions need it); counted with log-ins, so it is no way to guess the password either."""
    form = ReauthForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            throttle.check("login", current_user.email)
            user = authenticate(db.session, current_user.email, form.password.data, ip=client_ip())
        except Throttled as exc:
            return _throttled(exc, form.password, "accounts/reauth.html", form)
        if user is not None:
            sessions.refreshed(db.session)
            return redirect(safe_next(form.next.data) or url_for("site.home"), 303)
        form.password.errors.append(_("密码不正确"))
    return render_template("accounts/reauth.html", form=form), 200 if not form.errors else 422


@bp.get("/account")
@login_required
def account():
    """The person's account: how their identity stands, where they are signed in, and a way out."""
    return render_template("accounts/account.html", sessions_open=sessions.count(db.session, current_user))


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of this account, this browser's too, and revoke its API tokens (a phone
    lost, a shared computer left signed in)."""
    sessions.end_all(db.session, current_user)
    sessions.end(db.session)
    flash(_("已在所有设备上退出，访问令牌也已失效。"), "info")
    return redirect(url_for("accounts.login"), 303)


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    """The link of the confirmation email."""
    user = service.confirm_email(db.session, token, ip=client_ip())
    if user is None:
        flash(_("确认链接无效或已过期。登录后可以重新发送确认邮件。"), "error")
    else:
        flash(_("邮箱已确认，现在可以提交利用申请了。"), "success")
    return redirect(url_for("requests.apply" if current_user.is_authenticated else "accounts.login"), 303)


@bp.post("/confirm/resend")
@login_required
def resend_confirmation():
    try:
        throttle.check("account_email", current_user.email)
    except Throttled as exc:
        flash(exc.text(), "error")
    else:
        service.resend_confirmation(db.session, current_user)
        flash(_("确认邮件已重新发送到 %(email)s，请在 24 小时内打开其中的链接。", email=current_user.email), "info")
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.account"), 303)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """The same answer whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            throttle.check("account_email")
        except Throttled as exc:
            return _throttled(exc, form.email, "accounts/forgot.html", form)
        service.request_password_reset(db.session, form.email.data, ip=client_ip())
        return render_template("accounts/check_email.html", email=form.email.data.strip(), purpose="reset")
    return render_template("accounts/forgot.html", form=form), 200 if not form.errors else 422


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = NewPasswordForm()
    if service.links.peek(db.session, token, "reset_password") is None:
        flash(_("重设密码的链接无效、已使用或已过期（有效期 30 分钟），请重新申请。"), "error")
        return redirect(url_for("accounts.forgot_password"), 303)
    if form.validate_on_submit():
        try:
            user = service.reset_password(db.session, token, form.password.data, ip=client_ip())
        except ValidationFailed as exc:
            form.password.errors.extend(exc.errors.values())
        else:
            if user is None:
                flash(_("重设密码的链接无效、已使用或已过期（有效期 30 分钟），请重新申请。"), "error")
                return redirect(url_for("accounts.forgot_password"), 303)
            sessions.end(db.session)
            flash(_("密码已重设，其他设备上的登录都已退出。请用新密码登录。"), "success")
            return redirect(url_for("accounts.login"), 303)
    return render_template("accounts/reset.html", form=form), 200 if not form.errors else 422


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            throttle.check("login", current_user.email)  # the old password is a guess like any other
            service.change_password(db.session, current_user, form.old_password.data, form.password.data,
                                    ip=client_ip())
        except Throttled as exc:
            return _throttled(exc, form.old_password, "accounts/change_password.html", form)
        except ValidationFailed as exc:
            for field, message in exc.errors.items():
                getattr(form, field).errors.append(message)
        else:
            flash(_("密码已修改，其他设备上的登录和访问令牌都已失效。"), "success")
            return redirect(url_for("accounts.account"), 303)
    return render_template("accounts/change_password.html", form=form), 200 if not form.errors else 422


# ---- personal information (PIPL arts. 44–47) --------------------------------------------------

@bp.get("/account/data")
@login_required
def my_data():
    """What the portal holds about the person, the staff who looked at it, and what stays if they leave."""
    return render_template("accounts/my_data.html", held=privacy.held_about(db.session, current_user))


@bp.get("/account/data.json")
@login_required
def my_data_download():
    response = jsonify(privacy.held_about(db.session, current_user))
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@bp.post("/account/phone")
@login_required
def correct_phone():
    try:
        privacy.correct_phone(db.session, current_user, request.form.get("phone", ""), ip=client_ip())
    except ValidationFailed as exc:
        return render_template("accounts/my_data.html", held=privacy.held_about(db.session, current_user),
                               errors=exc.errors, typed_phone=request.form.get("phone", "")), 422
    flash(_("电话号码已更新。"), "success")
    return redirect(url_for("accounts.my_data"), 303)


@bp.route("/account/close", methods=["GET", "POST"])
@login_required
def close_account():
    form = ReauthForm()
    if form.validate_on_submit():
        try:
            throttle.check("login", current_user.email)
            privacy.close_account(db.session, current_user, form.password.data, ip=client_ip())
        except Throttled as exc:
            return _throttled(exc, form.password, "accounts/close.html", form, keep_reason=privacy.KEEP_REASON)
        except ValidationFailed:
            form.password.errors.append(_("密码不正确"))
        else:
            sessions.end(db.session)
            flash(_("账号已注销。依法需要保存的申请记录仍由档案馆保存，其余个人信息已删除。"), "info")
            return redirect(url_for("site.home"), 303)
    return render_template("accounts/close.html", form=form,
                           keep_reason=privacy.KEEP_REASON), 200 if not form.errors else 422
