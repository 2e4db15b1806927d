from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length


class RegisterForm(FlaskForm):
    name = StringField(_l("真实姓名"), validators=[DataRequired(_l("请填写真实姓名")), Length(max=50)])
    id_number = StringField(_l("居民身份证号码"), validators=[DataRequired(_l("请填写身份证号码")), Length(max=30)])
    email = EmailField(_l("电子邮箱"), validators=[DataRequired(_l("请填写电子邮箱")), Length(max=254)])
    phone = TelField(_l("手机号码（选填）"), validators=[Length(max=20)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请设置密码"))])
    password2 = PasswordField(_l("再次输入密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])
    consent = BooleanField(_l("我已阅读并同意《个人信息处理说明》，同意平台为核验身份处理我的姓名和身份证号码"),
                           validators=[DataRequired(_l("需要您同意个人信息处理说明才能注册"))])


class ReauthForm(FlaskForm):
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码"))])
    next = HiddenField()


class LoginForm(FlaskForm):
    email = EmailField(_l("电子邮箱"), validators=[DataRequired(_l("请填写电子邮箱"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码"))])
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("电子邮箱"), validators=[DataRequired(_l("请填写电子邮箱")), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请设置密码"))])
    password2 = PasswordField(_l("再次输入新密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])


class ChangePasswordForm(NewPasswordForm):
    old_password = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码"))])
