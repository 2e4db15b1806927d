"""Registration: real name + checksum-validated ID number; every failure keeps what was typed."""
from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import func, select

from portal.accounts import service
from portal.accounts.models import User
from portal.audit.models import AuditLog
from portal.core.idnumber import check_character
from portal.core.personal_data import cipher
from portal.mail.models import MailOutbox
from tests.factories import PASSWORD, make_id_number
from tests.helpers import field_error, login, select_one, submit, text, texts

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


def _mail(session) -> list[MailOutbox]:
    return list(session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


def _link(message: MailOutbox, path: str) -> str:
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}[^\s]+)", message.body)
    assert match, message.body
    return match.group(1)


def test_registration_asks_to_confirm_the_email_and_the_link_confirms_it(client, session):
    response = _register(client)
    assert response.status_code == 200
    assert "请查收邮件" in response.get_data(as_text=True)
    user = session.scalars(select(User)).one()
    assert (user.role, user.email, user.real_name, user.phone) == ("citizen", "li@example.cn", "李小龙", "13800138000")
    assert user.id_number_hash == cipher().lookup_hash(ID_NUMBER)
    assert (user.identity_level, user.email_confirmed_at) == ("unverified", None)
    (message,) = _mail(session)
    assert message.to_address == "li@example.cn" and message.body.count("http://127.0.0.1:5000/confirm/") == 1
    assert not _signed_in(client)  # signing in would tell a fresh registration from a repeated one

    confirm = _link(message, "/confirm/")
    assert client.get(confirm).status_code == 303
    session.refresh(user)
    assert user.email_confirmed_at is not None
    assert client.get(confirm).status_code == 303  # once only
    assert "确认链接无效或已过期" in client.get("/login").get_data(as_text=True)


def test_an_expired_confirmation_link_confirms_nothing_and_another_can_be_sent(client, session):
    from datetime import timedelta

    from sqlalchemy import update

    from portal.accounts.models import AccountToken
    from portal.core.clock import utcnow

    _register(client)
    session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    client.get(_link(_mail(session)[0], "/confirm/"))
    user = session.scalars(select(User)).one()
    assert user.email_confirmed_at is None
    login(client, "li@example.cn", "Dangan2024")
    assert "请先打开确认邮件中的链接确认邮箱" in client.get("/apply").get_data(as_text=True)
    assert submit(client, "/confirm/resend", {}, form_url="/account").status_code == 303
    client.get(_link(_mail(session)[-1], "/confirm/"))
    session.refresh(user)
    assert user.email_confirmed_at is not None


def test_id_number_typed_in_full_width_is_the_same_number(client, session):
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in ID_NUMBER)
    assert _register(client, id_number=full_width).status_code == 200
    assert session.scalars(select(User)).one().id_number_hash == cipher().lookup_hash(ID_NUMBER)


def test_registration_writes_a_user_created_audit_row(client, session):
    _register(client)
    user = session.scalars(select(User)).one()
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "user_created")).one()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (user.id, "user", str(user.id))
    assert entry.ip == "127.0.0.1"
    assert ID_NUMBER not in str(entry.details)


def test_lowercase_x_in_id_number_is_stored_normalized(client, session):
    number = _id_with_x_check()
    assert _register(client, id_number=number.lower()).status_code == 200
    assert session.scalars(select(User)).one().id_number_hash == cipher().lookup_hash(number)


BAD_CHECKSUM = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
WEAK = "Li2024@example.cn"  # the email as password


