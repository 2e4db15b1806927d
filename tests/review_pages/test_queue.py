"""The approval queue (/staff/queue): what each tab lists for whom, its counts, filters, paging,
the due-date highlight, and htmx partials."""
from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from io import BytesIO
from types import SimpleNamespace

import pytest

from portal.requests.applying import Upload
from portal.core.clock import china_today
from portal.review import views
from portal.review.queue import TABS
from tests.factories import make_id_number
from tests.files import pdf_bytes
from tests.helpers import logout
from tests.review_pages.conftest import counts, queue_numbers, sign_in

FATHER = "王大山"
FATHER_ID = make_id_number(region="451202", born="19300205", seq=11)


@pytest.fixture
def scene(factory, session, people, archive_a, archive_b):
    """A's requests in every tab, a cross-archive one whose only task is B's, and one of B's own."""
    def make(name, status, holders=(archive_a,), issuing=archive_a, category="marriage", **kw):
        applicant = factory.user(name=name)
        records = [factory.record(h, subject_name=name, category=category) for h in holders]
        return factory.request(applicant, issuing=issuing, records=records, status=status, **kw)

    ready = make("李四", "in_review")
    factory.verify_all(ready)
    return SimpleNamespace(
        to_accept=make("刘一", "submitted"),
        in_review=make("陈二", "in_review", holders=(archive_a, archive_b)),
        waiting=make("张三", "needs_supplement"),
        ready=ready,
        approved=make("王五", "approved"),
        rejected=make("赵六", "rejected"),
        cross=make("孙七", "in_review", holders=(archive_b,)),
        b_own=make("周八", "submitted", issuing=archive_b, holders=(archive_b,)),
    )


def listed(client, query: str) -> tuple[set[str], str]:
    response = client.get(f"/staff/queue?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return set(queue_numbers(html)), html


def numbers(*requests) -> set[str]:
    return {r.number for r in requests}


def row_of(html: str, number: str) -> str:
    return next(row for row in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S) if f"/staff/requests/{number}\"" in row)


# ---- what each tab lists --------------------------------------------------------------------------

def test_each_tab_of_the_issuing_clerk_lists_its_own_archives_items(client, scene, people):
    sign_in(client, people.issuing_clerk)
    expected = {"to_accept": numbers(scene.to_accept), "in_review": numbers(scene.in_review, scene.cross),
                "waiting": numbers(scene.waiting), "tasks": numbers(scene.in_review), "ready": numbers(scene.ready),
                "to_issue": numbers(scene.approved), "done": numbers(scene.rejected)}
    for tab, wanted in expected.items():
        got, html = listed(client, f"tab={tab}")
        assert got == wanted, tab
        assert counts(html) == {"to_accept": 1, "in_review": 2, "waiting": 1, "tasks": 1, "ready": 1, "to_issue": 1,
                                "done": 1}
        assert scene.b_own.number not in html


def test_with_no_tab_chosen_the_queue_opens_on_the_first_tab_with_work(client, session, scene, people):
    sign_in(client, people.issuing_clerk)
    got, html = listed(client, "")
    assert got == numbers(scene.to_accept)
    assert re.search(r'<a href="/staff/queue\?tab=to_accept" aria-current="page"', html)
    # B's only work left is the verification of A's requests: B's clerk lands on the tasks tab.
    scene.b_own.status = "rejected"
    session.commit()
    logout(client)
    sign_in(client, people.holding_clerk)
    got, html = listed(client, "")
    assert got == numbers(scene.in_review, scene.cross)
    assert re.search(r'<a href="/staff/queue\?tab=tasks" aria-current="page"', html)
    assert listed(client, "tab=to_accept")[0] == set()  # a chosen tab is kept, empty or not
    assert re.search(r'<a href="/staff/queue\?tab=done" aria-current="page"', listed(client, "tab=done")[1])


def test_the_holding_archive_sees_its_tasks_but_not_the_issuing_archives_requests(client, scene, people):
    sign_in(client, people.holding_clerk)
    got, html = listed(client, "tab=tasks")
    assert got == numbers(scene.in_review, scene.cross)
    assert counts(html) == {"to_accept": 1, "in_review": 0, "waiting": 0, "tasks": 2, "ready": 0, "to_issue": 0,
                            "done": 0}
    # each task row names the issuing archive and the record B holds
    row = row_of(html, scene.cross.number)
    assert "河池市档案馆" in row and scene.cross.items[0].record.reference_code in row
    in_review_row = row_of(html, scene.in_review.number)
    held_by_a = next(i.record for i in scene.in_review.items if i.record.archive.code == "451200")
    assert held_by_a.reference_code not in in_review_row
    assert listed(client, "tab=to_accept")[0] == numbers(scene.b_own)
    for tab in ("in_review", "waiting", "ready", "to_issue", "done"):
        assert listed(client, f"tab={tab}")[0] == set()
    # the task's request opens for B; A's own requests do not
    assert client.get(f"/staff/requests/{scene.cross.number}").status_code == 200
    assert client.get(f"/staff/requests/{scene.to_accept.number}").status_code == 404


