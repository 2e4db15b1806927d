"""Verifying an identity through an external real-name provider over OpenID Connect (issue 11,
section 1, way (b)).

The provider is real: tests/oidc_provider.py (Authlib's server side) in a process of its own on a
free port, reached by the portal's Authlib client over HTTP on 127.0.0.1. The browser is played by
two clients: the Flask test client on the portal's side, `requests` on the provider's side (the
portal's redirect to /authorize is fetched; the provider approves at once and redirects back with a
code; that address is fed to the test client)."""
from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import select

from portal.accounts.service import id_number_of
from portal.audit.models import AuditLog
from portal.mail.models import MailOutbox
from tests.factories import PASSWORD, make_id_number
from tests.helpers import free_port, login, parse

REPO_ROOT = Path(__file__).resolve().parents[2]
PUBLIC_URL = "http://portal.test"
REDIRECT_URI = f"{PUBLIC_URL}/verify-identity/oidc/callback"
CLIENT_ID, CLIENT_SECRET = "archive-portal", secrets.token_urlsafe(24)

NAME, ID_NUMBER = "韦秀英", make_id_number(born="19580212", seq=345)
OTHER_ID = make_id_number(born="19600101", seq=77)

VERIFIED = "已通过政务服务网核验您的身份"
UNREACHABLE = "暂时无法连接政务服务网"
INVALID = "政务服务网返回的身份信息无法验证"
BAD_STATE = "核验请求已失效或不是从本网站发起的"


# ---- the provider process --------------------------------------------------------------------------

@dataclass
class Provider:
    url: str
    admin_token: str
    process: subprocess.Popen
    http: requests.Session

    def person(self, name: str | None = NAME, id_number: str | None = ID_NUMBER, *, claims_in: str = "id_token",
               deny: bool = False, fault: str | None = None) -> None:
        """Who the provider approves as at the next /authorize, and how it answers."""
        answer = self.http.post(f"{self.url}/admin/user", headers={"X-Admin-Token": self.admin_token}, json={
            "name": name, "id_number": id_number, "claims_in": claims_in, "deny": deny, "fault": fault}, timeout=5)
        answer.raise_for_status()

    def last_authorization(self) -> dict:
        return self.http.get(f"{self.url}/admin/last-authorization", headers={"X-Admin-Token": self.admin_token},
                             timeout=5).json()


