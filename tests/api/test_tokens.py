"""Bearer tokens: issued for an email and password, stored hashed, expiring, and the only way into
the API — the browser's session cookie opens nothing there."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from flask import abort
from sqlalchemy import select, text

from portal.accounts.models import ApiToken
from portal.audit.models import AuditLog
from portal.core.clock import utcnow
from tests.factories import PASSWORD
from tests.helpers import login

EMAIL = "zhang@example.cn"
WRONG = "邮箱或密码不正确 (wrong email or password)"


@pytest.fixture
def citizen(factory):
    return factory.user(email=EMAIL, name="张三")


def issue(client, email=EMAIL, password=PASSWORD):
    return client.post("/api/v1/tokens", json={"email": email, "password": password})


def me(client, token=None, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.get("/api/v1/me/records", headers=headers)


def test_citizen_gets_a_12_hour_token_that_opens_the_api(client, session, citizen):
    before = utcnow()
    response = issue(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"token", "expires_at"}
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert before + timedelta(hours=12) - timedelta(seconds=2) <= expires_at <= utcnow() + timedelta(hours=12)
    assert me(client, body["token"]).status_code == 200
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "api_token_issued")).one()
    assert (entry.actor_id, entry.ip) == (citizen.id, "127.0.0.1")


def test_clerk_gets_a_token_too(client, factory):
    clerk = factory.user("clerk", email="clerk@example.cn", archive=factory.archive())
    response = issue(client, clerk.email)
    assert response.status_code == 200
    answer = me(client, response.get_json()["token"])
    assert answer.status_code == 200 and answer.get_json() == {"records": []}


def test_wrong_password_and_unknown_email_get_the_same_401(client, session, citizen):
    wrong_password = issue(client, EMAIL, "Wrong2024x")
    unknown_email = issue(client, "nobody@example.cn", "Wrong2024x")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert response.get_json() == {"error": WRONG}
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert session.scalar(select(ApiToken.id)) is None


def test_deactivated_account_gets_no_token(client, session, citizen):
    citizen.is_active_account = False
    session.commit()
    assert issue(client).status_code == 401


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"data": '{"email": "zhang@example.cn", "password": ', "content_type": "application/json"}, "body"),
    ({"json": ["zhang@example.cn", PASSWORD]}, "body"),
    ({"json": "zhang@example.cn"}, "body"),
    ({"json": None}, "body"),
    ({"data": {"email": EMAIL, "password": PASSWORD}}, "body"),  # a form post is not JSON
    ({"json": {"password": PASSWORD}}, "email"),
    ({"json": {"email": EMAIL}}, "password"),
    ({"json": {"email": EMAIL, "password": ""}}, "password"),
    ({"json": {"email": 42, "password": PASSWORD}}, "email"),
    ({"json": {"email": EMAIL, "password": ["a", "b"]}}, "password"),
])
def test_bad_bodies_are_400_naming_the_field(client, citizen, kwargs, field):
    response = client.post("/api/v1/tokens", **kwargs)
    assert response.status_code == 400
    assert response.is_json
    body = response.get_json()
    assert body["field"] == field and "(" in body["error"]


def test_repeated_failures_are_throttled_with_429(client, citizen):
    for _ in range(10):
        assert issue(client, EMAIL, "Wrong2024x").status_code == 401
    response = issue(client)  # even the right password, for now
    assert response.status_code == 429
    assert response.is_json and "15" in response.get_json()["error"]
    assert response.headers["Retry-After"] == "900"


def test_only_the_sha256_of_the_token_is_stored(client, session, citizen):
    token = issue(client).get_json()["token"]
    rows = session.execute(text("SELECT * FROM api_token")).all()
    assert len(rows) == 1
    assert not any(token in str(value) for value in rows[0])
    assert session.scalar(select(ApiToken.token_hash)) == hashlib.sha256(token.encode()).hexdigest()


def test_expired_token_is_refused(client, session, citizen):
    token = issue(client).get_json()["token"]
    row = session.scalars(select(ApiToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    response = me(client, token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_new_token_clears_the_users_expired_ones(client, session, citizen):
    issue(client)
    session.scalars(select(ApiToken)).one().expires_at = utcnow() - timedelta(hours=1)
    session.commit()
    issue(client)
    session.expire_all()
    assert len(session.scalars(select(ApiToken)).all()) == 1


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-a-real-token"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic emhhbmc6RGFuZ2FuMjAyNA=="},
    {"Authorization": "Bearer " + "x" * 5000},
])
def test_missing_or_garbage_authorization_is_401_json(client, citizen, headers):
    response = me(client, **headers)
    assert response.status_code == 401
    assert response.is_json
    assert "error" in response.get_json()
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_deactivated_users_token_stops_working(client, session, citizen):
    token = issue(client).get_json()["token"]
    citizen.is_active_account = False
    session.commit()
    assert me(client, token).status_code == 401


def test_browser_session_cookie_does_not_open_the_api(client, citizen):
    assert login(client, EMAIL, PASSWORD).status_code == 302  # logged in on the web
    response = me(client)
    assert response.status_code == 401
    assert response.is_json


def test_token_endpoint_needs_no_csrf_token(app, client, citizen):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    login(client, EMAIL, PASSWORD)  # even with a session, where CSRF checks would bite
    assert issue(client).status_code == 200


@pytest.mark.parametrize("code", [401, 409, 415])
def test_api_errors_raised_anywhere_are_json(app, code):
    app.add_url_rule(f"/api/v1/abort-{code}", f"abort_{code}", lambda: abort(code))
    response = app.test_client().get(f"/api/v1/abort-{code}")
    assert response.status_code == code
    assert response.is_json and response.get_json()["error"]
