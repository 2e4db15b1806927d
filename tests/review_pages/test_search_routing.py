"""The staff page of a "please search for me" request: the clerk accepting it decides which
archives search (the applicant's choice comes checked); a wrong choice is refused next to the
field with the boxes as they were ticked. Withdrawn requests' tasks show as cancelled."""
from __future__ import annotations

import re

import pytest

from portal.actions import act
from portal.requests.service import SearchSpec
from tests.helpers import field_error
from tests.review_pages.conftest import action_url, cross_request, post_form, sign_in, staff_url


@pytest.fixture
def search_req(factory, people, archive_a, archive_b):
    return factory.request(people.applicant, issuing=archive_a,
                           search=SearchSpec(category="marriage", year_from=1980, year_to=1990,
                                             archives=[archive_b.code]))


def checked(html: str) -> list[str]:
    return sorted(re.findall(r'<input type="checkbox" name="archives" value="([^"]+)" checked>', html))


def test_the_accept_form_lists_the_network_with_the_applicants_choice_checked(client, people, search_req,
                                                                               archive_a, archive_b, archive_c):
    sign_in(client, people.issuing_clerk)
    html = client.get(staff_url(search_req)).get_data(as_text=True)
    assert "由哪些档案馆查找" in html
    assert set(re.findall(r'name="archives" value="([^"]+)"', html)) == {archive_a.code, archive_b.code, archive_c.code}
    assert checked(html) == [archive_b.code]


def test_the_clerk_chooses_other_archives(client, session, people, search_req, archive_a, archive_c):
    sign_in(client, people.issuing_clerk)
    response = post_form(client, staff_url(search_req), action_url(search_req, "accept"),
                         {"archives": [archive_a.code, archive_c.code]})
    assert response.status_code == 303
    session.refresh(search_req)
    assert search_req.status == "in_review"
    assert sorted(t.holding_archive.code for t in search_req.tasks) == sorted([archive_a.code, archive_c.code])


def test_choosing_no_archive_is_refused_next_to_the_field(client, session, people, search_req):
    sign_in(client, people.issuing_clerk)
    response = post_form(client, staff_url(search_req), action_url(search_req, "accept"), {"note": "已核对"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "accept-archives") == "请至少选择一个档案馆"
    assert checked(html) == []  # as the clerk left them, not the applicant's choice again
    session.refresh(search_req)
    assert search_req.status == "submitted" and search_req.tasks == []


def test_a_request_for_records_has_no_archive_choice(client, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b)
    sign_in(client, people.issuing_clerk)
    html = client.get(staff_url(req)).get_data(as_text=True)
    assert 'name="archives"' not in html and "由哪些档案馆查找" not in html


def test_the_holding_archive_sees_no_choice(client, people, search_req):
    sign_in(client, people.holding_clerk)
    html = client.get(staff_url(search_req)).get_data(as_text=True)
    assert 'name="archives"' not in html


def test_a_withdrawn_requests_tasks_show_as_cancelled(client, session, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review")
    act(session, req, "withdraw", people.applicant)
    sign_in(client, people.holding_clerk)
    html = client.get(staff_url(req)).get_data(as_text=True)
    assert "task-status-cancelled" in html and "已取消" in html
    assert "报告未找到" not in html and "认领（由我办理）" not in html
