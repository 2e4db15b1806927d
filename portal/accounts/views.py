from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts.forms import LoginForm, RegisterForm
from portal.accounts.service import TooManyAttempts, authenticate, register_citizen
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.web_util import client_ip, safe_next

bp = Blueprint("accounts", __name__)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = register_citizen(db.session, email=form.email.data, password=form.password.data,
                                    name=form.name.data, id_number=form.id_number.data, phone=form.phone.data,
                                    ip=client_ip())
        except TooManyAttempts:
            form.email.errors.append(_("今天从这个网络注册的账号太多，请明天再试，或到档案馆查档大厅办理"))
            return render_template("accounts/register.html", form=form), 429
        except ValidationFailed as exc:
            for field, message in exc.errors.items():
                getattr(form, field, form.email).errors.append(message)
        else:
            login_user(user)
            flash(_("注册成功，欢迎使用档案利用服务。"), "success")
            return redirect(url_for("site.home"))
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = authenticate(db.session, form.email.data, form.password.data, ip=client_ip())
        except TooManyAttempts:
            form.password.errors.append(_("登录失败次数过多，请 15 分钟后再试，或联系档案馆重置密码"))
            return render_template("accounts/login.html", form=form), 429
        if user:
            login_user(user)
            return redirect(safe_next(form.next.data) or url_for("site.home"))
        # One message for a wrong email and a wrong password: do not reveal which accounts exist.
        form.password.errors.append(_("邮箱或密码不正确"))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("您已安全退出。"), "info")
    return redirect(url_for("site.home"))
