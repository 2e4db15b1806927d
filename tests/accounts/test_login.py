"""Log-in and log-out: one message for every failure, audit rows, safe redirects, POST-only log-out."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit.models import AuditLog
from tests.factories import PASSWORD
from tests.helpers import field_error, hx_csrf_token, login, logout, submit

EMAIL = "zhang@example.cn"


@pytest.fixture
def citizen(factory):
    return factory.user(email=EMAIL, name="张三")


def _actions(session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def _logged_in(client) -> bool:
    return "退出" in client.get("/").get_data(as_text=True)


def test_correct_password_logs_in_and_redirects_home(client, session, citizen):
    response = login(client, EMAIL, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _logged_in(client)
    session.refresh(citizen)
    assert citizen.last_login_at is not None


def test_email_is_matched_regardless_of_case_and_spaces(client, citizen):
    assert login(client, "  Zhang@Example.CN ", PASSWORD).status_code == 302


def test_successful_login_writes_a_login_audit_row(client, session, citizen):
    login(client, EMAIL, PASSWORD)
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "login")).one()
    assert (entry.actor_id, entry.actor_role, entry.object_id, entry.ip) == (citizen.id, "citizen", str(citizen.id),
                                                                             "127.0.0.1")


def _normalized(html: str, email: str) -> str:
    html = re.sub(r'value="[^"]*"', 'value=""', html)  # CSRF tokens and the typed email
    html = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', html)
    return html.replace(email, "")


def test_wrong_password_and_unknown_email_look_identical(client, session, citizen):
    wrong_password = login(client, EMAIL, "Wrong2024x")
    unknown_email = login(client, "nobody@example.cn", "Wrong2024x")
    assert wrong_password.status_code == unknown_email.status_code == 422
    page = wrong_password.get_data(as_text=True)
    assert field_error(page, "password") == "邮箱或密码不正确"
    assert field_error(page, "email") is None
    assert _normalized(page, EMAIL) == _normalized(unknown_email.get_data(as_text=True), "nobody@example.cn")
    assert not _logged_in(client)


def test_failed_logins_write_login_failed_audit_rows(client, session, citizen):
    login(client, EMAIL, "Wrong2024x")
    login(client, "nobody@example.cn", "Wrong2024x")
    rows = session.scalars(select(AuditLog).where(AuditLog.action == "login_failed").order_by(AuditLog.id)).all()
    assert [(r.actor_id, r.object_id, r.details["email"], r.details["user_id"]) for r in rows] == [
        (None, EMAIL, EMAIL, citizen.id), (None, "nobody@example.cn", "nobody@example.cn", None)]
    assert "Wrong2024x" not in str([r.details for r in rows])
    assert "login" not in _actions(session)


def test_deactivated_account_cannot_log_in(client, session, citizen):
    citizen.is_active_account = False
    session.commit()
    response = login(client, EMAIL, PASSWORD)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "password") == "邮箱或密码不正确"
    assert not _logged_in(client)
    assert _actions(session)[-1] == "login_failed"


def test_deactivated_account_loses_its_existing_session(client, session, citizen):
    login(client, EMAIL, PASSWORD)
    assert _logged_in(client)
    citizen.is_active_account = False
    session.commit()
    assert not _logged_in(client)


def test_empty_form_asks_for_both_fields(client, citizen):
    response = submit(client, "/login", {"email": "", "password": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "email") == "请填写电子邮箱"
    assert field_error(page, "password") == "请填写密码"


def test_login_page_carries_next_into_the_form(client):
    page = client.get("/login?next=/records/451200/J001").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/records/451200/J001"' in page


def test_local_next_path_is_honoured(client, citizen):
    response = submit(client, "/login", {"email": EMAIL, "password": PASSWORD, "next": "/records/451200/J001?x=1"})
    assert response.headers["Location"] == "/records/451200/J001?x=1"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "http://localhost.evil.example/"])
def test_next_to_another_site_falls_back_to_home(client, citizen, target):
    response = submit(client, "/login", {"email": EMAIL, "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example", "//evil.example/records", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "javascript:alert(1)", "records/x",
])
def test_next_pointing_off_site_never_leaves_the_site(client, citizen, target):
    response = submit(client, "/login", {"email": EMAIL, "password": PASSWORD, "next": target})
    assert response.status_code == 302
    # Browsers read a backslash as "/" and drop tabs, so "/<backslash>evil" would mean "//evil".
    assert response.headers["Location"] == "/"


def test_logout_requires_post(client, citizen):
    login(client, EMAIL, PASSWORD)
    response = client.get("/logout")
    assert response.status_code == 405
    assert _logged_in(client)


def test_logout_without_csrf_token_is_refused(client, citizen):
    login(client, EMAIL, PASSWORD)
    response = client.post("/logout")
    assert response.status_code == 400
    assert _logged_in(client)


def test_logout_with_csrf_token_logs_out(client, citizen):
    login(client, EMAIL, PASSWORD)
    response = logout(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "您已安全退出" in page and "退出</button>" not in page


def test_anonymous_logout_is_sent_to_login(client):
    response = client.post("/logout", headers={"X-CSRFToken": hx_csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


PER_EMAIL_FROM_ONE_ADDRESS, PER_ADDRESS = 10, 50  # portal/throttle.py, the "login" throttle


def test_repeated_failures_for_one_email_are_throttled_even_with_the_right_password(client, session, citizen):
    for _ in range(PER_EMAIL_FROM_ONE_ADDRESS):
        assert login(client, EMAIL, "Wrong2024x").status_code == 422
    response = login(client, EMAIL, PASSWORD)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert "登录尝试次数过多" in page and f'value="{EMAIL}"' in page  # the form keeps what was typed
    assert not _logged_in(client)
    # Another account is not locked out by someone guessing this one.
    assert login(client, "nobody@example.cn", "Wrong2024x").status_code == 422


def test_unknown_email_is_throttled_like_a_known_one(client):
    for _ in range(PER_EMAIL_FROM_ONE_ADDRESS):
        login(client, "nobody@example.cn", "Wrong2024x")
    assert login(client, "nobody@example.cn", "Wrong2024x").status_code == 429


def test_many_failures_from_one_address_are_throttled(client, citizen):
    for i in range(PER_ADDRESS):
        login(client, f"guess{i}@example.cn", "Wrong2024x")
    assert login(client, EMAIL, PASSWORD).status_code == 429

# ---- where people land (issue 15) --------------------------------------------------------------

@pytest.mark.parametrize("role", ["clerk", "reviewer", "admin"])
def test_staff_land_on_their_queue(client, factory, role):
    archive = factory.archive()
    staff = factory.user(role, email=f"{role}@example.cn", archive=None if role == "admin" else archive)
    response = login(client, staff.email, PASSWORD)
    assert response.headers["Location"] == "/staff/queue"
    assert client.get("/staff/queue").status_code == 200


def test_staff_given_a_safe_next_land_there_and_an_unsafe_one_on_the_queue(client, factory):
    clerk = factory.user("clerk", email="clerk@example.cn", archive=factory.archive())
    response = submit(client, "/login", {"email": clerk.email, "password": PASSWORD, "next": "/records/451200/J001"})
    assert response.headers["Location"] == "/records/451200/J001"
    logout(client)
    response = submit(client, "/login", {"email": clerk.email, "password": PASSWORD, "next": "//evil.example/"})
    assert response.headers["Location"] == "/staff/queue"
