"""The approval queue: what each archive's tabs list and count, filters, and keyset paging."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from io import BytesIO

import pytest
from sqlalchemy import select

from portal.actions import act
from portal.core.errors import ValidationFailed
from portal.requests.models import UtilizationRequest
from portal.requests.service import SearchSpec, Upload
from portal.review import queue as q
from portal.review.models import VerificationTask
from portal.review.queue import QueueFilters, counts, decode_cursor, encode_cursor, staff_scope
from tests import files
from tests.factories import make_id_number
from tests.review.conftest import HOLDING, ISSUING, OTHER_HOLDING, UNRELATED, certified_copy

TABS = ("to_accept", "in_review", "waiting", "tasks", "ready", "to_issue", "done")
CHINA = timezone(timedelta(hours=8))


@dataclass
class World:
    archives: dict
    people: dict
    r: dict  # name -> UtilizationRequest


def set_columns(session, request, **values) -> None:
    table = UtilizationRequest.__table__
    session.execute(table.update().where(table.c.id == request.id).values(**values))
    session.commit()


def set_task_due(session, task_id: int, due: date) -> None:
    table = VerificationTask.__table__
    session.execute(table.update().where(table.c.id == task_id).values(due_date=due))
    session.commit()


@pytest.fixture
def world(session, factory, archives, people) -> World:
    A, B, C = archives["issuing"], archives["holding"], archives["other_holding"]
    wang, li, li2 = people["applicant"], factory.user(name="李_明"), factory.user(name="李小明")
    r: dict[str, UtilizationRequest] = {}
    # Issued by A ------------------------------------------------------------------------------
    r["submitted"] = factory.request(wang, issuing=A, records=[factory.record(A, subject_name="王秀英")])
    r["submitted_cross"] = factory.request(
        li, issuing=A, records=[factory.record(B, subject_name="李_明", category="land_contract")])
    r["search"] = factory.request(li2, issuing=A, search=SearchSpec(category="social_insurance", archives=[C.code]))
    r["review_open"] = factory.request(wang, issuing=A, status="in_review", records=[
        factory.record(A, subject_name="王秀英"), factory.record(B, subject_name="王秀英")])
    r["ready"] = factory.request(wang, issuing=A, status="in_review",
                                 records=[factory.record(B, subject_name="王秀英")])
    factory.verify_all(r["ready"])
    r["waiting"] = factory.request(
        wang, issuing=A, status="needs_supplement", relation="relative", subject_name="王建国",
        subject_id_number=make_id_number(born="19400101", seq=17),
        records=[factory.record(A, subject_name="王建国")],
        uploads=[Upload("relationship_proof", "户口簿.pdf", BytesIO(files.pdf_bytes()))])
    r["approved"] = factory.request(wang, issuing=A, status="approved")
    r["rejected"] = factory.request(wang, issuing=A, status="rejected")
    r["withdrawn"] = factory.request(wang, issuing=A, status="withdrawn")
    # Issued elsewhere -------------------------------------------------------------------------
    r["b_issued"] = factory.request(wang, issuing=B, status="in_review",
                                    records=[factory.record(A, subject_name="王秀英")])
    r["c_submitted"] = factory.request(wang, issuing=C, records=[factory.record(C, subject_name="王秀英")])
    set_columns(session, r["submitted"], submitted_at=datetime(2026, 3, 1, 10, 0, tzinfo=CHINA))
    set_columns(session, r["submitted_cross"], submitted_at=datetime(2026, 3, 2, 23, 30, tzinfo=CHINA))
    set_columns(session, r["search"], submitted_at=datetime(2026, 3, 3, 0, 30, tzinfo=CHINA))  # 2 March in UTC
    session.expire_all()
    return World(archives, people, {k: session.get(UtilizationRequest, v.id) for k, v in r.items()})


def numbers(page) -> set[str]:
    return {item.request.number for item in page.items}


def listed(session, world, archive_id, tab, **filters) -> set[str]:
    """The names (keys of world.r) of the requests a tab lists, across every page."""
    by_number = {req.number: name for name, req in world.r.items()}
    found: list[str] = []
    after = None
    while True:
        page = q.queue(session, archive_id, tab, QueueFilters(**filters), after=after, limit=3)
        found += [by_number[item.request.number] for item in page.items]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert len(found) == len(set(found))
    return set(found)


# ---- tabs and counts ------------------------------------------------------------------------------

def test_the_issuing_archives_tabs(session, world):
    A = world.archives["issuing"].id
    expected = {
        "to_accept": {"submitted", "submitted_cross", "search"},
        "in_review": {"review_open"},
        "waiting": {"waiting"},
        "tasks": {"review_open", "b_issued"},  # A's own records, and A's records in B's request
        "ready": {"ready"},
        "to_issue": {"approved"},  # approved, waiting for its certificate: no longer "done"
        "done": {"rejected", "withdrawn"},
    }
    for tab, names in expected.items():
        assert listed(session, world, A, tab) == names, tab
    assert counts(session, A) == {tab: len(names) for tab, names in expected.items()}
    assert list(counts(session, A)) == list(TABS)


def test_the_tasks_tab_lists_tasks_of_this_archive(session, world):
    A = world.archives["issuing"].id
    page = q.queue(session, A, "tasks")
    assert {item.kind for item in page.items} == {"task"}
    assert {item.task.holding_archive_id for item in page.items} == {A}
    for item in page.items:
        assert item.task.request_id == item.request.id and item.due_date == item.task.due_date
    assert {item.kind for item in q.queue(session, A, "to_accept").items} == {"request"}


def test_a_holding_archives_tabs(session, world):
    B = world.archives["holding"].id
    assert counts(session, B) == {"to_accept": 0, "in_review": 1, "waiting": 0, "tasks": 1, "ready": 0, "to_issue": 0,
                                  "done": 0}
    assert listed(session, world, B, "in_review") == {"b_issued"}
    # The request A issued and B holds records of: only as a task, never as A's request.
    assert listed(session, world, B, "tasks") == {"review_open"}
    [item] = q.queue(session, B, "tasks").items
    assert item.task.holding_archive.code == HOLDING and item.request.issuing_archive.code == ISSUING


def test_an_archive_with_nothing_to_do(session, world):
    D = world.archives["unrelated"].id
    assert counts(session, D) == dict.fromkeys(TABS, 0)
    for tab in TABS:
        assert q.queue(session, D, tab).items == []


def test_admins_see_every_archive(session, world):
    expected = {
        "to_accept": {"submitted", "submitted_cross", "search", "c_submitted"},
        "in_review": {"review_open", "b_issued"},
        "waiting": {"waiting"},
        "ready": {"ready"},
        "to_issue": {"approved"},
        "done": {"rejected", "withdrawn"},
    }
    for tab, names in expected.items():
        assert listed(session, world, None, tab) == names, tab
    # review_open has two open tasks (A's and B's): the tasks tab lists and counts tasks, not requests.
    items, _ = walk(session, None, "tasks", 2)
    assert sorted((i.request.number, i.task.holding_archive.code) for i in items) == sorted([
        (world.r["review_open"].number, ISSUING), (world.r["review_open"].number, HOLDING),
        (world.r["b_issued"].number, ISSUING)])
    assert counts(session, None) == {"to_accept": 4, "in_review": 2, "waiting": 1, "tasks": 3, "ready": 1, "to_issue": 1,
                                     "done": 2}


def test_answering_the_last_task_moves_a_request_to_ready(session, world, people):
    A, B = world.archives["issuing"].id, world.archives["holding"].id
    request = world.r["review_open"]
    tasks = {t.holding_archive.code: t for t in request.tasks}
    act(session, tasks[HOLDING], "verify", people["holding_clerk"], {"note": "", "copy": certified_copy()})
    assert listed(session, world, A, "in_review") == {"review_open"}  # A's own task still open
    assert counts(session, B)["tasks"] == 0
    act(session, tasks[ISSUING], "not_found", people["issuing_clerk"], {"note": "未找到"})
    assert listed(session, world, A, "in_review") == set()
    assert listed(session, world, A, "ready") == {"ready", "review_open"}
    assert counts(session, A) == {"to_accept": 3, "in_review": 0, "waiting": 1, "tasks": 1, "ready": 2,
                                  "to_issue": 1, "done": 2}


def test_a_withdrawn_request_leaves_the_tasks_tab(session, world, people):
    act(session, world.r["b_issued"], "withdraw", people["applicant"])
    A = world.archives["issuing"].id
    assert listed(session, world, A, "tasks") == {"review_open"}
    assert counts(session, world.archives["holding"].id)["in_review"] == 0


def test_the_page_carries_the_counts_and_claims(session, world, people):
    A = world.archives["issuing"].id
    act(session, world.r["submitted"], "claim", people["issuing_clerk"])
    page = q.queue(session, A, "to_accept")
    assert page.counts == counts(session, A) and page.tab == "to_accept"
    claimed = {item.request.number: item.claimed_by for item in page.items}
    assert claimed[world.r["submitted"].number].real_name == "周明"
    assert claimed[world.r["search"].number] is None


# ---- filters --------------------------------------------------------------------------------------

def test_filter_by_category(session, world):
    A = world.archives["issuing"].id
    assert listed(session, world, A, "to_accept", category="land_contract") == {"submitted_cross"}
    assert listed(session, world, A, "to_accept", category="social_insurance") == {"search"}  # what to search for
    assert listed(session, world, A, "to_accept", category="marriage") == {"submitted"}
    assert listed(session, world, A, "to_accept", category="forest_rights") == set()
    assert listed(session, world, A, "tasks", category="marriage") == {"review_open", "b_issued"}


def test_filter_by_relation(session, world):
    A = world.archives["issuing"].id
    assert listed(session, world, A, "waiting", relation="relative") == {"waiting"}
    assert listed(session, world, A, "waiting", relation="self") == set()
    assert listed(session, world, A, "done", relation="relative") == set()
    with pytest.raises(ValidationFailed) as info:
        q.queue(session, A, "waiting", QueueFilters(relation="cousin"))
    assert list(info.value.errors) == ["relation"]


def test_filter_by_the_other_archive(session, world):
    A = world.archives["issuing"].id
    assert listed(session, world, A, "in_review", archive=HOLDING) == {"review_open"}
    assert listed(session, world, A, "ready", archive=HOLDING) == {"ready"}
    assert listed(session, world, A, "in_review", archive=OTHER_HOLDING) == set()
    # On the tasks tab the other side is the issuing archive.
    assert listed(session, world, A, "tasks", archive=HOLDING) == {"b_issued"}
    assert listed(session, world, A, "tasks", archive=ISSUING) == {"review_open"}
    assert listed(session, world, A, "tasks", archive="999999") == set()


def test_filter_by_holding_archive_before_acceptance(session, world):
    """Requests waiting to be accepted have no tasks yet; their holding archives are those of the
    records asked for, or the archives asked to search."""
    A = world.archives["issuing"].id
    assert listed(session, world, A, "to_accept", archive=HOLDING) == {"submitted_cross"}
    assert listed(session, world, A, "to_accept", archive=OTHER_HOLDING) == {"search"}
    assert listed(session, world, A, "to_accept", archive=ISSUING) == {"submitted"}
    assert listed(session, world, A, "to_accept", archive=UNRELATED) == set()


def test_filter_by_date_in_china_time(session, world):
    A = world.archives["issuing"].id
    day = date(2026, 3, 2)
    assert listed(session, world, A, "to_accept", date_from=day, date_to=day) == {"submitted_cross"}
    assert listed(session, world, A, "to_accept", date_from=day) == {"submitted_cross", "search"}
    assert listed(session, world, A, "to_accept", date_to=day) == {"submitted", "submitted_cross"}
    assert listed(session, world, A, "to_accept", date_from=date(2026, 3, 4), date_to=date(2026, 3, 31)) == set()


def test_find_by_number(session, world):
    A = world.archives["issuing"].id
    number = world.r["submitted_cross"].number
    assert listed(session, world, A, "to_accept", find=f"  {number} ") == {"submitted_cross"}
    assert listed(session, world, A, "tasks", find=world.r["b_issued"].number) == {"b_issued"}
    # Another archive's request is not found by its number either.
    assert listed(session, world, A, "to_accept", find=world.r["c_submitted"].number) == set()


def test_find_by_applicant_or_subject_name(session, world):
    A = world.archives["issuing"].id
    assert listed(session, world, A, "to_accept", find="小明") == {"search"}
    assert listed(session, world, A, "to_accept", find="秀英") == {"submitted"}
    assert listed(session, world, A, "waiting", find="建国") == {"waiting"}  # the subject, not the applicant
    assert listed(session, world, A, "waiting", find="秀英") == {"waiting"}  # …and the applicant
    assert listed(session, world, A, "to_issue", find="秀英") == {"approved"}
    assert listed(session, world, A, "done", find="秀英") == {"rejected", "withdrawn"}


@pytest.mark.parametrize(("find", "expected"), [
    ("李_明", {"submitted_cross"}),   # not 李小明: "_" is a character here, not any character
    ("_", {"submitted_cross"}),
    ("李%明", set()),                 # not both
    ("%", set()),
    ("王%", set()),
    ("/", set()),                     # the escape character itself
    ("\\", set()),
])
def test_find_matches_wildcards_literally(session, world, find, expected):
    A = world.archives["issuing"].id
    assert listed(session, world, A, "to_accept", find=find) == expected


def test_wildcards_in_a_subject_name_are_matched_literally(session, world):
    A = world.archives["issuing"].id
    set_columns(session, world.r["waiting"], subject_name="王_100%")
    assert listed(session, world, A, "waiting", find="_100%") == {"waiting"}
    assert listed(session, world, A, "waiting", find="王_1") == {"waiting"}
    assert listed(session, world, A, "waiting", find="00%x") == set()
    set_columns(session, world.r["waiting"], subject_name="王a1000")
    assert listed(session, world, A, "waiting", find="_100%") == set()


# ---- keyset paging --------------------------------------------------------------------------------

def walk(session, archive_id, tab, limit, filters=None) -> list:
    items, after, pages = [], None, 0
    while True:
        page = q.queue(session, archive_id, tab, filters, after=after, limit=limit)
        pages += 1
        assert len(page.items) <= limit
        items += page.items
        if page.next_cursor is None:
            return items, pages
        assert len(page.items) == limit
        after = page.next_cursor
        assert pages < 100


@pytest.fixture
def many(session, factory, archives, people):
    """Nine requests to accept with due dates that tie, in an order unlike their ids."""
    A = archives["issuing"]
    base = date(2026, 5, 4)
    offsets = [3, 0, 3, 1, 0, 7, 1, 3, -2]
    made = []
    for offset in offsets:
        applicant = factory.user(name="王秀英")
        request = factory.request(applicant, issuing=A)
        set_columns(session, request, due_date=base + timedelta(days=offset))
        made.append(request.id)
    session.expire_all()
    return made


@pytest.mark.parametrize("limit", [1, 2, 4, 9, 10])
def test_paging_walks_every_item_once_by_due_date(session, archives, many, limit):
    A = archives["issuing"].id
    items, pages = walk(session, A, "to_accept", limit)
    got = [(item.due_date, item.request.id) for item in items]
    assert sorted(item.request.id for item in items) == sorted(many)
    assert got == sorted(got)  # most urgent first, ties by id
    assert pages == -(-len(many) // limit)  # no empty last page: a page says when nothing follows


def test_paging_page_by_page(session, archives, many):
    A = archives["issuing"].id
    first = q.queue(session, A, "to_accept", limit=4)
    assert [i.due_date for i in first.items] == [date(2026, 5, 2), date(2026, 5, 4), date(2026, 5, 4),
                                                 date(2026, 5, 5)]
    assert decode_cursor(first.next_cursor) == (date(2026, 5, 5), first.items[-1].request.id)
    second = q.queue(session, A, "to_accept", after=first.next_cursor, limit=4)
    third = q.queue(session, A, "to_accept", after=second.next_cursor, limit=4)
    assert [len(p.items) for p in (first, second, third)] == [4, 4, 1]
    assert third.next_cursor is None
    assert third.items[0].due_date == date(2026, 5, 11)
    assert first.counts == second.counts == third.counts


def test_paging_survives_a_new_item_ahead_of_the_cursor(session, factory, archives, many):
    """Keyset, not offset: an item added before the cursor's position does not shift later pages."""
    A = archives["issuing"]
    first = q.queue(session, A.id, "to_accept", limit=3)
    newcomer = factory.request(factory.user(name="王秀英"), issuing=A)
    set_columns(session, newcomer, due_date=date(2026, 4, 1))
    rest, _ = [], None
    after = first.next_cursor
    while after:
        page = q.queue(session, A.id, "to_accept", after=after, limit=3)
        rest += page.items
        after = page.next_cursor
    ids = [i.request.id for i in first.items] + [i.request.id for i in rest]
    assert sorted(ids) == sorted(many) and newcomer.id not in ids


