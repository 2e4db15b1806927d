"""利用统计: a known history (tests/admin_pages/stats_history.py) gives exactly the figures written
out by hand — in the service, on the dashboard's tables, in every CSV export and in the API — for
one archive, the other and the whole network; the range's edges are China-time midnights."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from portal.stats import tables
from portal.stats.period import Period
from portal.stats.service import statistics
from tests.admin_pages import stats_history as h
from tests.factories import PASSWORD
from tests.helpers import login, select_all, text

RANGE = {"from": "2026-01-01", "to": "2026-02-28"}


@pytest.fixture
def history(session, factory):
    return h.build(session, factory)


def page_tables(html) -> dict[str, list[list[str]]]:
    found = {}
    for section in select_all(html, "section.stats-table"):
        name = section["aria-labelledby"].removeprefix("stats-")
        found[name] = [[text(cell) for cell in row.find_all(["th", "td"])] for row in section.select("tr")]
    return found


def as_text(table: tables.Table) -> list[list[str]]:
    return [table.headers, *([str(cell) for cell in row] for row in table.rows)]


@pytest.mark.parametrize("which", ["a", "b", "network"])
def test_the_figures_of_a_known_history(app, session, history, which):
    archive = None if which == "network" else history[which]
    expected = {"a": h.EXPECTED_A, "b": h.EXPECTED_B, "network": h.EXPECTED_NETWORK}[which]
    with app.test_request_context():
        assert statistics(session, archive, Period(date(2026, 1, 1), date(2026, 2, 28))) == expected


def test_the_network_is_the_sum_of_its_archives(app, session, history):
    with app.test_request_context():
        period = Period(date(2026, 1, 1), date(2026, 2, 28))
        a, b, net = (statistics(session, x, period) for x in (history["a"], history["b"], None))
    assert net["persons_served"] == a["persons_served"] + b["persons_served"]
    assert net["records_retrieved"] == a["records_retrieved"] + b["records_retrieved"]
    for key in ("web", "counter", "api", "total"):
        assert net["requests_received"][key] == a["requests_received"][key] + b["requests_received"][key]


@pytest.mark.parametrize("start, end, received", [
    ("2025-12-31", "2025-12-31", 1),   # r7, 23:59:59 China time on the 31st (15:59:59 UTC)
    ("2026-01-01", "2026-01-01", 1),   # r9, midnight of the 1st China time (16:00 UTC on the 31st)
    ("2026-02-28", "2026-02-28", 1),   # r10, the last second of the 28th
    ("2026-03-01", "2026-03-01", 1),   # r8, midnight of 1 March
    ("2026-01-02", "2026-01-04", 0),
])
def test_the_range_includes_both_days_in_china_time(app, session, history, start, end, received):
    with app.test_request_context():
        figures = statistics(session, history["a"], Period(date.fromisoformat(start), date.fromisoformat(end)))
    assert figures["requests_received"]["web"] == received


def test_the_dashboard_shows_every_figure_with_its_chart_and_csv(app, client, factory, history):
    manager = factory.user("archive_admin", archive=history["a"], email="manager.a@example.cn")
    login(client, manager.email, PASSWORD)
    response = client.get("/admin/451200/statistics", query_string=RANGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app.test_request_context():
        expected = {t.name: t for t in tables.all_tables(h.EXPECTED_A)}
    shown = page_tables(html)
    assert set(shown) == set(expected)
    for name, table in expected.items():
        assert shown[name] == as_text(table), name
    images = select_all(html, "img.stats-chart")
    assert len(images) == sum(1 for t in expected.values() if t.chart) and all(img["alt"] for img in images)
    for img in images:
        chart = client.get(img["src"])
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
        body = chart.get_data(as_text=True)
        assert "<script" not in body and "<?xml" not in body
        assert chart.headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")
    links = select_all(html, "a.stats-csv")
    assert len(links) == len(expected)
    for link in links:
        exported = client.get(link["href"])
        assert exported.status_code == 200 and exported.mimetype == "text/csv"
        assert "attachment" in exported.headers["Content-Disposition"]
        raw = exported.get_data()
        assert raw.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        name = link["href"].rsplit("/", 1)[1].split(".")[0]
        assert rows == as_text(expected[name]), name


def test_the_network_admin_sees_the_network_and_each_archive(app, client, factory, history):
    admin = factory.user("admin", email="network@example.cn")
    login(client, admin.email, PASSWORD)
    html = client.get("/admin/statistics", query_string=RANGE).get_data(as_text=True)
    with app.test_request_context():
        expected = {t.name: as_text(t) for t in tables.all_tables(h.EXPECTED_NETWORK)}
    assert page_tables(html) == expected
    assert client.get("/admin/451202/statistics", query_string=RANGE).status_code == 200
    exported = client.get("/admin/statistics/export/months.csv", query_string=RANGE)
    assert list(csv.reader(io.StringIO(exported.get_data().decode("utf-8-sig")))) == expected["months"]


def api_token(client, email) -> str:
    response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()["token"]


@pytest.mark.parametrize("who, archive, expected", [
    ("admin", "451200", h.EXPECTED_A), ("admin", "451202", h.EXPECTED_B), ("admin", None, h.EXPECTED_NETWORK),
    ("archive_admin_a", "451200", h.EXPECTED_A), ("clerk_b", "451202", h.EXPECTED_B),
])
def test_the_api_answers_the_same_figures(client, factory, history, who, archive, expected):
    users = {"admin": lambda: factory.user("admin", email="network@example.cn"),
             "archive_admin_a": lambda: factory.user("archive_admin", archive=history["a"], email="m.a@example.cn"),
             "clerk_b": lambda: history["clerk_b"]}
    user = users[who]()
    headers = {"Authorization": f"Bearer {api_token(client, user.email)}"}
    response = client.get("/api/v1/statistics", query_string={**RANGE, **({"archive": archive} if archive else {})},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == expected
