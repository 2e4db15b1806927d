"""Accounts people can manage (issue 11, section 6): a forgotten password, a changed one, and an
address confirmed before applying — none of which tells a stranger whether an account exists."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from portal.accounts.models import AccountToken
from portal.core.clock import utcnow
from portal.db import db
from portal.mail.models import MailOutbox
from tests.factories import PASSWORD
from tests.helpers import login, submit

NEW = "Guangxi#Dangan7"


def _mail_to(address: str) -> list[MailOutbox]:
    return list(db.session.scalars(select(MailOutbox).where(MailOutbox.to_address == address)
                                   .order_by(MailOutbox.id)))


def _reset_link(address: str) -> str:
    match = re.search(r"https?://[^/\s]+(/password/reset/\S+)", _mail_to(address)[-1].body)
    assert match
    return match.group(1)


def _signed_in(client) -> bool:
    return client.get("/requests").status_code == 200


def _page(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"|"X-CSRFToken": "[^"]+"', "", html)


def test_forgot_password_answers_alike_and_only_the_holder_gets_a_link(app, client, factory):
    citizen = factory.user(email="li@example.cn")
    known = submit(client, "/password/forgot", {"email": "li@example.cn"})
    unknown = submit(client, "/password/forgot", {"email": "nobody@example.cn"})
    assert known.status_code == unknown.status_code == 200
    assert _page(known.get_data(as_text=True)).replace("li@example.cn", "X") == \
        _page(unknown.get_data(as_text=True)).replace("nobody@example.cn", "X")
    assert _mail_to("nobody@example.cn") == []
    assert "/password/reset/" in _mail_to(citizen.email)[-1].body


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(app, client, factory):
    citizen = factory.user(email="li@example.cn")
    elsewhere = app.test_client()
    login(elsewhere, citizen.email, PASSWORD)
    token = elsewhere.post("/api/v1/tokens", json={"email": citizen.email, "password": PASSWORD}).get_json()["token"]
    submit(client, "/password/forgot", {"email": citizen.email})
    link = _reset_link(citizen.email)

    weak = submit(client, link, {"password": "password123", "password2": "password123"})
    assert weak.status_code == 422 and "这个密码太常见" in weak.get_data(as_text=True)  # the link still works
    done = submit(client, link, {"password": NEW, "password2": NEW})
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert not _signed_in(elsewhere)
    assert elsewhere.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(client, citizen.email, PASSWORD).status_code == 422
    assert login(client, citizen.email, NEW).status_code == 302
    again = client.get(link)
    assert again.status_code == 303 and again.headers["Location"] == "/password/forgot"  # used up


def test_a_reset_link_lasts_30_minutes(client, factory):
    citizen = factory.user(email="li@example.cn")
    submit(client, "/password/forgot", {"email": citizen.email})
    db.session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(_reset_link(citizen.email)).status_code == 303


def test_staff_passwords_are_reset_by_an_administrator_only(client, factory):
    clerk = factory.user("clerk", archive=factory.archive(), email="clerk@example.cn")
    assert submit(client, "/password/forgot", {"email": clerk.email}).status_code == 200
    (message,) = _mail_to(clerk.email)
    assert "管理员" in message.body and "/password/reset/" not in message.body


def test_changing_the_password_asks_for_the_old_one_and_ends_the_other_sessions(app, client, factory):
    citizen = factory.user(email="li@example.cn")
    other = app.test_client()
    login(other, citizen.email, PASSWORD)
    login(client, citizen.email, PASSWORD)
    wrong = submit(client, "/account/password", {"old_password": "Wrong2024x", "password": NEW, "password2": NEW})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    assert _signed_in(other)
    right = submit(client, "/account/password", {"old_password": PASSWORD, "password": NEW, "password2": NEW})
    assert right.status_code == 303
    assert _signed_in(client) and not _signed_in(other)


def test_an_unconfirmed_address_cannot_apply_yet(client, factory):
    citizen = factory.user(email="new@example.cn")
    citizen.email_confirmed_at = None
    db.session.commit()
    token = client.post("/api/v1/tokens", json={"email": citizen.email, "password": PASSWORD}).get_json()["token"]
    answer = client.post("/api/v1/requests", json={}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert "确认邮箱" in answer.get_json()["error"]


def test_a_citizen_sees_and_downloads_what_the_portal_holds_including_staff_views(client, factory):
    citizen = factory.user(email="wang@example.cn", name="王秀英")
    req = factory.request(citizen)
    clerk = factory.user("clerk", archive=req.issuing_archive, email="clerk@example.cn")
    login(client, clerk.email, PASSWORD)
    client.get(f"/staff/requests/{req.number}")  # an audited view of her data
    client.post("/logout", data={"csrf_token": _token(client)})
    login(client, citizen.email, PASSWORD)

    page = client.get("/account/data").get_data(as_text=True)
    assert req.number in page and req.issuing_archive.name in page
    download = client.get("/account/data.json")
    assert download.headers["Content-Disposition"].startswith("attachment")
    data = download.get_json()
    assert data["account"]["email"] == citizen.email and data["requests"][0]["number"] == req.number
    assert any(v["object"] == req.number and v["by_archive"] == req.issuing_archive.name for v in data["staff_views"])
    assert download.headers["Cache-Control"] == "no-store"


def test_an_unverified_account_sees_its_own_id_number_masked_only(client, factory):
    citizen = factory.user(email="new@example.cn", verified=False)
    login(client, citizen.email, PASSWORD)
    shown = client.get("/account/data.json").get_json()["account"]["id_number"]
    assert "*" in shown


def test_the_phone_number_can_be_corrected(client, factory):
    citizen = factory.user(email="wang@example.cn")
    login(client, citizen.email, PASSWORD)
    bad = submit(client, "/account/phone", {"phone": "12345"}, form_url="/account/data")
    assert bad.status_code == 422 and 'value="12345"' in bad.get_data(as_text=True)
    assert submit(client, "/account/phone", {"phone": "13800138000"}, form_url="/account/data").status_code == 303
    db.session.refresh(citizen)
    assert citizen.phone == "13800138000"


def test_closing_an_account_keeps_the_archives_records_and_deletes_the_rest(client, factory):
    citizen = factory.user(email="wang@example.cn", name="王秀英")
    req = factory.request(citizen)
    login(client, citizen.email, PASSWORD)
    assert submit(client, "/account/close", {"password": "Wrong2024x"}).status_code == 422
    assert submit(client, "/account/close", {"password": PASSWORD}).status_code == 303
    db.session.refresh(citizen)
    assert citizen.email.endswith("@closed.invalid") and citizen.phone == "" and not citizen.is_active
    assert citizen.real_name == "王秀英"  # her request is kept, and stays understandable
    assert db.session.get(type(req), req.id) is not None
    assert login(client, "wang@example.cn", PASSWORD).status_code == 422
    assert not _signed_in(client)


def test_closing_an_account_without_requests_removes_the_name_and_id(client, factory):
    citizen = factory.user(email="brief@example.cn", name="韦小宝")
    login(client, citizen.email, PASSWORD)
    assert submit(client, "/account/close", {"password": PASSWORD}).status_code == 303
    db.session.refresh(citizen)
    assert (citizen.real_name, citizen.id_number_hash, citizen.id_number_enc) == ("（已注销）", None, None)


def _token(client) -> str:
    from tests.helpers import hx_csrf_token

    return hx_csrf_token(client, "/")


def test_a_reset_link_dies_with_a_password_change_or_logging_out_everywhere(client, factory):
    citizen = factory.user(email="li@example.cn")
    submit(client, "/password/forgot", {"email": citizen.email})
    first = _reset_link(citizen.email)
    login(client, citizen.email, PASSWORD)
    submit(client, "/account/password", {"old_password": PASSWORD, "password": NEW, "password2": NEW})
    assert client.get(first).status_code == 303  # refused: back to "forgot password"

    submit(client, "/password/forgot", {"email": citizen.email})
    second = _reset_link(citizen.email)
    submit(client, "/account/logout-everywhere", {}, form_url="/account")
    assert client.get(second).status_code == 303


def test_forgot_password_does_the_same_work_for_any_address(client, factory):
    from portal.audit.models import AuditLog

    factory.user(email="li@example.cn")
    for email in ("li@example.cn", "nobody@example.cn"):
        submit(client, "/password/forgot", {"email": email})
    logged = list(db.session.scalars(select(AuditLog.object_id).where(AuditLog.action == "password_reset_requested")))
    assert sorted(logged) == ["li@example.cn", "nobody@example.cn"]


def test_a_closed_account_releases_the_id_number_and_its_mail(client, factory):
    from portal.accounts.service import id_number_of

    citizen = factory.user(email="wang@example.cn", name="王秀英")
    factory.request(citizen)
    number = id_number_of(citizen)
    login(client, citizen.email, PASSWORD)
    submit(client, "/account/close", {"password": PASSWORD})
    db.session.refresh(citizen)
    assert citizen.id_number_hash is None and citizen.identity_level == "unverified"
    assert _mail_to("wang@example.cn") == []
    # The same person registers again and can be verified: the number is free.
    again = factory.user(email="wang.new@example.cn", name="王秀英", id_number=number, verified=True)
    assert again.is_verified


def test_an_administrator_sets_a_staff_password_from_the_command_line(app, client, factory):
    clerk = factory.user("clerk", archive=factory.archive(), email="clerk@example.cn")
    login(client, clerk.email, PASSWORD)
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["set-password", "--email", clerk.email, "--password", "password123"])
    assert weak.exit_code == 2 and "这个密码太常见" in weak.output
    done = runner.invoke(args=["set-password", "--email", clerk.email, "--password", NEW])
    assert done.exit_code == 0, done.output
    assert not _signed_in_staff(client)
    assert login(client, clerk.email, NEW).status_code == 302
    unknown = runner.invoke(args=["set-password", "--email", "nobody@example.cn", "--password", NEW])
    assert unknown.exit_code == 2


def _signed_in_staff(client) -> bool:
    return client.get("/staff/queue").status_code == 200