@pytest.mark.parametrize(("changes", "field", "message"), [
    pytest.param({"id_number": BAD_CHECKSUM}, "id_number", "身份证号码校验位不正确", id="bad-checksum"),
    pytest.param({"id_number": "45010219990230123X"}, "id_number", "出生日期不存在", id="bad-birth-date"),
    pytest.param({"id_number": ""}, "id_number", "请填写身份证号码", id="no-id-number"),
    pytest.param({"password": "Ab1", "password2": "Ab1"}, "password", "密码至少需要 10 位", id="short-password"),
    pytest.param({"password": "20240101123", "password2": "20240101123"}, "password", "密码需同时包含字母和数字",
                 id="digits-only-password"),
    pytest.param({"password": "password123", "password2": "password123"}, "password", "这个密码太常见",
                 id="common-password"),
    pytest.param({"password": "Qwerty12345", "password2": "Qwerty12345"}, "password", "这个密码太常见",
                 id="common-password-any-case"),
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
def test_an_email_already_registered_gets_the_same_answer_and_its_holder_is_told(client, session, factory, email):
    fresh = _register(client, email="fresh@example.cn", id_number=make_id_number(seq=77)).get_data(as_text=True)
    factory.user(email="li@example.cn", name="李某")
    response = _register(client, email=email)
    assert response.status_code == 200
    assert _page_text(response.get_data(as_text=True), email) == _page_text(fresh, "fresh@example.cn")
    assert _count(session, User) == 2  # no new account
    told = _mail(session)[-1]
    assert told.to_address == "li@example.cn" and "已经有账号" in told.body and "/confirm/" not in told.body


def test_an_id_number_already_registered_gets_the_same_answer_and_its_holder_is_told(client, session, factory):
    earlier = factory.user(email="other@example.cn", id_number=ID_NUMBER, name="李小龙", verified=False)
    response = _register(client)
    assert response.status_code == 200 and "请查收邮件" in response.get_data(as_text=True)
    # Both accounts claim the number; neither is verified, so neither sees its records. The one
    # that verifies first keeps it (portal.accounts.identity).
    assert _count(session, User) == 2
    messages = {m.to_address: m.body for m in _mail(session)}
    assert "另一个账号" in messages[earlier.email] and "/confirm/" in messages["li@example.cn"]


def _page_text(html: str, email: str) -> str:
    """The answer without its CSRF token and the address it names."""
    return re.sub(r'name="csrf_token" value="[^"]+"|"X-CSRFToken": "[^"]+"', "", html).replace(email, "EMAIL")


def test_failed_registration_writes_no_audit_row(client, session):
    _register(client, password="short1", password2="short1")
    assert _count(session, AuditLog) == 0


def test_logged_in_citizen_is_sent_home_from_the_registration_page(client, session, factory):
    login(client, factory.user(email="in@example.cn").email, PASSWORD)
    response = client.get("/register")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_many_registrations_from_one_address_are_refused_for_a_day(app, client):
    app.config["MAX_REGISTRATIONS_PER_IP"] = 2
    for n in range(3):
        response = submit(client, "/register", {
            "name": "王五", "id_number": make_id_number(seq=100 + n), "email": f"w{n}@example.cn",
            "password": "Dangan2024", "password2": "Dangan2024", "consent": "y"})
        if n < 2:
            assert response.status_code == 200
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "注册的账号太多" in page and 'value="w2@example.cn"' in page


def _signed_in(client) -> bool:
    return "退出</button>" in client.get("/").get_data(as_text=True)


# ---- every problem in one answer (issue 15) -----------------------------------------------------

def test_every_problem_shows_at_once_each_at_its_field(client, session):
    """The form's own checks and the service's (check digit, password strength, email, phone) in one
    pass: nobody fixes one field, submits, and meets the next."""
    response = _register(client, id_number=BAD_CHECKSUM, email="li.example.cn", phone="12345",
                         password="short1", password2="short2", consent=None)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    expected = {"id_number": "身份证号码校验位不正确", "email": "请填写有效的电子邮箱",
                "phone": "请填写有效的手机号或固定电话", "password": "密码至少需要 10 位",
                "password2": "两次输入的密码不一致", "consent": "需要您同意个人信息处理说明才能注册"}
    for field, message in expected.items():
        assert message in html_lib.unescape(field_error(page, field) or ""), field
        control = select_one(page, f"#{field}")
        assert control["aria-invalid"] == "true" and control["aria-describedby"] == f"{field}-error", field
    assert field_error(page, "name") is None
    summary = texts(page, "#register-errors li")
    assert len(summary) == len(expected)
    assert 'value="short1"' not in page and 'value="short2"' not in page
    assert _count(session, User) == 0


def test_an_overlong_email_is_refused_by_its_length_before_any_pattern_reads_it(client, session):
    """The email pattern backtracks on "a@....@": read whole, 200,000 characters would keep the
    worker busy for hours. The length is checked first, here and in the service."""
    long_email = "a@" + "." * 200_000 + "@"
    response = _register(client, email=long_email)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "email")
    assert service.registration_problems(session, email=long_email, password="Archive2024!x", name="李某",
                                         id_number=make_id_number())["email"] == "请填写有效的电子邮箱"


def test_a_taken_email_is_still_not_revealed_when_other_fields_are_wrong(client, session, factory):
    factory.user(email="li@example.cn", name="李某")
    taken = _register(client, id_number=BAD_CHECKSUM).get_data(as_text=True)
    fresh = _register(client, id_number=BAD_CHECKSUM, email="fresh@example.cn").get_data(as_text=True)
    assert field_error(taken, "email") is None
    assert _page_text(taken, "li@example.cn") == _page_text(fresh, "fresh@example.cn")


# ---- the personal-information notice it consents to -----------------------------------------------

def test_the_consent_line_links_to_the_notice(client):
    link = select_one(client.get("/register"), "label.check a#privacy-notice-link")
    assert link is not None and link["href"] == "/privacy" and "个人信息处理说明" in text(link)


def test_a_new_account_records_the_notice_version_it_consented_to(client, session):
    from portal.accounts.notice import NOTICE

    _register(client)
    assert session.scalars(select(User)).one().privacy_notice_version == NOTICE.version


def test_the_data_page_shows_the_version_consented_to(client, session):
    from portal.accounts.notice import NOTICE

    _register(client)
    login(client, "li@example.cn", "Dangan2024")
    shown = text(select_one(client.get("/account/data"), "#consent-version"))
    assert f"版本 {NOTICE.version}" in shown
    assert client.get("/account/data.json").get_json()["account"]["privacy_notice_version"] == NOTICE.version


def test_an_account_made_before_versions_were_recorded_says_so(client, factory):
    login(client, factory.user(email="old@example.cn").email, PASSWORD)
    assert "未记录" in text(select_one(client.get("/account/data"), "#consent-version"))