def test_staff_of_an_unrelated_archive_see_an_empty_queue(client, scene, people):
    sign_in(client, people.unrelated_staff)
    for tab in TABS:
        got, html = listed(client, f"tab={tab}")
        assert got == set()
        assert set(counts(html).values()) == {0}
    assert "这里暂时没有事项" in html


def test_an_admin_sees_every_archive_or_chooses_one(client, scene, people):
    sign_in(client, people.admin)
    got, html = listed(client, "tab=to_accept")
    assert got == numbers(scene.to_accept, scene.b_own)
    assert '<select name="archive">' in html
    assert listed(client, "tab=to_accept&archive=450100")[0] == numbers(scene.b_own)
    assert listed(client, "tab=tasks&archive=451200")[0] == numbers(scene.in_review)
    assert listed(client, "tab=to_accept&archive=999999")[0] == set()


def test_clerks_get_no_archive_selector_and_cannot_look_into_another_archive(client, scene, people):
    sign_in(client, people.issuing_clerk)
    got, html = listed(client, "tab=to_accept&archive=450100")
    assert got == numbers(scene.to_accept)
    assert '<select name="archive">' not in html


def test_citizens_get_404_and_anonymous_visitors_go_to_log_in(client, scene, people):
    response = client.get("/staff/queue?tab=tasks")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    sign_in(client, people.applicant)
    assert client.get("/staff/queue").status_code == 404
    assert client.get("/staff/queue?tab=done").status_code == 404


# ---- due dates ------------------------------------------------------------------------------------

def test_overdue_and_due_today_rows_are_highlighted(client, session, scene, people):
    today = china_today()
    scene.in_review.due_date = today - timedelta(days=3)
    scene.cross.due_date = today
    session.commit()
    sign_in(client, people.issuing_clerk)
    got, html = listed(client, "tab=in_review")
    overdue, due_today = row_of(html, scene.in_review.number), row_of(html, scene.cross.number)
    assert 'class="request-row overdue"' in overdue and "已逾期" in overdue
    assert 'class="request-row due-today"' in due_today and "今日到期" in due_today
    # sorted by due date: the overdue one first
    assert queue_numbers(html) == [scene.in_review.number, scene.cross.number]
    # a request due later is not highlighted
    plain = row_of(listed(client, "tab=to_accept")[1], scene.to_accept.number)
    assert "overdue" not in plain and "due-today" not in plain


def test_finished_requests_are_never_overdue(client, session, scene, people):
    scene.rejected.due_date = china_today() - timedelta(days=30)
    session.commit()
    sign_in(client, people.issuing_clerk)
    row = row_of(listed(client, "tab=done")[1], scene.rejected.number)
    assert "overdue" not in row and "已逾期" not in row


def test_an_approved_request_waiting_for_its_certificate_can_be_overdue(client, session, scene, people):
    scene.approved.due_date = china_today() - timedelta(days=3)
    session.commit()
    sign_in(client, people.issuing_reviewer)
    got, html = listed(client, "tab=to_issue")
    assert got == numbers(scene.approved)
    row = row_of(html, scene.approved.number)
    assert "overdue" in row and "已逾期" in row


# ---- filters and finding --------------------------------------------------------------------------

@pytest.fixture
def relative_request(factory, people, archive_a):
    """A daughter's request for her father's school roll."""
    daughter = factory.user(name="王秀兰")
    record = factory.record(archive_a, subject_name=FATHER, subject_id_number=FATHER_ID, category="education",
                            title="学籍登记表")
    return factory.request(daughter, issuing=archive_a, records=[record], relation="relative", subject_name=FATHER,
                           subject_id_number=FATHER_ID,
                           uploads=[Upload("relationship_proof", "户口簿.pdf", BytesIO(pdf_bytes()))])


def test_filter_by_relation_and_category(client, scene, relative_request, people):
    sign_in(client, people.issuing_clerk)
    assert listed(client, "tab=to_accept&relation=relative")[0] == numbers(relative_request)
    assert listed(client, "tab=to_accept&relation=self")[0] == numbers(scene.to_accept)
    assert listed(client, "tab=to_accept&category=education")[0] == numbers(relative_request)
    got, html = listed(client, "tab=to_accept&relation=relative&category=education")
    assert got == numbers(relative_request)
    assert '<option value="relative" selected>' in html  # the form shows the filter in force


