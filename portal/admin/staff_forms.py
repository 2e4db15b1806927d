"""The forms of the archive and staff pages: fields and CSRF only; the services check the values
(every problem at once), so what was typed comes back as typed."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice

from portal.admin.staff_service import ROLE_LABELS

_ROLES = [SelectChoice(code, _l(label)) for code, label in ROLE_LABELS.items()]


class ArchiveForm(FlaskForm):
    code = StringField(_l("档案馆代码"))
    name = StringField(_l("档案馆名称"))
    region = StringField(_l("所在地区"))
    address = StringField(_l("地址"))
    opening_hours = StringField(_l("开放时间"))
    phone = TelField(_l("联系电话"))
    task_due_working_days = StringField(_l("协办时限（工作日）"))


class InviteForm(FlaskForm):
    name = StringField(_l("真实姓名"))
    email = EmailField(_l("电子邮箱"))
    phone = TelField(_l("联系电话（选填）"))
    role = SelectField(_l("角色"), choices=[SelectChoice("", _l("请选择")), *_ROLES],
                       validate_choice=False)


class RoleForm(FlaskForm):
    role = SelectField(_l("角色"), choices=_ROLES, validate_choice=False)
    release = HiddenField()


class ConfirmForm(FlaskForm):
    """Disable, enable, resend: a button (and, to release held work, a confirmation)."""
    release = HiddenField()
