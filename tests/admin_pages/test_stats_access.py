"""Who sees which statistics (anonymous, citizen, staff of A on B, the network admin) on the
dashboard, its charts, its CSV files and the API; bad dates answered clearly, never a 500."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.helpers import field_error, login

PAGES = ("/admin/{code}statistics", "/admin/{code}statistics/chart/months.svg",
         "/admin/{code}statistics/export/summary.csv")


@pytest.fixture
def world(factory):
    a = factory.archive("451200", "河池市档案馆")
    b = factory.archive("451202", "金城江区档案馆", region="金城江区")
    return {
        "a": a, "b": b,
        "citizen": factory.user(email="citizen@example.cn"),
        "clerk_a": factory.user("clerk", archive=a, email="clerk.a@example.cn"),
        "reviewer_a": factory.user("reviewer", archive=a, email="reviewer.a@example.cn"),
        "manager_a": factory.user("archive_admin", archive=a, email="manager.a@example.cn"),
        "admin": factory.user("admin", email="admin@example.cn"),
    }


# Who → (A's pages, B's pages, the network's pages): the status each answers.
MATRIX = {
    "citizen": (404, 404, 404),
    "clerk_a": (200, 404, 404),
    "reviewer_a": (200, 404, 404),
    "manager_a": (200, 404, 404),
    "admin": (200, 200, 200),
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_the_pages_access_matrix(client, world, who):
    login(client, world[who].email, PASSWORD)
    for page in PAGES:
        for code, status in zip(("451200/", "451202/", ""), MATRIX[who]):
            assert client.get(page.format(code=code)).status_code == status, (who, page, code)


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for page in PAGES:
        response = client.get(page.format(code="451200/"))
        assert response.status_code in (302, 303) and "login" in response.headers["Location"]


def test_the_landing_page_links_the_statistics(client, world):
    login(client, world["clerk_a"].email, PASSWORD)
    assert "/admin/451200/statistics" in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("who, query, status", [
    ("citizen", {"archive": "451200"}, 404),
    ("clerk_a", {"archive": "451202"}, 404),
    ("manager_a", {"archive": "451202"}, 404),
    ("manager_a", {"archive": "NOPE"}, 404),
    ("manager_a", {}, 403),
    ("citizen", {}, 403),
    ("manager_a", {"archive": "451200"}, 200),
    ("admin", {}, 200),
    ("admin", {"archive": "451202"}, 200),
])
def test_the_api_access_matrix(client, world, who, query, status):
    token = client.post("/api/v1/tokens", json={"email": world[who].email, "password": PASSWORD}).get_json()["token"]
    response = client.get("/api/v1/statistics", query_string=query, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.get_json()
    assert client.get("/api/v1/statistics", query_string=query).status_code == 401


@pytest.mark.parametrize("query, field, message", [
    ({"from": "2026-13-01"}, "from", "日期应为 YYYY-MM-DD 格式的有效日期"),
    ({"from": "2026/01/01"}, "from", "日期应为 YYYY-MM-DD 格式的有效日期"),
    ({"to": "2026-02-30"}, "to", "日期应为 YYYY-MM-DD 格式的有效日期"),
    ({"from": "2026-03-01", "to": "2026-02-01"}, "to", "结束日期不能早于开始日期"),
    ({"from": "2010-01-01", "to": "2026-02-01"}, "to", "统计范围最长为五年"),
])
def test_bad_dates_are_answered_clearly(client, world, query, field, message):
    login(client, world["manager_a"].email, PASSWORD)
    response = client.get("/admin/451200/statistics", query_string=query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in field_error(html, field)
    assert f'value="{query[field]}"' in html  # what was typed stays
    assert client.get("/admin/451200/statistics/chart/months.svg", query_string=query).status_code == 400
    assert client.get("/admin/451200/statistics/export/months.csv", query_string=query).status_code == 400
    token = client.post("/api/v1/tokens", json={"email": world["manager_a"].email,
                                                "password": PASSWORD}).get_json()["token"]
    answer = client.get("/api/v1/statistics", query_string={"archive": "451200", **query},
                        headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400
    assert answer.get_json()["field"] == field and message in answer.get_json()["error"]


def test_bad_dates_in_english(client, world):
    login(client, world["manager_a"].email, PASSWORD)
    response = client.get("/admin/451200/statistics", query_string={"from": "yesterday", "lang": "en"})
    assert response.status_code == 400
    assert "YYYY-MM-DD" in field_error(response.get_data(as_text=True), "from")
    assert "日期" not in field_error(response.get_data(as_text=True), "from")


def test_unknown_charts_and_tables_are_404(client, world):
    login(client, world["manager_a"].email, PASSWORD)
    assert client.get("/admin/451200/statistics/chart/summary.svg").status_code == 404  # a table without a chart
    assert client.get("/admin/451200/statistics/chart/nope.svg").status_code == 404
    assert client.get("/admin/451200/statistics/export/nope.csv").status_code == 404


def test_the_default_range_is_this_month_so_far(client, world):
    from portal.core.clock import china_today
    login(client, world["manager_a"].email, PASSWORD)
    html = client.get("/admin/451200/statistics").get_data(as_text=True)
    today = china_today()
    assert f'value="{today.replace(day=1).isoformat()}"' in html and f'value="{today.isoformat()}"' in html


def test_an_archive_code_with_a_nul_is_no_archive(client, world):
    token = client.post("/api/v1/tokens", json={"email": world["admin"].email, "password": PASSWORD}).get_json()["token"]
    response = client.get("/api/v1/statistics", query_string={"archive": "4512\x0000"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
