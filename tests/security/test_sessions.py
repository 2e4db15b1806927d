"""Sessions end when the person ends them (issue 11, section 3), and what a signed-in page sends.

The attacks: a cookie copied before log-out (a shared reading-room computer, a proxy log) kept
working; the next person at that computer inherited the basket; a browser left signed in at a
counter could sign certificates hours later; an API token could not be revoked."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from portal.accounts.models import UserSession
from portal.core.clock import utcnow
from portal.db import db
from tests.factories import PASSWORD
from tests.helpers import hx_csrf_token, login, logout, submit
from tests.review_pages.conftest import action_url, post_raw


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _signed_in(client) -> bool:
    response = client.get("/requests")
    return response.status_code == 200


def _age_sessions(user, *, seen=None, password=None) -> None:
    values = {}
    if seen is not None:
        values["last_seen_at"] = utcnow() - seen
    if password is not None:
        values["authenticated_at"] = utcnow() - password
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id).values(**values))
    db.session.commit()


def test_a_cookie_copied_before_logout_opens_nothing_after(client, factory):
    citizen = factory.user(email="li@example.cn")
    login(client, citizen.email, PASSWORD)
    copied = _session_cookie(client)
    assert _signed_in(client)
    logout(client)
    client.set_cookie("session", copied)  # the copy, replayed
    response = client.get("/requests")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_next_person_at_a_shared_computer_does_not_inherit_the_basket(client, factory):
    first, second = factory.user(email="first@example.cn"), factory.user(email="second@example.cn")
    record = factory.record(factory.archive(), title="招工登记表")
    login(client, first.email, PASSWORD)
    submit(client, "/basket/add", {"archive_code": record.archive.code, "reference_code": record.reference_code},
           form_url="/")
    assert record.reference_code in client.get("/apply").get_data(as_text=True)
    logout(client)
    login(client, second.email, PASSWORD)
    assert record.reference_code not in client.get("/apply").get_data(as_text=True)


@pytest.mark.parametrize(("role", "idle", "still_in"), [
    ("clerk", timedelta(minutes=29), True), ("clerk", timedelta(minutes=31), False),
    ("citizen", timedelta(minutes=119), True), ("citizen", timedelta(minutes=121), False),
])
def test_sessions_end_after_a_while_without_use(client, factory, role, idle, still_in):
    user = factory.user(role, email=f"{role}@example.cn", archive=factory.archive() if role == "clerk" else None)
    login(client, user.email, PASSWORD)
    _age_sessions(user, seen=idle)
    page = "/staff/queue" if role == "clerk" else "/requests"
    response = client.get(page)
    assert (response.status_code == 200) is still_in, response.status_code


def test_log_out_everywhere_ends_every_browser_and_token(app, factory):
    citizen = factory.user(email="lost.phone@example.cn")
    phone, desk = app.test_client(), app.test_client()
    login(phone, citizen.email, PASSWORD)
    login(desk, citizen.email, PASSWORD)
    token = desk.post("/api/v1/tokens", json={"email": citizen.email, "password": PASSWORD}).get_json()["token"]
    assert "<dd id=\"sessions-open\">2</dd>" in desk.get("/account").get_data(as_text=True)

    response = desk.post("/account/logout-everywhere", data={"csrf_token": hx_csrf_token(desk, "/account")})
    assert response.status_code == 303
    assert not _signed_in(desk) and not _signed_in(phone)
    assert desk.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_an_api_token_can_be_revoked(client, factory):
    citizen = factory.user(email="script@example.cn")
    token = client.post("/api/v1/tokens", json={"email": citizen.email, "password": PASSWORD}).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/requests", headers=auth).status_code == 200
    assert client.delete("/api/v1/tokens", headers=auth).status_code == 204
    assert client.get("/api/v1/requests", headers=auth).status_code == 401


@pytest.fixture
def approved(factory):
    archive = factory.archive()
    reviewer = factory.user("reviewer", archive=archive, email="reviewer@example.cn")
    factory.user("clerk", archive=archive, email="clerk@example.cn")
    return reviewer, factory.request(issuing=archive, status="approved")


def test_issuing_asks_for_the_password_again_after_30_minutes(client, approved):
    reviewer, req = approved
    login(client, reviewer.email, PASSWORD)
    _age_sessions(reviewer, password=timedelta(minutes=31))
    response = post_raw(client, action_url(req, "issue"), {"version": str(req.version)})
    assert response.status_code == 303 and response.headers["Location"].startswith("/reauth?next=")
    db.session.refresh(req)
    assert req.status == "approved"  # nothing signed

    wrong = submit(client, response.headers["Location"], {"password": "Wrong2024x"})
    assert wrong.status_code == 422 and "密码不正确" in wrong.get_data(as_text=True)
    again = submit(client, response.headers["Location"], {"password": PASSWORD,
                                                           "next": f"/staff/requests/{req.number}"})
    assert again.status_code == 303 and again.headers["Location"] == f"/staff/requests/{req.number}"
    assert post_raw(client, action_url(req, "issue"), {"version": str(req.version), "confirm": "1"}).status_code == 303
    db.session.refresh(req)
    assert req.status == "issued"


def test_an_old_token_cannot_issue_but_a_new_one_can(client, approved):
    from portal.accounts.models import ApiToken

    reviewer, req = approved
    token = client.post("/api/v1/tokens", json={"email": reviewer.email, "password": PASSWORD}).get_json()["token"]
    db.session.execute(update(ApiToken).values(created_at=utcnow() - timedelta(minutes=31)))
    db.session.commit()
    url = f"/api/v1/requests/{req.number}/actions/issue"
    old = client.post(url, json={"version": req.version}, headers={"Authorization": f"Bearer {token}"})
    assert old.status_code == 401 and "30" in old.get_json()["error"]
    token = client.post("/api/v1/tokens", json={"email": reviewer.email, "password": PASSWORD}).get_json()["token"]
    new = client.post(url, json={"version": req.version}, headers={"Authorization": f"Bearer {token}"})
    assert new.status_code == 200, new.get_json()


def test_signed_in_pages_are_never_stored_and_carry_the_security_headers(client, factory):
    citizen = factory.user(email="headers@example.cn")
    anonymous = client.get("/")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    login(client, citizen.email, PASSWORD)
    for url in ("/", "/me/records", "/requests", "/apply", "/account"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        csp = response.headers["Content-Security-Policy"]
        assert all(rule in csp for rule in ("base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"))
        assert "camera=()" in response.headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP here
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