def test_the_done_tab_is_newest_first(session, factory, archives):
    A = archives["issuing"]
    base = date(2026, 5, 4)
    made = []
    for offset in (0, 5, 5, -3, 2, 5):
        request = factory.request(factory.user(name="王秀英"), issuing=A, status="withdrawn")
        set_columns(session, request, due_date=base + timedelta(days=offset))
        made.append(request.id)
    session.expire_all()
    items, pages = walk(session, A.id, "done", 2)
    got = [(item.due_date, item.request.id) for item in items]
    assert pages == 3
    assert sorted(i for _, i in got) == sorted(made)
    assert got == sorted(got, reverse=True)


def test_the_tasks_tab_pages_by_the_tasks_due_date(session, factory, archives, people):
    A, B = archives["issuing"], archives["holding"]
    task_ids = []
    for offset in (4, 1, 4, 0, 2):
        request = factory.request(factory.user(name="王秀英"), issuing=B, status="in_review",
                                  records=[factory.record(A, subject_name="王秀英")])
        [task] = request.tasks
        set_task_due(session, task.id, date(2026, 6, 1) + timedelta(days=offset))
        set_columns(session, request, due_date=date(2026, 7, 1) - timedelta(days=offset))  # the other way round
        task_ids.append(task.id)
    session.expire_all()
    items, pages = walk(session, A.id, "tasks", 2)
    got = [(item.due_date, item.task.id) for item in items]
    assert pages == 3 and sorted(i for _, i in got) == sorted(task_ids)
    assert got == sorted(got)


