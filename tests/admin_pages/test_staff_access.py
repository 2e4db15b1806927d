"""Who reaches the archive and staff pages: every page and every POST, for every kind of person.
Anonymous visitors go to log in; citizens, clerks and reviewers find nothing (404); an archive
admin works on their own archive only (another's is 404, even through their own archive's
address); the network admin everywhere."""
from __future__ import annotations

import pytest

from tests.admin_pages.staff_world import post, sign_in, world  # noqa: F401 (fixture)

NETWORK = [("GET", "/admin/network/archives"), ("GET", "/admin/network/archives/new"),
           ("POST", "/admin/network/archives/new")]
ARCHIVE = [("GET", "/admin/{code}/archive"), ("POST", "/admin/{code}/archive"), ("POST", "/admin/{code}/archive/seal"),
           ("GET", "/admin/{code}/staff"), ("GET", "/admin/{code}/staff/invite"), ("POST", "/admin/{code}/staff/invite"),
           ("POST", "/admin/{code}/staff/{member}/role"), ("POST", "/admin/{code}/staff/{member}/resend"),
           ("POST", "/admin/{code}/staff/{member}/disable"), ("POST", "/admin/{code}/staff/{member}/enable")]


def _call(client, method, url):
    return client.get(url) if method == "GET" else post(client, url)


def _outcome(response) -> str:
    if response.status_code == 302 and "/login" in response.headers["Location"]:
        return "login"
    return "404" if response.status_code == 404 else "allowed"


# who → (network pages, archive A's pages, archive B's pages)
MATRIX = {
    None: ("login", "login", "login"),
    "citizen": ("404", "404", "404"),
    "clerk": ("404", "404", "404"),
    "reviewer": ("404", "404", "404"),
    "archive_admin": ("404", "allowed", "404"),
    "admin": ("allowed", "allowed", "allowed"),
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_the_access_matrix(client, world, who):
    if who is not None:
        sign_in(client, world.people[who])
    network, own, other = MATRIX[who]
    seen = {}
    for method, url in NETWORK:
        seen[(method, url)] = (_outcome(_call(client, method, url)), network)
    for archive, member, expected in ((world.a, world.people["clerk"], own), (world.b, world.people["clerk_b"], other)):
        for method, pattern in ARCHIVE:
            url = pattern.format(code=archive.code, member=member.id)
            seen[(method, url)] = (_outcome(_call(client, method, url)), expected)
    wrong = {key: got for key, (got, expected) in seen.items() if got != expected}
    assert wrong == {}, f"{who}: {wrong}"


def test_an_archive_admin_cannot_reach_another_archives_staff_through_their_own_archive(client, world):
    sign_in(client, world.people["archive_admin"])
    other = world.people["clerk_b"]
    for step in ("role", "resend", "disable", "enable"):
        assert post(client, f"/admin/{world.a.code}/staff/{other.id}/{step}", {"role": "reviewer"}).status_code == 404
    assert other.is_active_account and other.role == "clerk"


def test_the_network_admin_is_not_a_member_of_any_archives_staff(client, world):
    sign_in(client, world.people["archive_admin"])
    admin = world.people["admin"]
    assert post(client, f"/admin/{world.a.code}/staff/{admin.id}/disable").status_code == 404


def test_the_landing_page_offers_each_his_own(client, world):
    sign_in(client, world.people["archive_admin"])
    page = client.get("/admin/").get_data(as_text=True)
    assert f"/admin/{world.a.code}/staff" in page and f"/admin/{world.a.code}/archive" in page
    assert world.b.code not in page and "/admin/network/archives" not in page


def test_the_network_admin_sees_every_archive_and_may_create_one(client, world):
    sign_in(client, world.people["admin"])
    page = client.get("/admin/").get_data(as_text=True)
    assert "/admin/network/archives/new" in page and f"/admin/{world.b.code}/staff" in page
    listing = client.get("/admin/network/archives").get_data(as_text=True)
    assert world.a.name in listing and world.b.name in listing


def test_the_pages_speak_english_too(client, world):
    sign_in(client, world.people["archive_admin"])
    staff = client.get(f"/admin/{world.a.code}/staff?lang=en").get_data(as_text=True)
    assert "Invite staff" in staff and "Last login" in staff
    archive = client.get(f"/admin/{world.a.code}/archive?lang=en").get_data(as_text=True)
    assert "Days to answer a verification task" in archive