def _start_provider(log) -> Provider:
    http = requests.Session()
    http.trust_env = False  # straight to 127.0.0.1, whatever proxy the environment names
    for _attempt in range(3):
        port, admin_token = free_port(), secrets.token_urlsafe(16)
        url = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            # name=value: a random secret may start with "-", which argparse would take for an option.
            [sys.executable, "-m", "tests.oidc_provider", f"--port={port}", f"--client-id={CLIENT_ID}",
             f"--client-secret={CLIENT_SECRET}", f"--redirect-uri={REDIRECT_URI}", f"--admin-token={admin_token}"],
            cwd=REPO_ROOT, stdout=log, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if http.get(f"{url}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return Provider(url, admin_token, process, http)
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        process.kill()
        process.wait()
    raise RuntimeError(f"the test OIDC provider did not start; its output is in {log.name}")


@pytest.fixture(scope="session")
def provider(tmp_path_factory):
    """One provider process per test session (per xdist worker); each test says who it approves."""
    log_path = tmp_path_factory.mktemp("oidc") / "provider.log"
    with log_path.open("wb") as log:
        running = _start_provider(log)
        yield running
        running.process.terminate()
        try:
            running.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()
        running.http.close()


@pytest.fixture
def oidc(app, provider, monkeypatch):
    """The portal configured for the provider (app.config is restored after each test)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    app.config.update(OIDC_ISSUER=provider.url, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET,
                      OIDC_ID_CLAIM="id_number", OIDC_NAME_CLAIM="name", OIDC_LABEL="政务服务网",
                      PUBLIC_URL=PUBLIC_URL)
    provider.person()
    return provider


# ---- the browser --------------------------------------------------------------------------------------

def _provider_redirect(client, provider):
    """Click the button: the portal's redirect to the provider, fetched there; the provider's
    redirect back to the portal's callback."""
    start = client.get("/verify-identity/oidc")
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{provider.url}/authorize?")
    back = provider.http.get(authorize, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:500]
    assert back.headers["Location"].startswith(f"{REDIRECT_URI}?")
    return authorize, back.headers["Location"]


def _callback(client, url: str):
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def verify(client, provider):
    """The whole flow; the portal's answer to the callback, and every address the browser saw."""
    authorize, back = _provider_redirect(client, provider)
    answer = _callback(client, back)
    return answer, [authorize, back, answer.headers.get("Location", "")]


def _account_message(client) -> str:
    page = parse(client.get("/account"))
    return " ".join(flash.get_text(" ", strip=True) for flash in page.select(".flash"))


def _citizen(factory, client, *, email="wei@example.cn", name=NAME, id_number=ID_NUMBER, verified=False):
    user = factory.user(email=email, name=name, id_number=id_number, verified=verified)
    assert login(client, email, PASSWORD).status_code in (302, 303)
    return user


# ---- verifying ------------------------------------------------------------------------------------

def test_a_citizen_is_verified_through_the_provider(client, factory, session, oidc, caplog):
    caplog.set_level(logging.DEBUG)
    citizen = _citizen(factory, client)
    assert "通过政务服务网核验身份" in parse(client.get("/account")).select_one("#verify-oidc").get_text()
    kept_before = set(session_cookie(client))

    answer, addresses = verify(client, oidc)
    kept_after = session_cookie(client)

    assert answer.status_code == 303 and answer.headers["Location"].endswith("/account")
    assert VERIFIED in _account_message(client)
    session.refresh(citizen)
    assert citizen.identity_level == "verified" and citizen.verified_method == "oidc" and citizen.verified_at
    assert id_number_of(citizen) == ID_NUMBER and citizen.real_name == NAME
    row = session.scalar(select(AuditLog).where(AuditLog.action == "identity_verified",
                                                AuditLog.object_id == str(citizen.id)))
    assert row is not None and row.details["method"] == "oidc"
    # The authorization request: code flow with PKCE S256, state, nonce, the scopes for both claims.
    asked = oidc.last_authorization()
    assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
    assert asked["has_code_challenge"] and asked["has_state"] and asked["has_nonce"]
    assert asked["scope"].split() == ["openid", "profile", "id_number"]
    assert asked["redirect_uri"] == REDIRECT_URI  # from PUBLIC_URL, not the request's Host
    # The ID number is in no address the browser saw and in no log line; the session keeps no
    # trace of the flow or the provider's tokens.
    assert not any(ID_NUMBER in address for address in addresses)
    assert ID_NUMBER not in caplog.text
    assert set(kept_after) - {"_flashes"} == kept_before and ID_NUMBER not in str(kept_after)
    # Verified: the button is gone, and "my records" matches by identity.
    assert parse(client.get("/account")).select_one("#verify-oidc") is None
    assert parse(client.get("/me/records")).select_one("#identity-unverified") is None


def session_cookie(client) -> dict:
    from flask import current_app

    cookie = client.get_cookie(current_app.config.get("SESSION_COOKIE_NAME", "session"))
    return current_app.session_interface.get_signing_serializer(current_app).loads(cookie.value) if cookie else {}


def test_the_claims_may_come_from_userinfo(client, factory, session, oidc):
    citizen = _citizen(factory, client)
    oidc.person(claims_in="userinfo")  # the ID token carries only `sub`
    answer, _ = verify(client, oidc)
    assert answer.status_code == 303 and VERIFIED in _account_message(client)
    session.refresh(citizen)
    assert citizen.is_verified and citizen.verified_method == "oidc"


def test_the_name_in_the_other_script_is_the_same_name(client, factory, session, oidc):
    citizen = _citizen(factory, client)
    oidc.person(name="韋秀英")  # traditional characters, as some provincial registers keep them
    verify(client, oidc)
    session.refresh(citizen)
    assert citizen.is_verified and citizen.real_name == NAME  # the account keeps its spelling
    assert session.scalar(select(AuditLog).where(AuditLog.action == "identity_corrected")) is None


def test_the_button_is_on_my_records_for_an_unverified_citizen(client, factory, oidc):
    _citizen(factory, client)
    notice = parse(client.get("/me/records")).select_one("#identity-unverified")
    assert notice.select_one("#verify-oidc")["href"] == "/verify-identity/oidc"


# ---- when the provider's identity is not the account's ---------------------------------------------

@pytest.mark.parametrize("registered_id", [ID_NUMBER, OTHER_ID], ids=["registered the same number", "typed another"])
def test_an_impostor_holding_the_id_number_is_frozen_when_its_holder_verifies(client, factory, session, oidc,
                                                                              registered_id):
    impostor = factory.user(email="impostor@example.cn", name=NAME, id_number=ID_NUMBER, verified=False)
    real = _citizen(factory, client, email="real@example.cn", id_number=registered_id)

    answer, _ = verify(client, oidc)

    assert answer.status_code == 303
    message = _account_message(client)
    assert VERIFIED in message and (("已按政务服务网提供的信息更正" in message) == (registered_id != ID_NUMBER))
    session.refresh(real)
    session.refresh(impostor)
    assert real.is_verified and real.verified_method == "oidc" and id_number_of(real) == ID_NUMBER
    assert impostor.frozen_at is not None and impostor.id_number_hash is None and not impostor.is_verified
    assert session.scalar(select(AuditLog).where(AuditLog.action == "account_frozen",
                                                 AuditLog.object_id == str(impostor.id))) is not None
    corrected = session.scalar(select(AuditLog).where(AuditLog.action == "identity_corrected",
                                                      AuditLog.object_id == str(real.id)))
    assert (corrected is not None) == (registered_id != ID_NUMBER)
    mail = session.scalar(select(MailOutbox).where(MailOutbox.to_address == "impostor@example.cn"))
    assert mail is not None and "冻结" in mail.subject
    other = client.application.test_client()
    assert login(other, "impostor@example.cn", PASSWORD).status_code not in (302, 303)  # frozen: no log-in


def test_a_number_verified_on_another_account_changes_nothing(client, factory, session, oidc):
    factory.user(email="first@example.cn", name=NAME, id_number=ID_NUMBER, verified=True)
    second = _citizen(factory, client, email="second@example.cn", id_number=OTHER_ID)
    answer, _ = verify(client, oidc)
    assert answer.status_code == 303
    assert "这个身份证号码已在另一个账号上核验过" in _account_message(client)
    session.refresh(second)
    assert not second.is_verified and id_number_of(second) == OTHER_ID


def test_an_account_verified_as_someone_else_is_not_rewritten(client, factory, session, oidc):
    verified = _citizen(factory, client, id_number=OTHER_ID, verified=True)
    answer, _ = verify(client, oidc)
    assert answer.status_code == 303 and "您的账号已核验为另一身份" in _account_message(client)
    session.refresh(verified)
    assert verified.is_verified and id_number_of(verified) == OTHER_ID


# ---- refused -------------------------------------------------------------------------------------

def _refused(client, session, user, answer, message: str) -> None:
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/account")
    assert message in _account_message(client)
    session.refresh(user)
    assert not user.is_verified


def test_a_callback_with_a_wrong_state_is_refused(client, factory, session, oidc):
    citizen = _citizen(factory, client)
    _authorize, back = _provider_redirect(client, oidc)
    query = dict(parse_qsl(urlsplit(back).query))
    forged = f"{REDIRECT_URI}?{urlencode({**query, 'state': 'not-the-state-we-sent'})}"
    _refused(client, session, citizen, _callback(client, forged), BAD_STATE)


def test_a_code_from_someone_elses_flow_is_refused(client, factory, session, oidc):
    """Login CSRF: an attacker's callback address, opened in the victim's browser."""
    citizen = _citizen(factory, client)
    attacker = client.application.test_client()
    _citizen(factory, attacker, email="attacker@example.cn", id_number=OTHER_ID)
    _authorize, back = _provider_redirect(attacker, oidc)
    _refused(client, session, citizen, _callback(client, back), BAD_STATE)


def test_a_callback_is_used_once(client, factory, session, oidc):
    citizen = _citizen(factory, client)
    answer, addresses = verify(client, oidc)
    assert answer.status_code == 303
    replay = _callback(client, addresses[1])
    assert replay.status_code == 303 and BAD_STATE in _account_message(client)
    session.refresh(citizen)
    assert citizen.is_verified  # from the first, genuine answer


def test_refused_consent(client, factory, session, oidc):
    citizen = _citizen(factory, client)
    oidc.person(deny=True)
    answer, addresses = verify(client, oidc)
    assert "error=access_denied" in addresses[1]
    _refused(client, session, citizen, answer, "您没有在政务服务网完成授权")


@pytest.mark.parametrize("fault", ["forged_signature", "wrong_audience", "wrong_issuer", "wrong_nonce"])
def test_an_id_token_that_fails_validation_is_refused(client, factory, session, oidc, fault):
    citizen = _citizen(factory, client)
    oidc.person(fault=fault)
    answer, _ = verify(client, oidc)
    _refused(client, session, citizen, answer, INVALID)


@pytest.mark.parametrize(("name", "id_number", "message"), [
    (NAME, None, "政务服务网没有提供您的姓名和身份证号码"),
    (None, ID_NUMBER, "政务服务网没有提供您的姓名和身份证号码"),
    (NAME, "451202195802123456", "政务服务网提供的身份证号码无效"),  # wrong check character
], ids=["no ID number", "no name", "malformed ID number"])
def test_a_missing_or_malformed_claim_is_refused(client, factory, session, oidc, name, id_number, message):
    citizen = _citizen(factory, client)
    oidc.person(name=name, id_number=id_number)
    answer, _ = verify(client, oidc)
    _refused(client, session, citizen, answer, message)


def test_a_provider_that_is_down_gets_a_clear_message(client, factory, session, oidc, app):
    citizen = _citizen(factory, client)
    app.config["OIDC_ISSUER"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    _refused(client, session, citizen, client.get("/verify-identity/oidc"), UNREACHABLE)


def test_a_token_endpoint_that_fails_mid_flow_gets_a_clear_message(client, factory, session, oidc):
    citizen = _citizen(factory, client)
    oidc.person(fault="token_endpoint_down")
    answer, _ = verify(client, oidc)
    _refused(client, session, citizen, answer, UNREACHABLE)


# ---- who may -------------------------------------------------------------------------------------

def test_the_feature_is_off_without_an_issuer(client, factory, app):
    assert app.config["OIDC_ISSUER"] is None
    assert client.get("/verify-identity/oidc").status_code == 404
    _citizen(factory, client)
    assert client.get("/verify-identity/oidc").status_code == 404
    assert client.get("/verify-identity/oidc/callback?code=x&state=y").status_code == 404
    assert parse(client.get("/account")).select_one("#verify-oidc") is None
    assert parse(client.get("/me/records")).select_one("#verify-oidc") is None


def test_only_signed_in_citizens(client, factory, oidc):
    anonymous = client.get("/verify-identity/oidc")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    archive = factory.archive()
    clerk = factory.user("clerk", email="clerk@example.cn", archive=archive)
    login(client, clerk.email, PASSWORD)
    assert client.get("/verify-identity/oidc").status_code == 404
    assert client.get("/verify-identity/oidc/callback?code=x&state=y").status_code == 404