def test_paging_with_a_filter(session, factory, archives, many):
    A = archives["issuing"]
    for _ in range(3):
        factory.request(factory.user(name="李四光"), issuing=A)
    items, pages = walk(session, A.id, "to_accept", 2, QueueFilters(find="四光"))
    assert (len(items), pages) == (3, 2)
    assert {i.request.applicant.real_name for i in items} == {"李四光"}


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "5", "MjAyNi0xMy0wMXw1", "eHx5",
                                    encode_cursor(date(2026, 5, 1), 1)[:-3] + "@@@", "MjAyNi0wNS0wMXx4fDM",
                                    "////", "５", "8J-YgA",
                                    encode_cursor(date(2026, 5, 1), 2 ** 40), encode_cursor(date(2026, 5, 1), -1)])
def test_a_bad_cursor_is_refused(session, archives, many, cursor):
    with pytest.raises(ValidationFailed) as info:
        q.queue(session, archives["issuing"].id, "to_accept", after=cursor)
    assert {k: str(v) for k, v in info.value.errors.items()} == {"after": "翻页参数无效，请从第一页重新开始"}


def test_a_cursor_round_trips():
    assert decode_cursor(encode_cursor(date(2026, 2, 28), 123456)) == (date(2026, 2, 28), 123456)


@pytest.mark.parametrize("tab", ["", "all", "TASKS", "to_accept "])
def test_an_unknown_tab_is_refused(session, archives, tab):
    with pytest.raises(ValidationFailed) as info:
        q.queue(session, archives["issuing"].id, tab)
    assert list(info.value.errors) == ["tab"]


