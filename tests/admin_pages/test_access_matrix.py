"""Every administration address, found in the app's own URL map (so a page added later is checked
without being listed here), against everyone who must not reach another archive's work: anonymous
visitors are sent to log in, citizens and the staff and admins of another archive get 404, for
GET and POST alike. The pages' own tests check what the allowed people see."""
from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD
from tests.helpers import hx_csrf_token, login

# Addresses of one archive's work: under /admin/ and naming the archive by its code.
ADMIN_PREFIXES = ("/admin/", "/statistics", "/api/v1/statistics")


def archive_routes(app) -> list[tuple[str, str]]:
    """(method, rule) of every route that works on one archive named by `<code>`."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "code" not in rule.arguments or not rule.rule.startswith(ADMIN_PREFIXES):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule))
    return routes


def fill(rule: str, code: str) -> str:
    """A concrete address: the archive's code, and 1 (or "x") for any other part: whoever holds no
    role on the archive must get 404 before the other parts are even looked up."""
    url = rule.replace("<code>", code)
    url = re.sub(r"<int:[^>]+>", "1", url)
    return re.sub(r"<(?:[a-z]+:)?[^>]+>", "x", url)


@pytest.fixture
def archives(factory):
    return factory.archive("451200", "河池市档案馆"), factory.archive("450100", "南宁市档案馆")


def test_there_are_administration_pages_to_check(app):
    assert len(archive_routes(app)) >= 1


@pytest.mark.parametrize("who", ["anonymous", "citizen", "clerk_b", "reviewer_b", "archive_admin_b"])
def test_no_one_outside_an_archive_reaches_its_work(app, client, factory, archives, who):
    a, b = archives
    if who != "anonymous":
        role, _, _ = who.partition("_b")
        user = factory.user(role, archive=None if role == "citizen" else b, email=f"{who}@example.cn")
        assert login(client, user.email, PASSWORD).status_code == 302
    token = hx_csrf_token(client)
    refused = []
    for method, rule in archive_routes(app):
        url = fill(rule, a.code)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
        if who == "anonymous":
            ok = response.status_code in (401, 404) or (
                response.status_code == 302 and "/login" in response.headers.get("Location", ""))
        else:
            ok = response.status_code == 404
        if not ok:
            refused.append(f"{method} {url}: {response.status_code}")
    assert not refused, f"{who} reached another archive's work:\n" + "\n".join(refused)
