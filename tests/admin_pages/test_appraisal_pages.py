"""Open appraisal's pages: the access matrix (an archive admin of A finds nothing of B), a batch
made from the proposal and decided from its page by three people, and the public open catalogue
(page and CSV) with no personal data."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.appraisal.models import AppraisalBatch, AppraisalItem
from portal.core.clock import china_today
from tests.factories import PASSWORD, make_id_number
from tests.helpers import csrf_token, login, logout, select_all, select_one, text, texts


@pytest.fixture
def world(factory):
    mine, theirs = factory.archive("451200", "河池市档案馆"), factory.archive("450100", "南宁市档案馆")
    people = {
        "admin": factory.user("archive_admin", archive=mine, name="王馆长", email="admin@example.cn"),
        "first": factory.user("reviewer", archive=mine, name="李初审", email="first@example.cn"),
        "second": factory.user("reviewer", archive=mine, name="赵复审", email="second@example.cn"),
        "clerk": factory.user("clerk", archive=mine, email="clerk@example.cn"),
        "other_admin": factory.user("archive_admin", archive=theirs, email="other@example.cn"),
        "citizen": factory.user("citizen", email="citizen@example.cn"),
    }
    for i, category in enumerate(("marriage", "marriage", "housing")):
        factory.record(mine, year=1980 + i, category=category, access_level="closed", subject_name="韦秀英",
                       subject_id_number=make_id_number(seq=100 + i), title=f"韦秀英结婚登记审查处理表 {i}",
                       reference_code=f"J001-1980-{i:04d}")
    factory.record(theirs, year=1980, access_level="closed", reference_code="N-1")
    return mine, theirs, people


def _out(client):
    if 'name="csrf_token"' in client.get("/").get_data(as_text=True):  # signed in: the page has the log-out form
        logout(client)


def _as(client, people, who):
    _out(client)
    login(client, people[who].email, PASSWORD)


def _post(client, url, data, page):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page)})


def _make_batch(client, people, **filter_):
    _as(client, people, "admin")
    response = _post(client, "/admin/451200/appraisal/new", filter_, "/admin/451200/appraisal/new")
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def _version(client, page):
    return select_one(client.get(page).get_data(as_text=True), "input[name=version]")["value"]


def _decide(client, page, data):
    return _post(client, page + "/decide", {"version": _version(client, page), **data}, page)


def _stage(client, page, action):
    return _post(client, f"{page}/{action}", {"version": _version(client, page)}, page)


@pytest.mark.parametrize("who, status", [("admin", 200), ("first", 200), ("clerk", 404), ("other_admin", 404),
                                         ("citizen", 404)])
def test_who_reaches_the_appraisal_pages(client, world, who, status):
    page = _make_batch(client, world[2])
    _as(client, world[2], who)
    for url in ("/admin/451200/appraisal", "/admin/451200/appraisal/new", page):
        assert client.get(url).status_code == status, (who, url)
    if status == 404:
        assert _post(client, page + "/decide", {"version": 1, "scope": "all", "decision": "open"}, "/").status_code == 404
        assert _post(client, page + "/appraise_first", {"version": 1}, "/").status_code == 404


def test_an_archive_admin_of_another_archive_finds_nothing_of_this_one(client, world):
    _make_batch(client, world[2])
    _as(client, world[2], "other_admin")
    assert client.get("/admin/450100/appraisal").status_code == 200
    assert client.get("/admin/450100/appraisal/1").status_code == 404  # their own archive has no batch 1
    assert "451200" not in client.get("/admin/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in_but_read_the_catalogue(client, world):
    assert client.get("/admin/451200/appraisal").status_code == 302
    assert client.get("/archives/451200/open-catalogue").status_code == 200
    assert client.get("/archives/999999/open-catalogue").status_code == 404


def test_the_new_batch_page_shows_the_proposal_and_its_preview(client, world):
    _as(client, world[2], "admin")
    html = client.get("/admin/451200/appraisal/new").get_data(as_text=True)
    assert "到期待鉴定的档案：3 条" in text(select_one(html, "#proposal h2"))
    assert len(select_all(html, ".appraisal-preview tbody tr")) == 3
    narrowed = client.get("/admin/451200/appraisal/new?category=housing").get_data(as_text=True)
    assert "到期待鉴定的档案：1 条" in narrowed
    bad = client.get("/admin/451200/appraisal/new?year_from=19x0")
    assert bad.status_code == 400 and "请填写四位数的年份" in bad.get_data(as_text=True)
    assert "/admin/451200/appraisal" in client.get("/admin/").get_data(as_text=True)  # the landing page's section


def test_three_people_run_a_batch_from_its_page(client, session, world):
    mine, _theirs, people = world
    page = _make_batch(client, people)
    items = session.scalars(select(AppraisalItem).order_by(AppraisalItem.id)).all()
    html = client.get(page).get_data(as_text=True)
    assert "韦秀英" in html  # staff see the name, the page says the view is audited
    assert make_id_number(seq=100) not in html

    _as(client, people, "first")
    html = client.get(page).get_data(as_text=True)
    assert texts(html, ".appraisal-stage button") == ["完成初审", "撤销批次"]
    assert _stage(client, page, "appraise_first").status_code == 409  # nothing decided yet
    refused = _decide(client, page, {"scope": "selected", "items": str(items[0].id), "decision": "postponed"})
    assert refused.status_code == 422
    assert "延期开放须说明理由" in refused.get_data(as_text=True)
    assert _decide(client, page, {"scope": "selected", "items": str(items[0].id), "decision": "postponed",
                                  "reason": "涉及个人隐私",
                                  "review_on": (china_today() + timedelta(days=400)).isoformat()}).status_code == 303
    assert _decide(client, page, {"scope": "category", "category": "housing", "decision": "open"}).status_code == 303
    assert _decide(client, page, {"scope": "selected", "items": str(items[1].id), "decision": "open"}).status_code == 303
    assert _stage(client, page, "appraise_first").status_code == 303

    refused = _decide(client, page, {"scope": "all", "decision": "open"})  # the same person again
    assert refused.status_code == 409 and "同一人不能参加同一批次的两个阶段" in refused.get_data(as_text=True)

    _as(client, people, "second")
    assert _decide(client, page, {"scope": "all", "decision": "follow"}).status_code == 303
    assert _stage(client, page, "appraise_second").status_code == 303

    _as(client, people, "admin")
    assert _decide(client, page, {"scope": "all", "decision": "follow"}).status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert texts(html, ".appraisal-stage button") == ["审定并公布", "撤销批次"]
    assert _stage(client, page, "appraise_decide").status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert text(select_one(html, ".batch-status")) == "已审定" and select_one(html, ".appraisal-stage") is None
    assert select_one(html, "#bulk-form") is None

    # the open catalogue: the two opened records, masked, with the date; no names, no ID numbers
    listing = client.get("/archives/451200/open-catalogue").get_data(as_text=True)
    assert texts(listing, ".open-catalogue tbody td")[1:] == [china_today().isoformat(), "2"]
    _out(client)
    catalogue = client.get("/archives/451200/open-catalogue/1").get_data(as_text=True)
    assert texts(catalogue, ".open-catalogue-records tbody td:first-child") == ["J001-1980-0001", "J001-1980-0002"]
    assert "韦*英结婚登记审查处理表 1" in catalogue and "韦秀英" not in catalogue
    response = client.get("/archives/451200/open-catalogue/1.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["档号", "题名", "类别", "形成日期", "开放日期"]
    assert [r[0] for r in rows[1:]] == ["J001-1980-0001", "J001-1980-0002"]
    assert all(r[4] == china_today().isoformat() for r in rows[1:])
    body = response.get_data(as_text=True)
    assert "韦秀英" not in body and all(make_id_number(seq=100 + i) not in body for i in range(3))
    assert client.get("/archives/450100/open-catalogue/1").status_code == 404


def test_an_undecided_batch_is_not_in_the_catalogue(client, world):
    _make_batch(client, world[2])
    _out(client)
    assert client.get("/archives/451200/open-catalogue/1").status_code == 404
    assert client.get("/archives/451200/open-catalogue/1.csv").status_code == 404


def test_a_stale_page_gets_a_conflict_not_a_second_change(client, session, world):
    page = _make_batch(client, world[2])
    _as(client, world[2], "first")
    old = _version(client, page)
    _decide(client, page, {"scope": "all", "decision": "open"})
    stale = _post(client, page + "/appraise_first", {"version": old}, page)
    assert stale.status_code == 409
    assert session.scalar(select(AppraisalBatch.status)) == "first_review"


def test_cancelling_needs_a_reason_and_frees_the_records(client, session, world):
    page = _make_batch(client, world[2])
    refused = _stage(client, page, "cancel")
    assert refused.status_code == 422 and "请填写说明" in refused.get_data(as_text=True)
    assert _post(client, page + "/cancel", {"version": _version(client, page), "note": "范围选错了"}, page).status_code == 303
    assert session.scalar(select(AppraisalBatch.status)) == "cancelled"
    assert "到期待鉴定的档案：3 条" in client.get("/admin/451200/appraisal/new").get_data(as_text=True)


def test_a_long_batch_is_paged_and_bulk_opinions_reach_every_page(client, session, world):
    from sqlalchemy import insert

    from portal.appraisal.service import PER_PAGE
    from portal.catalog.models import Record
    from portal.core.clock import utcnow

    mine = world[0]
    session.execute(insert(Record), [dict(archive_id=mine.id, reference_code=f"L-{i:04d}", category="employment",
                                          title="招工登记表", subject_name="", event_year=1970, place="", summary="",
                                          access_level="closed", created_at=utcnow(), updated_at=utcnow())
                                     for i in range(PER_PAGE)])
    session.commit()
    page = _make_batch(client, world[2])
    first = client.get(page).get_data(as_text=True)
    assert len(select_all(first, ".appraisal-items tbody tr")) == PER_PAGE
    assert texts(first, ".pager a") == ["2"]
    assert len(select_all(client.get(page + "?page=2").get_data(as_text=True), ".appraisal-items tbody tr")) == 3
    assert client.get(page + "?page=99").status_code == 200  # the last page
    _as(client, world[2], "first")
    assert _decide(client, page, {"scope": "all", "decision": "keep"}).status_code == 303
    assert "本阶段尚未作出意见的档案：0 条" in client.get(page + "?page=2").get_data(as_text=True)
