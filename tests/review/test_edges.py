"""Edges of the staff-side services that odd input or late clicks reach."""
from __future__ import annotations

from datetime import date

import pytest

from portal.actions import act
from portal.core.errors import Conflict, ValidationFailed
from portal.review import queue
from tests.review.conftest import certified_copy


@pytest.mark.parametrize("row_id", [0, -5, 2 ** 31, 10 ** 30])
def test_a_cursor_with_an_impossible_row_id_is_refused(session, archives, row_id):
    cursor = queue.encode_cursor(date(2026, 1, 5), row_id)
    with pytest.raises(ValidationFailed) as info:
        queue.queue(session, archives["issuing"].id, "to_accept", after=cursor)
    assert set(info.value.errors) == {"after"}


@pytest.mark.parametrize("name, day", [("date_from", date(1, 1, 1)), ("date_to", date.max)])
def test_dates_outside_any_request_are_refused_not_overflowed(session, archives, name, day):
    with pytest.raises(ValidationFailed) as info:
        queue.queue(session, archives["issuing"].id, "done", queue.QueueFilters(**{name: day}))
    assert str(info.value.errors[name]) == "日期应在 1900 年到 2100 年之间"


def test_a_nul_in_the_search_text_is_dropped(session, archives, people, cross):
    request = cross("submitted")
    page = queue.queue(session, archives["issuing"].id, "to_accept", queue.QueueFilters(find=request.number + "\x00"))
    assert [item.request.number for item in page.items] == [request.number]


def test_not_found_takes_no_certified_copy(session, people, cross, app):
    request = cross()
    task = next(t for t in request.tasks if t.holding_archive.code == "450100")
    with pytest.raises(ValidationFailed) as info:
        act(session, task, "not_found", people["holding_clerk"], {"note": "未找到", "copy": certified_copy()})
    assert set(info.value.errors) == {"copy"}
    assert task.status == "open" and task.copy_file is None


def test_a_finished_request_and_its_tasks_cannot_be_claimed(session, people, cross):
    request = cross()
    act(session, request, "withdraw", people["applicant"])
    with pytest.raises(Conflict, match="已经办结，无需认领"):
        act(session, request, "claim", people["issuing_clerk"])
    task = next(t for t in request.tasks if t.holding_archive.code == "450100")
    with pytest.raises(Conflict, match="已经办结，无需认领"):
        act(session, task, "claim", people["holding_clerk"])
