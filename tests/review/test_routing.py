"""Where a request's verification goes, and when it stops: the clerk chooses the archives that
search for a "please search for me" request; a withdrawn or rejected request's open tasks are
cancelled and leave the holding archives' queues."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.actions import act
from portal.core.errors import Conflict, NotAllowed, ValidationFailed
from portal.requests.applying import MAX_SEARCH_ARCHIVES
from portal.requests.models import RequestSearchArchive
from portal.requests.service import SearchSpec
from portal.review import queue
from tests.review.conftest import HOLDING, ISSUING, OTHER_HOLDING, UNRELATED, certified_copy
from tests.review.test_tasks import snapshot, task_at, tasks_of


def searched(session, request_id: int) -> list[str]:
    session.expire_all()
    rows = session.scalars(select(RequestSearchArchive).where(RequestSearchArchive.request_id == request_id))
    return sorted(row.archive.code for row in rows)


@pytest.fixture
def search_request(factory, archives, people):
    def make(named=(HOLDING,)):
        return factory.request(people["applicant"], issuing=archives["issuing"],
                               search=SearchSpec(category="marriage", year_from=1980, year_to=1990,
                                                 archives=list(named)))
    return make


# ---- the clerk chooses where to search ----------------------------------------------------------

def test_the_clerk_replaces_the_archives_the_citizen_named(session, people, search_request):
    request = search_request(named=(HOLDING,))
    act(session, request, "accept", people["issuing_clerk"], {"archives": [OTHER_HOLDING, UNRELATED, OTHER_HOLDING]})
    assert request.status == "in_review"
    assert sorted(t.holding_archive.code for t in tasks_of(session, request.id)) == [OTHER_HOLDING, UNRELATED]
    assert searched(session, request.id) == [OTHER_HOLDING, UNRELATED]  # what the citizen's page shows


def test_the_clerk_adds_archives_to_those_named(session, people, search_request):
    request = search_request(named=(HOLDING,))
    act(session, request, "accept", people["issuing_clerk"], {"archives": [HOLDING, ISSUING]})
    assert sorted(t.holding_archive.code for t in tasks_of(session, request.id)) == [HOLDING, ISSUING]
    assert searched(session, request.id) == [HOLDING, ISSUING]


def test_without_a_choice_the_archives_named_search(session, people, search_request):
    request = search_request(named=(HOLDING, OTHER_HOLDING))
    act(session, request, "accept", people["issuing_clerk"])
    assert sorted(t.holding_archive.code for t in tasks_of(session, request.id)) == [HOLDING, OTHER_HOLDING]


@pytest.mark.parametrize(("codes", "message"), [
    ([], "请至少选择一个档案馆"),
    (["  ", ""], "请至少选择一个档案馆"),
    ([HOLDING, "999999"], "未知的档案馆代码：999999"),
    ([str(n) for n in range(MAX_SEARCH_ARCHIVES + 1)], f"最多选择 {MAX_SEARCH_ARCHIVES} 个档案馆"),
])
def test_a_bad_choice_is_refused_and_changes_nothing(session, people, search_request, codes, message):
    request = search_request()
    before = snapshot(session, request.id)
    with pytest.raises(ValidationFailed) as info:
        act(session, request, "accept", people["issuing_clerk"], {"archives": codes})
    assert str(info.value.errors["archives"]) == message
    assert snapshot(session, request.id) == before
    assert searched(session, request.id) == [HOLDING]


def test_archives_cannot_be_chosen_for_a_request_of_specific_records(session, people, cross):
    request = cross("submitted")
    with pytest.raises(ValidationFailed) as info:
        act(session, request, "accept", people["issuing_clerk"], {"archives": [HOLDING]})
    assert "代为查找" in str(info.value.errors["archives"])
    assert request.status == "submitted"


@pytest.mark.parametrize("who", ["issuing_reviewer", "holding_clerk", "applicant"])
def test_only_the_issuing_clerk_chooses(session, people, search_request, who):
    request = search_request()
    with pytest.raises(NotAllowed):
        act(session, request, "accept", people[who], {"archives": [OTHER_HOLDING]})
    assert searched(session, request.id) == [HOLDING]


def test_a_choice_made_too_late_is_a_conflict_and_is_not_saved(session, people, search_request):
    request = search_request()
    act(session, request, "accept", people["issuing_clerk"])
    with pytest.raises(Conflict):
        act(session, request, "accept", people["issuing_clerk2"], {"archives": [UNRELATED]})
    assert searched(session, request.id) == [HOLDING]
    assert [t.holding_archive.code for t in tasks_of(session, request.id)] == [HOLDING]


def test_a_stale_version_with_a_choice_is_a_conflict(session, people, search_request):
    request = search_request()
    with pytest.raises(Conflict):
        act(session, request, "accept", people["issuing_clerk"],
            {"archives": [UNRELATED], "version": request.version - 1})
    assert searched(session, request.id) == [HOLDING]
    assert request.status == "submitted"


# ---- cancelled tasks ----------------------------------------------------------------------------

@pytest.mark.parametrize("ending", ["withdraw", "reject"])
def test_ending_a_request_cancels_its_open_tasks_and_keeps_the_answers(session, people, cross, ending):
    request = cross()
    act(session, task_at(session, request.id, HOLDING), "verify", people["holding_clerk"],
        {"note": "", "copy": certified_copy()})
    act(session, task_at(session, request.id, OTHER_HOLDING), "claim", people["other_holding_clerk"])
    if ending == "withdraw":
        act(session, request, "withdraw", people["applicant"])
    else:
        act(session, request, "reject", people["issuing_reviewer"], {"reason": "proof", "note": "证明材料不足"})
    statuses = {t.holding_archive.code: (t.status, t.claimed_by_id) for t in tasks_of(session, request.id)}
    assert statuses == {ISSUING: ("cancelled", None), HOLDING: ("verified", None),
                        OTHER_HOLDING: ("cancelled", None)}


def test_cancelled_tasks_leave_the_tasks_tab_and_its_count(session, archives, people, cross):
    request = cross()
    assert queue.counts(session, archives["holding"].id)["tasks"] == 1
    act(session, request, "withdraw", people["applicant"])
    page = queue.queue(session, archives["holding"].id, "tasks")
    assert page.items == [] and page.counts["tasks"] == 0


def test_a_cancelled_task_cannot_be_claimed_or_answered(session, people, cross):
    request = cross()
    act(session, request, "withdraw", people["applicant"])
    task = task_at(session, request.id, HOLDING)
    with pytest.raises(Conflict):
        act(session, task, "claim", people["holding_clerk"])
    with pytest.raises(Conflict) as info:
        act(session, task, "not_found", people["holding_clerk"], {"note": "未找到"})
    assert str(info.value) == "申请已撤回或不予通过，这项协办任务已取消"


def test_withdrawing_before_acceptance_has_no_tasks_to_cancel(session, people, cross):
    request = cross("submitted")
    act(session, request, "withdraw", people["applicant"])
    assert tasks_of(session, request.id) == []


def test_choosing_other_archives_gives_the_longer_promise(app, session, people, search_request):
    from portal.core import workdays
    from portal.core import clock

    request = search_request(named=(ISSUING,))
    calendar = workdays.load_calendar(app.config["HOLIDAYS_FILE"])
    submitted = request.submitted_at.astimezone(clock.CHINA_TIME).date()
    assert request.due_date == calendar.add_working_days(submitted, app.config["DUE_WORKING_DAYS"])
    act(session, request, "accept", people["issuing_clerk"], {"archives": [ISSUING, HOLDING]})
    assert request.due_date == calendar.add_working_days(submitted, app.config["DUE_WORKING_DAYS_CROSS_ARCHIVE"])
