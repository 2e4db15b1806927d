"""利用统计 of long ranges: finished months are read from their store (portal.stats.store), and
the figures stay exactly the timeline's — a stored month equals its live count, a range cut into
stored months and live days equals the range counted live, a new event in the current month shows
at once, a task answered after its month was stored moves its on_time/late; and a page's charts
and CSV files draw the figures the page showed."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from portal.actions import act
from portal.core import workdays
from portal.core.clock import china_today
from portal.review.models import VerificationTask
from portal.stats import figures, store
from portal.stats.models import StatsMonth
from portal.stats.period import Period
from tests.admin_pages import stats_history as h
from tests.factories import PASSWORD
from tests.helpers import login, select_all

WINTER = Period(date(2026, 1, 1), date(2026, 2, 28))


@pytest.fixture
def history(session, factory):
    return h.build(session, factory)


@pytest.fixture
def calendar(app):
    return workdays.load_calendar(app.config["HOLIDAYS_FILE"])


def stored_months(session, scope: str) -> dict[str, StatsMonth]:
    return {row.month: row for row in session.scalars(select(StatsMonth).where(StatsMonth.scope == scope))}


def test_pieces_keep_only_finished_whole_months():
    today = date(2026, 3, 10)
    stored, live = store.pieces(Period(date(2025, 12, 20), today), today)
    assert [p.start for p in stored] == [date(2026, 1, 1), date(2026, 2, 1)]
    assert live == [Period(date(2025, 12, 20), date(2025, 12, 31)), Period(date(2026, 3, 1), today)]
    stored, live = store.pieces(Period(date(2026, 1, 2), date(2026, 2, 27)), today)
    assert stored == [] and live == [Period(date(2026, 1, 2), date(2026, 2, 27))]
    stored, live = store.pieces(Period(date(2026, 2, 1), date(2026, 2, 28)), date(2026, 2, 28))
    assert stored == [] and live == [Period(date(2026, 2, 1), date(2026, 2, 28))]  # the current month: live


@pytest.mark.parametrize("which", ["a", "b", "network"])
def test_stored_months_equal_the_live_count(session, history, calendar, which):
    archive_id = None if which == "network" else history[which].id
    live = figures.compute(session, archive_id, WINTER, calendar)
    assert store.compute(session, archive_id, WINTER, calendar) == live  # counted, then kept
    rows = stored_months(session, store.scope_of(archive_id))
    assert set(rows) == {"2026-01", "2026-02"}
    for name, row in rows.items():
        month = Period(date(2026, int(name[5:]), 1), date(2026, 1, 31) if name == "2026-01" else date(2026, 2, 28))
        assert json.loads(row.figures_json) == json.loads(json.dumps(figures.live_part(session, archive_id, month,
                                                                                       china_today())))
    assert store.compute(session, archive_id, WINTER, calendar) == live  # read from the store
    expected = {"a": h.EXPECTED_A, "b": h.EXPECTED_B, "network": h.EXPECTED_NETWORK}[which]
    assert live == {k: v for k, v in expected.items() if k != "archive"}


def test_the_store_is_what_is_read(session, history, calendar):
    """(So the equality above is not the live count twice.)"""
    a = history["a"].id
    store.compute(session, a, WINTER, calendar)
    row = stored_months(session, str(a))["2026-02"]
    part = json.loads(row.figures_json)
    part["retrieved"] += 100
    row.figures_json = json.dumps(part)
    session.flush()
    assert store.compute(session, a, WINTER, calendar)["records_retrieved"] == h.EXPECTED_A["records_retrieved"] + 100


@pytest.mark.parametrize("start, end", [("2025-12-20", "2026-03-05"), ("2026-01-15", "2026-02-10"),
                                        ("2025-12-31", "2026-01-31"), ("2026-01-01", None)])
def test_a_range_cut_into_stored_and_live_pieces_equals_the_live_count(session, history, calendar, start, end):
    period = Period(date.fromisoformat(start), date.fromisoformat(end) if end else china_today())
    for archive_id in (history["a"].id, history["b"].id, None):
        assert store.compute(session, archive_id, period, calendar) == figures.compute(session, archive_id, period,
                                                                                       calendar)


def test_a_new_event_of_the_current_month_shows_at_once(client, session, factory, history, calendar):
    period = Period(date(2026, 1, 1), china_today())
    a = history["a"]
    before = store.compute(session, a.id, period, calendar)
    request = h._submit(session, history["citizen"], a, [], "web", "pension",
                        search=h.applying.SearchSpec(category="marriage", archives=[a.code]))
    after = store.compute(session, a.id, period, calendar)
    assert after["requests_received"]["web"] == before["requests_received"]["web"] + 1
    assert after["by_month"][-1]["requests_received"] == before["by_month"][-1]["requests_received"] + 1
    assert after == figures.compute(session, a.id, period, calendar)
    manager = factory.user("archive_admin", archive=a, email="manager.a@example.cn")
    login(client, manager.email, PASSWORD)
    act(session, request, "accept", history["clerk_a"], {"note": ""})
    shown = client.get("/api/v1/statistics", query_string={"archive": a.code, "from": "2026-01-01"},
                       headers={"Authorization": f"Bearer {_token(client, manager.email)}"}).get_json()
    assert shown["requests_received"]["web"] == after["requests_received"]["web"]


def _token(client, email) -> str:
    return client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD}).get_json()["token"]


def test_a_task_answered_after_its_month_was_stored_counts_at_once(session, history, calendar):
    """R11's task (January, at A for B's request) is still open: its month is stored with its
    cross-archive figures counted live until it is answered."""
    a, today = history["a"], china_today()
    task = session.scalar(select(VerificationTask).where(VerificationTask.request_id == history["requests"]["r11"].id))
    session.execute(update(VerificationTask).where(VerificationTask.id == task.id).values(due_date=today + timedelta(5)))
    period = Period(date(2026, 1, 1), today)
    before = store.compute(session, a.id, period, calendar)
    assert stored_months(session, str(a.id))["2026-01"].open_tasks == 1
    assert (before["cross_archive"]["on_time"], before["cross_archive"]["late"]) == (0, 0)  # open, not yet due
    session.expire_all()
    act(session, task, "verify", history["clerk_a"], {"note": "已核实", "copy": h.applying.Upload(
        "certified_copy", "核实件.pdf", io.BytesIO(h._pdf()))})
    after = store.compute(session, a.id, period, calendar)
    assert (after["cross_archive"]["on_time"], after["cross_archive"]["late"]) == (1, 0)
    assert after["records_retrieved"] == before["records_retrieved"] + 1  # answered today: this month
    assert after == figures.compute(session, a.id, period, calendar)
    assert stored_months(session, str(a.id))["2026-01"].open_tasks == 0  # settled: final now


def test_a_pages_charts_and_csv_files_draw_the_figures_it_showed(client, session, factory, history):
    admin = factory.user("admin", email="network@example.cn")
    login(client, admin.email, PASSWORD)
    html = client.get("/admin/451200/statistics", query_string={"from": "2026-02-02", "to": "2026-02-27"})
    links = {a["href"].split("?")[0].rsplit("/", 1)[1]: a["href"] for a in select_all(html.get_data(as_text=True),
                                                                                      "a.stats-csv")}
    assert "v=" in links["summary.csv"]
    # A change after the page was drawn (R12's search, verified on 25 February, made "not found"): its
    # files still hold the page's figures; a file without the page's key counts afresh.
    session.execute(update(VerificationTask).where(VerificationTask.request_id == history["requests"]["r12"].id)
                    .values(status="not_found"))
    session.commit()

    def retrieved(url):
        rows = list(csv.reader(io.StringIO(client.get(url).get_data().decode("utf-8-sig"))))
        return next(row[1] for row in rows if row[0] == "调卷数")

    assert retrieved(links["summary.csv"]) == "1"
    assert retrieved("/admin/451200/statistics/export/summary.csv?from=2026-02-02&to=2026-02-27") == "0"
    # The key is of archive A and that range: with another archive or range it is not used.
    key = links["summary.csv"].split("v=")[1].split("&")[0]
    assert retrieved(f"/admin/451200/statistics/export/summary.csv?from=2026-02-03&to=2026-02-27&v={key}") == "0"
    other = client.get(f"/admin/451202/statistics/export/summary.csv?from=2026-02-02&to=2026-02-27&v={key}")
    assert next(r for r in csv.reader(io.StringIO(other.get_data().decode("utf-8-sig"))) if r[0] == "调卷数")[1] == "1"
