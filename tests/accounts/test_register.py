"""Registration: real name + checksum-validated ID number; every failure keeps what was typed."""
from __future__ import annotations

import html as html_lib

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.audit.models import AuditLog
from portal.core.idnumber import check_character
from portal.core.personal_data import cipher
from tests.factories import make_id_number
from tests.helpers import field_error, submit

ID_NUMBER = make_id_number(region="450102", born="19900101", seq=321)


def _form(**changes) -> dict:
    data = {"name": "李小龙", "id_number": ID_NUMBER, "email": "li@example.cn", "phone": "13800138000",
            "password": "Dangan2024", "password2": "Dangan2024", "consent": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _register(client, **changes):
    return submit(client, "/register", _form(**changes))


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _id_with_x_check() -> str:
    for seq in range(1000):
        first17 = f"45010219900101{seq:03d}"
        if check_character(first17) == "X":
            return first17 + "X"
    raise AssertionError


def test_registration_logs_the_citizen_in_and_redirects_home(client, session):
    response = _register(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "注册成功" in home
    assert "李小龙" in home and "退出" in home

    user = session.scalars(select(User)).one()
    assert (user.role, user.email, user.real_name, user.phone) == ("citizen", "li@example.cn", "李小龙", "13800138000")
    assert user.id_number_hash == cipher().lookup_hash(ID_NUMBER)


def test_registration_writes_a_user_created_audit_row(client, session):
    _register(client)
    user = session.scalars(select(User)).one()
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "user_created")).one()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (user.id, "user", str(user.id))
    assert entry.ip == "127.0.0.1"
    assert ID_NUMBER not in str(entry.details)


def test_lowercase_x_in_id_number_is_stored_normalized(client, session):
    number = _id_with_x_check()
    assert _register(client, id_number=number.lower()).status_code == 302
    assert session.scalars(select(User)).one().id_number_hash == cipher().lookup_hash(number)


BAD_CHECKSUM = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
WEAK = "Li2024@example.cn"  # the email as password


@pytest.mark.parametrize(("changes", "field", "message"), [
    pytest.param({"id_number": BAD_CHECKSUM}, "id_number", "身份证号码校验位不正确", id="bad-checksum"),
    pytest.param({"id_number": "45010219990230123X"}, "id_number", "出生日期不存在", id="bad-birth-date"),
    pytest.param({"id_number": ""}, "id_number", "请填写身份证号码", id="no-id-number"),
    pytest.param({"password": "Ab1", "password2": "Ab1"}, "password", "密码至少需要 8 位", id="short-password"),
    pytest.param({"password": "20240101123", "password2": "20240101123"}, "password", "密码需同时包含字母和数字",
                 id="digits-only-password"),
    pytest.param({"password": "abcd1234", "password2": "abcd1234"}, "password", "这个密码太常见",
                 id="common-password"),
    pytest.param({"email": WEAK.lower(), "password": WEAK, "password2": WEAK}, "password", "这个密码太常见",
                 id="password-is-email"),
    pytest.param({"email": "li.example.cn"}, "email", "请填写有效的电子邮箱", id="bad-email"),
    pytest.param({"password2": "Dangan2025"}, "password2", "两次输入的密码不一致", id="mismatched-confirmation"),
    pytest.param({"consent": None}, "consent", "需要您同意个人信息处理说明才能注册", id="no-consent"),
    pytest.param({"name": "  "}, "name", "请填写真实姓名", id="blank-name"),
    pytest.param({"phone": "12345"}, "phone", "请填写有效的手机号或固定电话", id="bad-phone"),
])
def test_invalid_registration_is_422_with_message_at_the_field_and_input_kept(client, session, changes, field,
                                                                             message):
    response = _register(client, **changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = field_error(page, field)
    assert error is not None and message in html_lib.unescape(error), f"{field}: {error!r}"
    assert 'aria-invalid="true"' in page
    typed = _form(**changes)
    for kept in ("name", "email", "id_number"):
        if typed.get(kept, "").strip():
            assert f'value="{html_lib.escape(typed[kept])}"' in page, f"{kept} not kept"
    assert f'value="{typed["password"]}"' not in page  # passwords are never echoed back
    assert _count(session, User) == 0


@pytest.mark.parametrize("email", ["li@example.cn", "LI@Example.CN"], ids=["same-case", "other-case"])
def test_email_already_registered_is_refused(client, session, factory, email):
    factory.user(email="li@example.cn", name="李某")
    response = _register(client, email=email)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "该邮箱已注册" in field_error(page, "email")
    assert 'value="李小龙"' in page and f'value="{ID_NUMBER}"' in page
    assert _count(session, User) == 1


def test_id_number_already_registered_is_refused(client, session, factory):
    factory.user(email="other@example.cn", id_number=ID_NUMBER, name="李小龙")
    response = _register(client)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "该身份证号码已注册账号" in field_error(page, "id_number")
    assert 'value="li@example.cn"' in page
    assert _count(session, User) == 1


def test_failed_registration_writes_no_audit_row(client, session):
    _register(client, password="short1", password2="short1")
    assert _count(session, AuditLog) == 0


def test_logged_in_citizen_is_sent_home_from_the_registration_page(client, session):
    _register(client)
    response = client.get("/register")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_id_number_typed_in_full_width_is_the_same_registered_number(client, session, factory):
    factory.user(email="other@example.cn", id_number=ID_NUMBER, name="李小龙")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in ID_NUMBER)
    response = _register(client, id_number=full_width)
    assert response.status_code == 422
    assert "该身份证号码已注册账号" in field_error(response.get_data(as_text=True), "id_number")


def test_many_registrations_from_one_address_are_refused_for_a_day(app, client):
    app.config["MAX_REGISTRATIONS_PER_IP"] = 2
    for n in range(3):
        response = submit(client, "/register", {
            "name": "王五", "id_number": make_id_number(seq=100 + n), "email": f"w{n}@example.cn",
            "password": "Dangan2024", "password2": "Dangan2024", "consent": "y"})
        if n < 2:
            assert response.status_code == 302
            submit(client, "/logout", {}, form_url="/")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "注册的账号太多" in page and 'value="w2@example.cn"' in page
