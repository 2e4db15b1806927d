"""What a person trying the administration for the first time found missing: the way back from
every section, the whole network's statistics from the landing page, English labels."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.helpers import csrf_token, login, select_all, texts


@pytest.fixture
def archive(factory):
    return factory.archive("451200", "河池市档案馆")


def _links(html, css="main a") -> dict[str, str]:
    return {a.get("href").split("?")[0]: a.get_text().strip() for a in select_all(html, css)}


def test_the_network_admin_finds_the_networks_statistics_on_the_landing_page(client, factory, archive):
    admin = factory.user("admin", email="root@example.cn")
    login(client, admin.email, PASSWORD)
    page = client.get("/admin/").get_data(as_text=True)
    assert _links(page, "#network-statistics") == {"/admin/statistics": "全网利用统计"}
    assert client.get("/admin/statistics").status_code == 200
    english = client.get("/admin/?lang=en").get_data(as_text=True)
    assert texts(english, "#network-statistics") == ["Network statistics"]


def test_an_archive_admin_sees_no_network_statistics_link(client, factory, archive):
    manager = factory.user("archive_admin", archive=archive, email="manager@example.cn")
    login(client, manager.email, PASSWORD)
    page = client.get("/admin/?lang=en").get_data(as_text=True)
    assert not select_all(page, "#network-statistics")
    assert "Digital copies" in texts(page, ".admin-sections a")


@pytest.mark.parametrize("role, url, back", [
    ("archive_admin", "/admin/451200/copies", "/admin/"),
    ("admin", "/admin/network/archives", "/admin/"),
    ("clerk", "/admin/451200/counter/catalog", "/admin/451200/counter"),
])
def test_every_section_page_links_back(client, factory, archive, role, url, back):
    person = factory.user(role, archive=None if role == "admin" else archive, email=f"{role}@example.cn")
    login(client, person.email, PASSWORD)
    response = client.get(url)
    assert response.status_code == 200
    assert back in _links(response.get_data(as_text=True), "main p a")


def test_a_batch_of_every_year_reads_so_and_shows_no_stray_text(client, factory, archive):
    manager = factory.user("archive_admin", archive=archive, email="manager@example.cn")
    factory.record(archive, year=1980, access_level="closed", reference_code="J001-1980-0001")
    login(client, manager.email, PASSWORD)
    made = client.post("/admin/451200/appraisal/new",
                       data={"csrf_token": csrf_token(client, "/admin/451200/appraisal/new")})
    assert made.status_code == 303
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "built-in method" not in page  # an empty `errors` is no dict method's text
    assert "全部年份" in page and "…–…" not in page
    listed = client.get("/admin/451200/appraisal").get_data(as_text=True)
    assert "…–…" not in listed
    english = client.get(made.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "All years" in english and "built-in method" not in english


@pytest.mark.parametrize("role, url, table, labelled", [
    ("archive_admin", "/admin/451200/staff", "table.staff-table", slice(0, -1)),  # the last: buttons
    ("admin", "/admin/network/archives", "table.archives-table", slice(0, -1)),   # the last: links
    ("archive_admin", "/admin/451200/appraisal", "table.appraisal-batches", slice(None)),
])
def test_a_tables_cells_say_what_they_are_when_a_phone_stacks_them(client, factory, archive, role, url, table,
                                                                  labelled):
    person = factory.user(role, archive=None if role == "admin" else archive, email=f"{role}@example.cn")
    factory.user("clerk", archive=archive, email="clerk@example.cn")
    factory.record(archive, year=1980, access_level="closed", reference_code="J001-1980-0001")
    login(client, person.email, PASSWORD)
    if "appraisal" in url:
        client.post("/admin/451200/appraisal/new", data={"csrf_token": csrf_token(client, "/admin/451200/appraisal/new")})
    rows = select_all(client.get(url).get_data(as_text=True), f"{table} tbody tr")
    assert rows
    for row in rows:
        assert all(cell.get("data-label") for cell in row.select("td")[labelled]), row
