"""Checking a citizen's identity at the counter (现场核验身份): a clerk of any reading room looks the
account up by its email, reads the name and ID number off the ID card in hand, and verifies the
account. Where the card and the account disagree the card wins (portal.accounts.identity.claim_identity):
the account takes the card's identity, and an unverified account that had claimed that ID number
is frozen. The ID number travels in the form body, never in a URL, and every look-up is in the
audit log."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length

from portal.accounts.identity import IdentityConflict, VerifiedAsSomeoneElse, verify_in_person
from portal.accounts.models import User
from portal.accounts.service import normalize_email
from portal.audit.service import log
from portal.core.idnumber import InvalidIdNumber, normalize_id_number
from portal.core.masking import mask_id_number, same_name
from portal.core.personal_data import cipher
from portal.db import db
from portal.policy import may_verify_identity
from portal.web_util import client_ip, render, role_required

bp = Blueprint("identity", __name__, url_prefix="/staff/identity")
clerk_required = role_required(may_verify_identity)


class CheckForm(FlaskForm):
    email = EmailField(_l("账号邮箱"), validators=[DataRequired(_l("请填写市民注册时使用的电子邮箱")), Length(max=254)])
    name = StringField(_l("证件上的姓名"), validators=[DataRequired(_l("请照证件填写姓名")), Length(max=50)])
    id_number = StringField(_l("证件上的身份证号码"), validators=[DataRequired(_l("请照证件填写身份证号码")),
                                                           Length(max=30)])


def _compare(form: CheckForm):
    """The account, and what the clerk should know before verifying it; None when the form is wrong
    (its errors then say why)."""
    try:
        number = normalize_id_number(form.id_number.data)
    except InvalidIdNumber as exc:
        form.id_number.errors.append(exc.args[0])
        return None
    account = db.session.scalar(select(User).where(User.email == normalize_email(form.email.data)))
    if account is None or account.role != "citizen":
        form.email.errors.append(_("没有使用这个邮箱的市民账号，请核对，或请市民先注册"))
        return None
    if not account.is_active:
        form.email.errors.append(_("这个账号已冻结或注销，不能核验；请市民重新注册，或联系管理员"))
        return None
    if account.email_confirmed_at is None:
        # Anyone can register with someone else's address; only its owner can confirm it.
        form.email.errors.append(_("这个账号的邮箱尚未确认：请市民先打开确认邮件中的链接，再来核验"))
        return None
    digest = cipher().lookup_hash(number)
    holders = db.session.execute(select(User.id, User.identity_level)
                                 .where(User.id_number_hash == digest, User.id != account.id)).all()
    name = form.name.data.strip()
    # What the clerk learns is in the log: about this account, and about every other account that
    # claims the number (so each holder's own view of who looked at their data shows it).
    for looked_at in [account.id, *(holder.id for holder in holders)]:
        log(db.session, "identity_lookup", actor=current_user, object_type="user", object_id=looked_at,
            ip=client_ip(), id_number=mask_id_number(number), account=account.id)
    db.session.commit()
    return {
        "account": account, "number": number, "name": name,
        "id_matches": account.id_number_hash == digest,
        "name_matches": same_name(name, account.real_name),
        "account_id_masked": mask_id_number(cipher().decrypt(account.id_number_enc)) if account.id_number_enc else "",
        "holder": bool(holders),  # other accounts claim this ID number
        "holder_verified": any(holder.identity_level == "verified" for holder in holders),  # one holds it verified
    }


@bp.route("", methods=["GET", "POST"])
@clerk_required
def check():
    """Look an account up (first submit), then verify it (the same form, confirmed)."""
    form = CheckForm()
    found = None
    if form.validate_on_submit() and (found := _compare(form)) is not None and request.form.get("confirm") == "1":
        account = found["account"]
        if found["holder_verified"]:
            form.id_number.errors.append(_("这个身份证号码已在另一个账号上核验过，请联系管理员处理"))
        else:
            try:
                verify_in_person(db.session, account, found["number"], found["name"], actor=current_user,
                                 ip=client_ip())
            except VerifiedAsSomeoneElse:
                db.session.rollback()
                form.id_number.errors.append(_("这个账号已核验为另一身份，不能在此更正，请联系管理员处理"))
            except IdentityConflict:  # verified elsewhere at this very moment
                db.session.rollback()
                form.id_number.errors.append(_("这个身份证号码已在另一个账号上核验过，请联系管理员处理"))
            else:
                db.session.commit()
                flash(_("已核验 %(email)s 的身份。已向该邮箱发送设置密码的链接，市民需用它重新设置密码后登录。",
                        email=account.email), "success")
                return redirect(url_for("identity.check"), 303)
    status = 422 if form.errors else 200
    return render("review/identity.html", status=status, form=form, found=found)
