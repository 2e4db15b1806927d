"""Where a request's verification goes, and when it stops: the clerk chooses the archives that
search for a "please search for me" request; a withdrawn or rejected request's open tasks are
cancelled and leave the holding archives' queues."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.core.errors import ValidationFailed
from portal.requests import service, workflow
from portal.requests.models import RequestSearchArchive
from portal.requests.service import SearchSpec
from portal.requests.workflow import Conflict, NotAllowed
from portal.review import queue
from portal.review.service import MAX_SEARCH_ARCHIVES, accept, answer_task, claim
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
    accept(session, request, people["issuing_clerk"], archives=[OTHER_HOLDING, UNRELATED, OTHER_HOLDING])
    assert request.status == "in_review"
    assert sorted(t.holding_archive.code for t in tasks_of(session, request.id)) == [OTHER_HOLDING, UNRELATED]
    assert searched(session, request.id) == [OTHER_HOLDING, UNRELATED]  # what the citizen's page shows


def test_the_clerk_adds_archives_to_those_named(session, people, search_request):
    request = search_request(named=(HOLDING,))
    accept(session, request, people["issuing_clerk"], archives=[HOLDING, ISSUING])
    assert sorted(t.holding_archive.code for t in tasks_of(session, request.id)) == [HOLDING, ISSUING]
    assert searched(session, request.id) == [HOLDING, ISSUING]


def test_without_a_choice_the_archives_named_search(session, people, search_request):
    request = search_request(named=(HOLDING, OTHER_HOLDING))
    accept(session, request, people["issuing_clerk"])
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
        accept(session, request, people["issuing_clerk"], archives=codes)
    assert str(info.value.errors["archives"]) == message
    assert snapshot(session, request.id) == before
    assert searched(session, request.id) == [HOLDING]


def test_archives_cannot_be_chosen_for_a_request_of_specific_records(session, people, cross):
    request = cross("submitted")
    with pytest.raises(ValidationFailed) as info:
        accept(session, request, people["issuing_clerk"], archives=[HOLDING])
    assert "代为查找" in str(info.value.errors["archives"])
    assert request.status == "submitted"


@pytest.mark.parametrize("who", ["issuing_reviewer", "holding_clerk", "applicant"])
def test_only_the_issuing_clerk_chooses(session, people, search_request, who):
    request = search_request()
    with pytest.raises(NotAllowed):
        accept(session, request, people[who], archives=[OTHER_HOLDING])
    assert searched(session, request.id) == [HOLDING]


def test_a_choice_made_too_late_is_a_conflict_and_is_not_saved(session, people, search_request):
    request = search_request()
    accept(session, request, people["issuing_clerk"])
    with pytest.raises(Conflict):
        accept(session, request, people["issuing_clerk2"], archives=[UNRELATED])
    assert searched(session, request.id) == [HOLDING]
    assert [t.holding_archive.code for t in tasks_of(session, request.id)] == [HOLDING]


def test_a_stale_version_with_a_choice_is_a_conflict(session, people, search_request):
    request = search_request()
    with pytest.raises(Conflict):
        accept(session, request, people["issuing_clerk"], archives=[UNRELATED], expected_version=request.version - 1)
    assert searched(session, request.id) == [HOLDING]
    assert request.status == "submitted"


# ---- cancelled tasks ----------------------------------------------------------------------------

@pytest.mark.parametrize("ending", ["withdraw", "reject"])
def test_ending_a_request_cancels_its_open_tasks_and_keeps_the_answers(session, people, cross, ending):
    request = cross()
    answer_task(session, task_at(session, request.id, HOLDING), "verify", people["holding_clerk"], "",
                certified_copy())
    claim(session, task_at(session, request.id, OTHER_HOLDING), people["other_holding_clerk"])
    if ending == "withdraw":
        service.withdraw(session, request, people["applicant"])
    else:
        workflow.apply(session, request, "reject", people["issuing_reviewer"], "证明材料不足")
    statuses = {t.holding_archive.code: (t.status, t.claimed_by_id) for t in tasks_of(session, request.id)}
    assert statuses == {ISSUING: ("cancelled", None), HOLDING: ("verified", None),
                        OTHER_HOLDING: ("cancelled", None)}


def test_cancelled_tasks_leave_the_tasks_tab_and_its_count(session, archives, people, cross):
    request = cross()
    assert queue.counts(session, archives["holding"].id)["tasks"] == 1
    service.withdraw(session, request, people["applicant"])
    page = queue.queue(session, archives["holding"].id, "tasks")
    assert page.items == [] and page.counts["tasks"] == 0


def test_a_cancelled_task_cannot_be_claimed_or_answered(session, people, cross):
    request = cross()
    service.withdraw(session, request, people["applicant"])
    task = task_at(session, request.id, HOLDING)
    with pytest.raises(Conflict):
        claim(session, task, people["holding_clerk"])
    with pytest.raises(Conflict) as info:
        answer_task(session, task, "not_found", people["holding_clerk"], "未找到")
    assert str(info.value) == "申请已撤回或不予通过，这项协办任务已取消"


def test_withdrawing_before_acceptance_has_no_tasks_to_cancel(session, people, cross):
    request = cross("submitted")
    service.withdraw(session, request, people["applicant"])
    assert tasks_of(session, request.id) == []


def test_choosing_other_archives_gives_the_longer_promise(app, session, people, search_request):
    from portal.core import workdays
    from portal.core import clock

    request = search_request(named=(ISSUING,))
    calendar = workdays.load_calendar(app.config["HOLIDAYS_FILE"])
    submitted = request.submitted_at.astimezone(clock.CHINA_TIME).date()
    assert request.due_date == calendar.add_working_days(submitted, app.config["DUE_WORKING_DAYS"])
    accept(session, request, people["issuing_clerk"], archives=[ISSUING, HOLDING])
    assert request.due_date == calendar.add_working_days(submitted, app.config["DUE_WORKING_DAYS_CROSS_ARCHIVE"])