def test_filter_by_the_other_archive(client, scene, people):
    sign_in(client, people.issuing_clerk)
    assert listed(client, "tab=in_review&other=450100")[0] == numbers(scene.in_review, scene.cross)
    assert listed(client, "tab=in_review&other=450200")[0] == set()
    logout(client)
    sign_in(client, people.holding_clerk)
    assert listed(client, "tab=tasks&other=451200")[0] == numbers(scene.in_review, scene.cross)


def test_find_by_number_applicant_name_or_subject_name(client, scene, relative_request, people):
    sign_in(client, people.issuing_clerk)
    assert listed(client, f"tab=to_accept&find={scene.to_accept.number}")[0] == numbers(scene.to_accept)
    assert listed(client, "tab=to_accept&find=刘一")[0] == numbers(scene.to_accept)
    assert listed(client, "tab=to_accept&find=秀兰")[0] == numbers(relative_request)  # part of the applicant's name
    assert listed(client, f"tab=to_accept&find={FATHER}")[0] == numbers(relative_request)  # the subject's
    assert listed(client, "tab=to_accept&find=没有这个人")[0] == set()


def test_filter_by_submission_date(client, scene, people):
    sign_in(client, people.issuing_clerk)
    today = china_today()
    assert listed(client, f"tab=to_accept&date_from={today}&date_to={today}")[0] == numbers(scene.to_accept)
    assert listed(client, f"tab=to_accept&date_from={today + timedelta(days=1)}")[0] == set()


@pytest.mark.parametrize("query,message", [("relation=cousin", "未知的关系"), ("date_from=2024-13-01", "日期格式"),
                                           ("after=not-a-cursor", "翻页参数无效")])
def test_bad_filters_are_explained(client, scene, people, query, message):
    sign_in(client, people.issuing_clerk)
    response = client.get(f"/staff/queue?tab=to_accept&{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and 'class="error-summary"' in html
    assert counts(html)["to_accept"] == 1  # the tabs still work


# ---- paging ---------------------------------------------------------------------------------------

def test_keyset_pages_follow_each_other_without_gaps_or_repeats(client, factory, monkeypatch, people, archive_a):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = [factory.request(factory.user(name=f"申请人{i}"), issuing=archive_a).number for i in range(5)]
    sign_in(client, people.issuing_clerk)
    seen, url, pages = [], "/staff/queue?tab=to_accept&relation=self", 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += queue_numbers(html)
        pages += 1
        link = re.search(r'<a href="([^"]+)" rel="next"', html)
        url = html_lib.unescape(link.group(1)) if link else None
        if url:
            assert "relation=self" in url and "after=" in url  # the filters carry over
    assert pages == 3
    assert seen == made  # by due date, then in order of arrival
    assert "第一页" in html


# ---- htmx -----------------------------------------------------------------------------------------

def test_htmx_gets_the_partial_and_the_address_to_show(client, scene, people):
    sign_in(client, people.issuing_clerk)
    response = client.get("/staff/queue?tab=in_review&find=&relation=", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="queue"')
    assert set(queue_numbers(html)) == numbers(scene.in_review, scene.cross)
    assert response.headers["HX-Push-Url"] == "/staff/queue?tab=in_review"
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"
    # the tabs and the filter form swap the same section
    assert 'hx-get="/staff/queue?tab=done" hx-target="#queue"' in html
    assert 'hx-target="#queue" hx-swap="outerHTML" hx-push-url="true"' in html
    # a history restore gets the whole page
    restored = client.get("/staff/queue?tab=in_review",
                          headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.get_data(as_text=True)


def test_htmx_errors_come_with_their_real_status_and_the_message(client, scene, people):
    """base.html tells htmx to swap 400 answers: the partial carries the message."""
    sign_in(client, people.issuing_clerk)
    response = client.get("/staff/queue?tab=to_accept&date_to=yesterday", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "<html" not in response.get_data(as_text=True)
    assert "日期格式" in response.get_data(as_text=True)


def test_staff_have_the_queue_in_the_header_and_citizens_do_not(client, people, archive_a):
    sign_in(client, people.issuing_reviewer)
    assert '<a href="/staff/queue">审批队列</a>' in client.get("/").get_data(as_text=True)
    logout(client)
    sign_in(client, people.applicant)
    assert "审批队列" not in client.get("/").get_data(as_text=True)
