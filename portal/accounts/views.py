from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.forms import LoginForm, ReauthForm, RegisterForm
from portal.accounts import sessions
from portal.accounts.service import authenticate, create_user
from portal.core.errors import ValidationFailed
from portal.db import db
from portal import throttle
from portal.throttle import Throttled, remember_device
from portal.web_util import client_ip, safe_next

bp = Blueprint("accounts", __name__)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            throttle.check("register")  # counted before the password is hashed
            user = create_user(db.session, role="citizen", email=form.email.data, password=form.password.data,
                               name=form.name.data, id_number=form.id_number.data, phone=form.phone.data,
                               ip=client_ip())
        except Throttled as exc:
            form.email.errors.append(exc.text())
            return exc.headers_on(make_response(render_template("accounts/register.html", form=form), 429))
        except ValidationFailed as exc:
            for field, message in exc.errors.items():
                getattr(form, field, form.email).errors.append(message)
        else:
            sessions.start(db.session, user, ip=client_ip())
            flash(_("注册成功，欢迎使用档案利用服务。"), "success")
            return redirect(url_for("site.home"))
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            throttle.check("login")  # counted before the password is checked
            user = authenticate(db.session, form.email.data, form.password.data, ip=client_ip())
        except Throttled as exc:
            form.password.errors.append(exc.text())
            return exc.headers_on(make_response(render_template("accounts/login.html", form=form), 429))
        if user:
            sessions.start(db.session, user, ip=client_ip())
            # This browser may log in to this account even while strangers fill its per-email limit.
            return remember_device(redirect(safe_next(form.next.data) or url_for("site.home")), form.email.data)
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
            form.password.errors.append(exc.text())
            return exc.headers_on(make_response(render_template("accounts/reauth.html", form=form), 429))
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
