"""Hostile input on open appraisal's pages: impossible dates, another batch's items, odd page
numbers, formulas in the public CSV."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from portal.appraisal.models import AppraisalBatch, AppraisalItem, AppraisalOpinion
from tests.admin_pages.test_appraisal_pages import _as, _make_batch, _post, _version, world  # noqa: F401


@pytest.mark.parametrize("review_on", ["2023-02-30", "2099-13-01", "99999-01-01", "２０９９-０１-０１", "x" * 5000, "0"])
def test_an_impossible_date_is_a_field_problem(client, world, session, review_on):
    mine, theirs, people = world
    page = _make_batch(client, people)
    items = session.scalars(select(AppraisalItem.id)).all()
    data = {"decision": "postponed", "reason": "尚有敏感信息", "review_on": review_on, "scope": "selected",
            "items": items[:1], "version": _version(client, page)}
    response = _post(client, f"{page}/decide", data, page)
    assert response.status_code == 422, review_on
    assert session.scalar(select(AppraisalOpinion)) is None


def test_items_of_another_batch_are_refused(client, world, session, factory):
    mine, theirs, people = world
    page = _make_batch(client, people, category="marriage")
    others = _make_batch(client, people, category="housing")
    theirs_items = session.scalars(select(AppraisalItem.id)
                                   .join(AppraisalBatch, AppraisalBatch.id == AppraisalItem.batch_id)
                                   .where(AppraisalBatch.number == int(others.rsplit("/", 1)[1]))).all()
    assert theirs_items
    response = _post(client, f"{page}/decide", {"decision": "open", "reason": "", "scope": "selected",
                                                "items": theirs_items, "version": _version(client, page)}, page)
    assert response.status_code == 422
    assert session.scalar(select(AppraisalOpinion)) is None


@pytest.mark.parametrize("page_no", ["-1", "0", "99999", "1e9", "²", ""])
def test_odd_page_numbers_show_a_page(client, world, page_no):
    mine, theirs, people = world
    page = _make_batch(client, people)
    assert client.get(f"{page}?page={page_no}").status_code == 200


def test_a_flood_of_item_ids_is_a_field_problem(client, world, session):
    mine, theirs, people = world
    page = _make_batch(client, people)
    items = session.scalars(select(AppraisalItem.id)).all()
    response = _post(client, f"{page}/decide", {"decision": "open", "reason": "", "scope": "selected",
                                                "items": items + list(range(10000, 80000)),
                                                "version": _version(client, page)}, page)
    assert response.status_code in (413, 422)
    assert session.scalar(select(AppraisalOpinion)) is None


def test_items_with_large_ids_are_not_dropped(client, world, session):
    """Item ids grow with every batch an archive makes: six digits soon."""
    mine, theirs, people = world
    page = _make_batch(client, people)
    session.execute(update(AppraisalItem).values(id=AppraisalItem.id + 123456))
    session.commit()
    items = session.scalars(select(AppraisalItem.id).order_by(AppraisalItem.id)).all()
    response = _post(client, f"{page}/decide", {"decision": "open", "reason": "", "scope": "selected",
                                                "items": items, "version": _version(client, page)}, page)
    assert response.status_code == 303
    assert len(session.scalars(select(AppraisalOpinion)).all()) == len(items)


def test_an_item_id_that_is_not_a_number_is_refused_not_dropped(client, world, session):
    mine, theirs, people = world
    page = _make_batch(client, people)
    items = session.scalars(select(AppraisalItem.id)).all()
    response = _post(client, f"{page}/decide", {"decision": "open", "reason": "", "scope": "selected",
                                                "items": [*items, "x"], "version": _version(client, page)}, page)
    assert response.status_code == 422
    assert session.scalar(select(AppraisalOpinion)) is None