# ---- whose queue ----------------------------------------------------------------------------------

def test_staff_scope(session, archives, people):
    assert staff_scope(people["issuing_clerk"]) == archives["issuing"].id
    assert staff_scope(people["holding_reviewer"], HOLDING) == archives["holding"].id
    # Staff cannot look into another archive's queue by asking for it.
    assert staff_scope(people["issuing_clerk"], HOLDING) == archives["issuing"].id
    assert staff_scope(people["admin"]) is None
    assert staff_scope(people["admin"], HOLDING) == archives["holding"].id
    assert staff_scope(people["admin"], "999999") == -1
    assert counts(session, -1) == dict.fromkeys(TABS, 0)
    with pytest.raises(PermissionError):
        staff_scope(people["applicant"])


def test_an_admin_choosing_an_archive_sees_its_queue(session, world, people):
    B = staff_scope(people["admin"], HOLDING)
    assert counts(session, B) == counts(session, world.archives["holding"].id)
    assert session.scalar(select(VerificationTask.id).where(VerificationTask.holding_archive_id == B)) is not None


def test_a_request_walked_through_leaves_and_enters_tabs(session, world, people):
    A = world.archives["issuing"].id
    request = world.r["submitted"]
    act(session, request, "accept", people["issuing_clerk"])
    assert "submitted" in listed(session, world, A, "in_review")
    assert "submitted" in listed(session, world, A, "tasks")
    [task] = request.tasks
    act(session, task, "verify", people["issuing_clerk"], {"note": "", "copy": certified_copy()})
    assert "submitted" in listed(session, world, A, "ready")
    act(session, request, "approve", people["issuing_reviewer"])
    assert "submitted" in listed(session, world, A, "to_issue")
    assert "submitted" not in listed(session, world, A, "done")


def test_with_no_tab_chosen_the_queue_opens_on_the_first_tab_with_work(session, world):
    assert q.first_with_work(counts(session, world.archives["issuing"].id)) == "to_accept"
    assert q.first_with_work(counts(session, world.archives["holding"].id)) == "in_review"
    assert q.first_with_work(dict.fromkeys(TABS, 0) | {"tasks": 2, "to_issue": 1}) == "tasks"
    assert q.first_with_work(dict.fromkeys(TABS, 0) | {"done": 5}) == "to_accept"  # finished work is not work
    assert q.first_with_work(counts(session, world.archives["unrelated"].id)) == "to_accept"


def test_the_to_issue_tab_is_the_archives_own_approved_requests(session, world, people):
    assert listed(session, world, world.archives["issuing"].id, "to_issue") == {"approved"}
    for other in ("holding", "other_holding", "unrelated"):
        assert listed(session, world, world.archives[other].id, "to_issue") == set(), other
        assert counts(session, world.archives[other].id)["to_issue"] == 0
