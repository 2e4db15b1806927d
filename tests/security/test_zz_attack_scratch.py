from __future__ import annotations

import re
import time

from sqlalchemy import select

from portal.accounts.models import User
from portal.db import db
from portal.mail.models import MailOutbox
from tests.factories import PASSWORD, make_id_number
from tests.helpers import hx_csrf_token, login, submit

NEW = "Guangxi#Dangan7"
NEW2 = "Liuzhou#Dangan8"


def _from(client, address):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _mail_to(address):
    return list(db.session.scalars(select(MailOutbox).where(MailOutbox.to_address == address).order_by(MailOutbox.id)))


def _reset_link(address):
    return re.search(r"https?://[^/\s]+(/password/reset/\S+)", _mail_to(address)[-1].body).group(1)


def test_reset_link_survives_password_change_and_logout_everywhere(app, client, factory):
    citizen = factory.user(email="li@example.cn")
    submit(client, "/password/forgot", {"email": citizen.email})
    link = _reset_link(citizen.email)
    owner = app.test_client()
    login(owner, citizen.email, PASSWORD)
    assert submit(owner, "/account/password", {"old_password": PASSWORD, "password": NEW, "password2": NEW}).status_code == 303
    owner.post("/account/logout-everywhere", data={"csrf_token": hx_csrf_token(owner, "/account")})
    # The link issued before the change still sets a password.
    assert client.get(link).status_code == 200
    done = submit(client, link, {"password": NEW2, "password2": NEW2})
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert login(app.test_client(), citizen.email, NEW2).status_code == 302


def test_known_device_cookie_skips_per_email_cap_from_any_address(app, factory):
    app.config["LOGIN_LIMIT_PER_EMAIL"] = "20 per hour"
    victim = factory.user(email="victim@example.cn")
    # The attacker once logged in (pre-registered the address / old password / shared PC) ...
    attacker = _from(app.test_client(), "203.0.113.1")
    assert login(attacker, victim.email, PASSWORD).status_code == 302
    cookie = attacker.get_cookie("known_device").value
    # ... the password changes (victim takes the account back); the cookie is still good.
    owner = app.test_client()
    login(owner, victim.email, PASSWORD)
    submit(owner, "/account/password", {"old_password": PASSWORD, "password": NEW, "password2": NEW})
    refused = 0
    for n in range(60):  # 60 guesses from 60 addresses, each carrying the copied cookie
        bot = _from(app.test_client(), f"10.1.{n // 200}.{n % 200 + 1}")
        bot.set_cookie("known_device", cookie)
        if login(bot, victim.email, f"Guess{n:04d}x").status_code == 429:
            refused += 1
    assert refused == 0  # the 20/hour per-email cap never applied
    # without the cookie it does
    stranger = _from(app.test_client(), "192.0.2.9")
    assert login(stranger, victim.email, NEW).status_code == 429


def test_password_reset_lockout_by_stranger(app, factory):
    victim = factory.user(email="victim@example.cn")
    for n in range(4):
        bot = _from(app.test_client(), f"198.51.100.{n + 1}")
        for _ in range(3):
            if submit(bot, "/password/forgot", {"email": victim.email}).status_code == 429:
                break
    # The victim, on a new device, cannot get a reset link for a day.
    me = _from(app.test_client(), "192.0.2.50")
    answer = submit(me, "/password/forgot", {"email": victim.email})
    assert answer.status_code == 429
    print("retry-after", answer.headers.get("Retry-After"), "mails", len(_mail_to(victim.email)))


def test_closing_leaves_mail_and_verified_id_blocks_reverification(app, client, factory):
    archive = factory.archive()
    number = make_id_number(born="19700101", seq=77)
    citizen = factory.user(email="wang@example.cn", name="王秀英", id_number=number)
    factory.request(citizen, issuing=archive)
    submit(client, "/password/forgot", {"email": citizen.email})
    login(client, citizen.email, PASSWORD)
    done = submit(client, "/account/close", {"password": PASSWORD})
    assert done.status_code == 303
    db.session.expire_all()
    closed = db.session.get(User, citizen.id)
    left = _mail_to("wang@example.cn")
    print("closed:", closed.email, closed.identity_level, bool(closed.id_number_hash), "mail rows left:", len(left))
    assert left and "王秀英" in left[0].body
    assert closed.identity_level == "verified"
    # The same person registers again, and goes to a counter with their ID card.
    again = factory.user(email="wang2@example.cn", name="王秀英", id_number=number, verified=False)
    clerk = factory.staff(archive)
    c2 = app.test_client()
    login(c2, clerk.email, PASSWORD)
    r = submit(c2, "/staff/identity", {"email": again.email, "name": "王秀英", "id_number": number, "confirm": "1"})
    html = r.get_data(as_text=True)
    assert "已在另一个账号上核验过" in html
    db.session.expire_all()
    assert not db.session.get(User, again.id).is_verified


def test_forgot_password_timing(app, client, factory):
    app.config["RATE_LIMITS"] = "off"
    app.extensions["throttle"].enabled = False
    try:
        factory.user(email="known@example.cn")
        token = hx_csrf_token(client, "/password/forgot")
        def t(email):
            s = time.perf_counter()
            client.post("/password/forgot", data={"email": email, "csrf_token": token})
            return time.perf_counter() - s
        for _ in range(5):
            t("known@example.cn"); t("unknown@example.cn")
        k = sorted(t("known@example.cn") for _ in range(40))[20]
        u = sorted(t("unknown@example.cn") for _ in range(40))[20]
        print(f"median known {k*1000:.2f} ms, unknown {u*1000:.2f} ms")
    finally:
        app.extensions["throttle"].enabled = True
