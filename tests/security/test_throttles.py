"""Rate limits count the source, atomically, before the work (issue 11, sections 2 and 7).

The attacks: 40 wrong passwords sent at the same moment were all checked (the limit counted audit
rows written after each check); a stranger typing a victim's email ten times locked the victim out;
guessing a masked name character by character took seconds."""
from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from portal.db import db
from tests.factories import PASSWORD
from tests.helpers import login, serving

EMAIL = "victim@example.cn"


@pytest.fixture
def victim(factory):
    return factory.user(email=EMAIL, name="韦秀英")


def _from(client, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_stranger_guessing_from_one_address_does_not_lock_the_victim_out(app, victim):
    stranger = _from(app.test_client(), "203.0.113.7")
    for _ in range(10):
        assert login(stranger, EMAIL, "Wrong2024x").status_code == 422
    assert login(stranger, EMAIL, PASSWORD).status_code == 429  # that source is stopped…
    assert login(_from(app.test_client(), "198.51.100.20"), EMAIL, PASSWORD).status_code == 302  # …not the victim


def test_many_addresses_filling_one_accounts_limit_still_let_its_own_browser_in(app, victim):
    app.config["LOGIN_LIMIT_PER_EMAIL"] = "20 per hour"  # 100 by default: the same rule, fewer requests
    home = _from(app.test_client(), "198.51.100.20")
    assert login(home, EMAIL, PASSWORD).status_code == 302  # this browser is known to the account
    home.post("/logout", data={"csrf_token": _token(home)})
    for n in range(20):  # a botnet: one try from each of 20 addresses
        login(_from(app.test_client(), f"10.0.{n // 200}.{n % 200 + 1}"), EMAIL, "Wrong2024x")
    assert login(_from(app.test_client(), "192.0.2.1"), EMAIL, PASSWORD).status_code == 429
    assert login(home, EMAIL, PASSWORD).status_code == 302


def _token(client) -> str:
    from tests.helpers import hx_csrf_token

    return hx_csrf_token(client, "/")


@pytest.fixture
def live(app):
    with serving(app) as url:
        yield url


@pytest.mark.real_commits
def test_forty_simultaneous_wrong_passwords_check_no_more_than_the_limit(factory, live):
    factory.user(email=EMAIL)
    barrier = threading.Barrier(40)

    def attempt(_n):
        barrier.wait()
        return requests.post(f"{live}/api/v1/tokens", json={"email": EMAIL, "password": "Wrong2024x"},
                             timeout=30).status_code

    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(attempt, range(40)))
    assert answers.count(401) <= 10 and answers.count(401) + answers.count(429) == 40, answers


def test_name_shaped_searches_are_limited_per_address_and_other_searches_are_not(app, client):
    app.config["NAME_SEARCH_LIMIT"] = "3 per hour"
    for middle in "秀丽美":
        assert client.get(f"/search?q=覃{middle}兰").status_code == 200
    refused = client.get("/search?q=覃桂兰")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    page = refused.get_data(as_text=True)
    assert "按姓名检索的次数过多" in page and 'value="覃桂兰"' in page  # the query is kept
    assert client.get("/api/v1/search?q=覃玉兰").status_code == 429
    assert client.get("/search?q=结婚登记").status_code == 200
    assert client.get("/search?q=王*英").status_code == 200  # the masked name is public already
    assert _from(app.test_client(), "198.51.100.20").get("/search?q=覃桂兰").status_code == 200


@pytest.mark.real_commits
def test_simultaneous_applications_cannot_pass_the_open_requests_limit(app, factory, live):
    """30 applications at once from one citizen were all accepted against a limit of 20: the
    count and the insert now happen under the account's lock."""
    app.config["MAX_OPEN_REQUESTS"] = 5
    citizen = factory.user(email="busy@example.cn", name="王秀英")
    record = factory.record(factory.archive(code="451200"), subject_name="王秀英", title="招工登记表")
    token = requests.post(f"{live}/api/v1/tokens", json={"email": citizen.email, "password": PASSWORD},
                          timeout=30).json()["token"]
    body = {"records": [{"archive_code": "451200", "reference_code": record.reference_code}], "relation": "self",
            "purpose": "pension", "issuing_archive": "451200", "delivery": "download", "consent": True}
    barrier = threading.Barrier(12)

    def apply(_n):
        barrier.wait()
        return requests.post(f"{live}/api/v1/requests", json=body, headers={"Authorization": f"Bearer {token}"},
                             timeout=60).status_code

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(apply, range(12)))
    assert answers.count(201) == 5 and answers.count(409) == 7, answers


REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL} (set PORTAL_TEST_REDIS_URL): the shared counters are not tested")


@pytest.mark.real_commits
def test_with_redis_every_serving_process_counts_against_the_same_limit(tmp_path, database_url):
    """Two processes (two apps) behind one load balancer: 10 tries split between them fill the one
    per-email limit — each counting for itself would allow 10 each."""
    from tests.conftest import make_test_app

    _redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex}"  # this test's counters only
    secret = uuid.uuid4().hex  # one deployment: its processes share the secret key (it keys the counters)
    apps = [make_test_app(tmp_path / f"node{n}", database_url, REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
                          SECRET_KEY=secret) for n in (1, 2)]
    clients = [app.test_client() for app in apps]
    try:
        for n in range(10):
            assert login(clients[n % 2], "guess@example.cn", "Wrong2024x").status_code == 422
        assert login(clients[0], "guess@example.cn", "Wrong2024x").status_code == 429
        assert login(clients[1], "guess@example.cn", "Wrong2024x").status_code == 429
    finally:
        for app in apps:
            with app.app_context():
                app.extensions["throttle"].reset()
            db.dispose(app)


def test_a_known_browser_is_forgotten_when_the_password_changes(app, victim):
    """The cookie that exempts a browser from the per-email limit is keyed by the password: after a
    change, a copy of it (taken by whoever once logged in) is worth nothing."""
    from tests.helpers import submit

    app.config["LOGIN_LIMIT_PER_EMAIL"] = "5 per hour"
    copied = _from(app.test_client(), "198.51.100.20")
    assert login(copied, EMAIL, PASSWORD).status_code == 302  # the cookie is set here
    assert submit(copied, "/account/password", {"old_password": PASSWORD, "password": "Guangxi#Dangan7",
                                                 "password2": "Guangxi#Dangan7"}).status_code == 303
    copied.post("/logout", data={"csrf_token": _token(copied)})
    for n in range(5):
        login(_from(app.test_client(), f"10.1.0.{n + 1}"), EMAIL, "Wrong2024x")
    # Through the copied cookie, from yet another address: the per-email limit applies again.
    assert login(_from(copied, "192.0.2.9"), EMAIL, "Wrong2024x").status_code == 429


def test_strangers_cannot_keep_the_owner_from_resetting_the_password(app, victim):
    from tests.helpers import submit

    for n in range(4):  # 12 requests from 4 addresses, the most each address may send
        stranger = _from(app.test_client(), f"10.2.0.{n + 1}")
        for _ in range(3):
            assert submit(stranger, "/password/forgot", {"email": EMAIL}).status_code == 200
    owner = _from(app.test_client(), "198.51.100.20")
    assert submit(owner, "/password/forgot", {"email": EMAIL}).status_code == 200
