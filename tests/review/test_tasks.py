"""Verification tasks (协办任务): one per holding archive when a request is accepted, answered
verified (with a certified copy) or not found (with a note); approval waits for all of them."""
from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

import pytest
from flask import current_app
from sqlalchemy import func, select

from portal.actions import act
from portal.core.errors import Conflict, NotAllowed, UnknownAction, ValidationFailed
from portal.core import workdays
from portal.core import clock
from portal.requests import service
from portal.requests.models import RequestEvent, RequestFile, UtilizationRequest
from portal.requests.service import RequestNotFound, SearchSpec, Upload
from portal.review.models import VerificationTask
from portal.review.service import get_task
from tests import files
from tests.review.conftest import HOLDING, ISSUING, OTHER_HOLDING, certified_copy, person, stored_files


def due_in(working_days: int):
    calendar = workdays.load_calendar(current_app.config["HOLIDAYS_FILE"])
    return calendar.add_working_days(clock.china_today(), working_days)


def tasks_of(session, request_id: int) -> list[VerificationTask]:
    session.expire_all()
    return list(session.scalars(select(VerificationTask).where(VerificationTask.request_id == request_id)
                                .order_by(VerificationTask.id)))


def task_at(session, request_id: int, code: str) -> VerificationTask:
    [task] = [t for t in tasks_of(session, request_id) if t.holding_archive.code == code]
    return task


@dataclass(frozen=True)
class Snapshot:
    status: str
    version: int
    events: int
    tasks: tuple
    files: int


def snapshot(session, request_id: int) -> Snapshot:
    status, version = session.execute(select(UtilizationRequest.status, UtilizationRequest.version)
                                      .where(UtilizationRequest.id == request_id)).one()
    events = session.scalar(select(func.count()).select_from(RequestEvent).where(RequestEvent.request_id == request_id))
    tasks = tuple(session.execute(select(VerificationTask.id, VerificationTask.status, VerificationTask.version,
                                         VerificationTask.note, VerificationTask.copy_file_id)
                                  .where(VerificationTask.request_id == request_id)
                                  .order_by(VerificationTask.id)).all())
    count = session.scalar(select(func.count()).select_from(RequestFile).where(RequestFile.request_id == request_id))
    return Snapshot(status, version, events, tasks, count)


# ---- creation on accept -------------------------------------------------------------------------

def test_accepting_creates_one_open_task_per_holding_archive(session, factory, archives, people):
    applicant = people["applicant"]
    records = [factory.record(archives["issuing"], subject_name="王秀英"),
               factory.record(archives["holding"], subject_name="王秀英"),
               factory.record(archives["holding"], subject_name="王秀英", category="land_contract"),
               factory.record(archives["other_holding"], subject_name="王秀英")]
    request = factory.request(applicant, issuing=archives["issuing"], records=records)
    assert tasks_of(session, request.id) == []  # nothing before it is accepted

    act(session, request, "accept", people["issuing_clerk"])
    tasks = tasks_of(session, request.id)
    # Two records in B still make one task for B; A's own record gets the same step.
    assert sorted(t.holding_archive.code for t in tasks) == sorted([ISSUING, HOLDING, OTHER_HOLDING])
    for task in tasks:
        assert (task.status, task.note, task.copy_file_id, task.claimed_by_id, task.answered_by_id,
                task.answered_at) == ("open", "", None, None, None, None)
        assert task.due_date == due_in(4)
        assert len(task.public_id) >= 16
    assert len({t.public_id for t in tasks}) == 3
    assert len(request.tasks) == 3


def test_a_request_held_only_by_the_issuing_archive_gets_one_task_for_it(session, factory, archives, people):
    request = factory.request(people["applicant"], issuing=archives["issuing"], status="in_review")
    [task] = tasks_of(session, request.id)
    assert task.holding_archive.code == ISSUING


def test_the_due_date_follows_the_holding_archives_setting(session, archives, cross):
    archives["other_holding"].task_due_working_days = 2
    session.commit()
    request = cross()
    due = {t.holding_archive.code: t.due_date for t in tasks_of(session, request.id)}
    assert due == {ISSUING: due_in(4), HOLDING: due_in(4), OTHER_HOLDING: due_in(2)}
    assert due_in(2) < due_in(4)


def test_a_please_search_request_is_routed_to_the_archives_named(session, factory, archives, people):
    request = factory.request(people["applicant"], issuing=archives["issuing"], status="in_review",
                              search=SearchSpec(category="marriage", year_from=1980, year_to=1990,
                                                archives=[HOLDING, OTHER_HOLDING]))
    assert sorted(t.holding_archive.code for t in tasks_of(session, request.id)) == sorted([HOLDING, OTHER_HOLDING])


def test_a_please_search_request_naming_no_archive_is_searched_by_the_issuing_archive(session, factory, archives,
                                                                                       people):
    request = factory.request(people["applicant"], issuing=archives["issuing"], status="in_review",
                              search=SearchSpec(category="marriage"))
    [task] = tasks_of(session, request.id)
    assert task.holding_archive.code == ISSUING


def test_a_request_cannot_be_accepted_twice(session, people, cross):
    request = cross()
    before = snapshot(session, request.id)
    with pytest.raises(Conflict):
        act(session, request, "accept", people["issuing_clerk"])
    assert snapshot(session, request.id) == before


def test_a_supplement_round_does_not_duplicate_the_tasks(session, people, cross):
    request = cross()
    holding = task_at(session, request.id, HOLDING)
    act(session, holding, "verify", people["holding_clerk"], {"note": "已核实", "copy": certified_copy()})
    before = [(t.id, t.public_id, t.holding_archive_id, t.status) for t in tasks_of(session, request.id)]

    request = session.get(UtilizationRequest, request.id)
    act(session, request, "ask_supplement", people["issuing_reviewer"], {"note": "请补充户口簿复印件"})
    act(session, request, "resubmit", people["applicant"], {"note": "已补充"})
    assert request.status == "in_review"
    after = [(t.id, t.public_id, t.holding_archive_id, t.status) for t in tasks_of(session, request.id)]
    assert after == before
    assert [t[3] for t in after].count("verified") == 1


# ---- approval waits for every answer ------------------------------------------------------------

def test_approval_waits_for_every_holding_archive(session, people, cross):
    request = cross()
    reviewer = people["issuing_reviewer"]

    before = snapshot(session, request.id)
    with pytest.raises(Conflict) as info:
        act(session, request, "approve", reviewer)
    # In the order the tasks were made: by archive code.
    assert str(info.value) == "还在等待馆藏馆核实：南宁市档案馆、柳州市档案馆、河池市档案馆"
    assert not session.new and not session.dirty
    assert snapshot(session, request.id) == before

    act(session, task_at(session, request.id, HOLDING), "verify", people["holding_clerk"],
        {"note": "", "copy": certified_copy()})
    act(session, task_at(session, request.id, OTHER_HOLDING), "not_found", people["other_holding_clerk"],
        {"note": "查阅 1980—1990 年婚姻登记档案，未见"})
    request = session.get(UtilizationRequest, request.id)
    with pytest.raises(Conflict) as info:
        act(session, request, "approve", reviewer)
    assert str(info.value) == "还在等待馆藏馆核实：河池市档案馆"
    assert snapshot(session, request.id).status == "in_review"

    act(session, task_at(session, request.id, ISSUING), "verify", people["issuing_clerk"],
        {"note": "本馆已核实", "copy": certified_copy(files.png_bytes(), "核实件.png")})
    request = session.get(UtilizationRequest, request.id)
    event = act(session, request, "approve", reviewer).event
    assert (event.action, event.from_status, event.to_status) == ("approve", "in_review", "approved")
    assert snapshot(session, request.id).status == "approved"


def test_not_found_everywhere_still_lets_the_issuing_archive_decide(session, people, cross):
    request = cross()
    for code, who in ((ISSUING, "issuing_clerk"), (HOLDING, "holding_clerk"), (OTHER_HOLDING, "other_holding_clerk")):
        act(session, task_at(session, request.id, code), "not_found", people[who], {"note": "未找到"})
    request = session.get(UtilizationRequest, request.id)
    act(session, request, "reject", people["issuing_reviewer"], {"reason": "not_held", "note": "各馆均未保存所申请的档案"})
    assert snapshot(session, request.id).status == "rejected"


# ---- answering ----------------------------------------------------------------------------------

def test_verify_needs_a_copy(app, session, people, cross):
    request = cross()
    task = task_at(session, request.id, HOLDING)
    before = snapshot(session, request.id)
    with pytest.raises(ValidationFailed) as info:
        act(session, task, "verify", people["holding_clerk"], {"note": "已核实"})
    assert {k: str(v) for k, v in info.value.errors.items()} == {"copy": "请上传核实后的档案复制件（PDF、JPG 或 PNG）"}
    assert snapshot(session, request.id) == before
    assert stored_files(app) == []


@pytest.mark.parametrize(("data", "name"), [(files.fake_pdf_bytes(), "核实件.pdf"), (files.text_bytes(), "核实件.pdf"),
                                            (files.html_bytes(), "核实件.png"), (b"", "核实件.pdf")])
def test_a_copy_that_is_not_a_real_pdf_or_image_is_refused(app, session, people, cross, data, name):
    request = cross()
    task = task_at(session, request.id, HOLDING)
    before = snapshot(session, request.id)
    with pytest.raises(ValidationFailed) as info:
        act(session, task, "verify", people["holding_clerk"], {"note": "已核实", "copy": certified_copy(data, name)})
    assert list(info.value.errors) == ["copy"]
    assert "核实件" in str(info.value.errors["copy"])
    assert snapshot(session, request.id) == before
    assert stored_files(app) == []


@pytest.mark.parametrize("note", ["", "  \n\t"])
def test_not_found_needs_a_note(session, people, cross, note):
    request = cross()
    task = task_at(session, request.id, HOLDING)
    before = snapshot(session, request.id)
    with pytest.raises(ValidationFailed) as info:
        act(session, task, "not_found", people["holding_clerk"], {"note": note})
    assert {k: str(v) for k, v in info.value.errors.items()} == {"note": "请说明查找了哪些范围"}
    assert snapshot(session, request.id) == before


def test_a_note_over_2000_characters_is_refused(session, people, cross):
    request = cross()
    task = task_at(session, request.id, HOLDING)
    with pytest.raises(ValidationFailed) as info:
        act(session, task, "not_found", people["holding_clerk"], {"note": "查" * 2001})
    assert list(info.value.errors) == ["note"]
    act(session, task, "not_found", people["holding_clerk"], {"note": "查" * 2000})
    assert task_at(session, request.id, HOLDING).note == "查" * 2000


def test_an_unknown_task_action_is_refused(session, people, cross):
    request = cross()
    with pytest.raises(UnknownAction):
        act(session, task_at(session, request.id, HOLDING), "approve", people["holding_clerk"], {"note": "x"})


def test_verify_stores_the_copy_and_writes_the_timeline(app, session, people, cross):
    request = cross()
    clerk = people["holding_clerk"]
    task = task_at(session, request.id, HOLDING)
    task_version = task.version
    pdf = files.pdf_bytes(text="certified")
    before = snapshot(session, request.id)

    act(session, task, "verify", clerk, {"note": "  已调卷核实，复制件见附件 ", "copy": certified_copy(pdf, "J001-1985-0001.pdf")})
    session.expire_all()
    task = task_at(session, request.id, HOLDING)
    assert (task.status, task.note, task.answered_by_id) == ("verified", "已调卷核实，复制件见附件", clerk.id)
    assert task.answered_at is not None and task.version == task_version + 1
    copy = task.copy_file
    assert (copy.kind, copy.request_id, copy.owner_id, copy.original_name, copy.content_type, copy.size) == (
        "certified_copy", request.id, clerk.id, "J001-1985-0001.pdf", "application/pdf", len(pdf))
    [on_disk] = stored_files(app)
    assert on_disk.read_bytes() == pdf

    after = snapshot(session, request.id)
    # The request itself does not move: same status, same version; one event more.
    assert (after.status, after.version, after.events, after.files) == (
        "in_review", before.version, before.events + 1, before.files + 1)
    event = session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id)
                            .order_by(RequestEvent.id.desc()).limit(1)).one()
    assert (event.action, event.actor_id, event.actor_role, event.from_status, event.to_status) == (
        "verify", clerk.id, "clerk", "in_review", "in_review")
    assert event.note == "南宁市档案馆：已调卷核实，复制件见附件"


def test_verify_without_a_note_names_the_archive_only(session, people, cross):
    request = cross()
    act(session, task_at(session, request.id, HOLDING), "verify", people["holding_clerk"],
        {"note": "", "copy": certified_copy(files.jpeg_bytes(), "scan.jpg")})
    event = session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id)
                            .order_by(RequestEvent.id.desc()).limit(1)).one()
    assert (event.action, event.note) == ("verify", "南宁市档案馆")
    assert task_at(session, request.id, HOLDING).copy_file.content_type == "image/jpeg"


def test_not_found_writes_the_timeline_without_a_file(app, session, people, cross):
    request = cross()
    clerk = people["other_holding_clerk"]
    act(session, task_at(session, request.id, OTHER_HOLDING), "not_found", clerk, {"note": "查阅 1985 年婚姻登记档案，未见"})
    task = task_at(session, request.id, OTHER_HOLDING)
    assert (task.status, task.copy_file_id, task.answered_by_id) == ("not_found", None, clerk.id)
    event = session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id)
                            .order_by(RequestEvent.id.desc()).limit(1)).one()
    assert (event.action, event.actor_id, event.from_status, event.to_status) == (
        "not_found", clerk.id, "in_review", "in_review")
    assert event.note == "柳州市档案馆：查阅 1985 年婚姻登记档案，未见"
    assert stored_files(app) == []


def test_not_found_takes_no_copy(app, session, people, cross):
    request = cross()
    before = snapshot(session, request.id)
    with pytest.raises(ValidationFailed) as info:
        act(session, task_at(session, request.id, HOLDING), "not_found", people["holding_clerk"],
            {"note": "未找到", "copy": certified_copy()})
    assert {k: str(v) for k, v in info.value.errors.items()} == {"copy": "报告未找到时不附复制件"}
    assert snapshot(session, request.id) == before
    assert stored_files(app) == []


def test_the_certified_copy_reaches_staff_but_not_the_applicant(session, people, cross):
    request = cross()
    act(session, task_at(session, request.id, HOLDING), "verify", people["holding_clerk"],
        {"note": "", "copy": certified_copy()})
    copy = task_at(session, request.id, HOLDING).copy_file
    with pytest.raises(RequestNotFound):
        service.get_file(session, people["applicant"], request.number, copy.public_id)
    for who in ("issuing_clerk", "issuing_reviewer", "holding_clerk", "other_holding_clerk", "admin"):
        assert service.get_file(session, people[who], request.number, copy.public_id).id == copy.id
    for who in ("other_citizen", "unrelated_clerk"):
        with pytest.raises(RequestNotFound):
            service.get_file(session, people[who], request.number, copy.public_id)


def test_a_task_of_a_withdrawn_request_cannot_be_answered(app, session, people, cross):
    request = cross()
    act(session, request, "withdraw", people["applicant"])
    before = snapshot(session, request.id)
    task = task_at(session, request.id, HOLDING)
    for action, note in (("verify", ""), ("not_found", "未找到")):
        with pytest.raises(Conflict) as info:
            act(session, task, action, people["holding_clerk"], {"note": note, "copy": certified_copy()})
        assert str(info.value) == "申请已撤回或不予通过，这项协办任务已取消"
    assert snapshot(session, request.id) == before
    assert stored_files(app) == []


def test_a_task_waits_while_the_citizen_supplements(session, people, cross):
    """The tasks tab lists tasks of requests in review only; answering in between is refused alike."""
    request = cross("needs_supplement")
    with pytest.raises(Conflict):
        act(session, task_at(session, request.id, HOLDING), "not_found", people["holding_clerk"], {"note": "未找到"})


def test_a_task_cannot_be_answered_twice(app, session, people, cross):
    request = cross()
    act(session, task_at(session, request.id, HOLDING), "verify", people["holding_clerk"],
        {"note": "", "copy": certified_copy()})
    before = snapshot(session, request.id)
    for action, who in (("verify", "holding_clerk"), ("not_found", "holding_clerk2")):
        task = task_at(session, request.id, HOLDING)
        with pytest.raises(Conflict) as info:
            act(session, task, action, people[who], {"note": "又找了一遍", "copy": certified_copy()})
        assert str(info.value) == "这项协办任务已由郑强处理"
    assert snapshot(session, request.id) == before
    assert len(stored_files(app)) == 1


def test_a_stale_expected_version_is_a_conflict(session, people, cross):
    request = cross()
    task = task_at(session, request.id, HOLDING)
    with pytest.raises(Conflict):
        act(session, task, "not_found", people["holding_clerk"], {"note": "未找到", "version": task.version + 1})
    act(session, task, "not_found", people["holding_clerk"], {"note": "未找到", "version": task.version})
    assert task_at(session, request.id, HOLDING).status == "not_found"


@pytest.mark.parametrize("who", ["issuing_clerk", "issuing_reviewer", "holding_reviewer", "other_holding_clerk",
                                 "unrelated_clerk", "admin", "applicant", "other_citizen", "anonymous",
                                 "anonymous_session"])
def test_only_a_clerk_of_the_holding_archive_answers(session, people, cross, who):
    request = cross()
    task = task_at(session, request.id, HOLDING)
    before = snapshot(session, request.id)
    for action in ("verify", "not_found"):
        with pytest.raises(NotAllowed):
            act(session, task, action, person(people, who), {"note": "未找到", "copy": certified_copy()})
    assert snapshot(session, request.id) == before


# ---- reading a task ------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["issuing_clerk", "issuing_reviewer", "holding_clerk", "holding_reviewer", "admin"])
def test_get_task_for_the_staff_of_both_sides(session, people, cross, who):
    request = cross()
    task = task_at(session, request.id, HOLDING)
    assert get_task(session, people[who], task.public_id).id == task.id


@pytest.mark.parametrize("who", ["other_holding_clerk", "unrelated_clerk", "applicant", "other_citizen"])
def test_get_task_is_not_found_for_everyone_else(session, people, cross, who):
    request = cross()
    task = task_at(session, request.id, HOLDING)
    with pytest.raises(LookupError):
        get_task(session, people[who], task.public_id)
    with pytest.raises(LookupError):
        get_task(session, people["admin"], "no-such-task")


@pytest.mark.parametrize("who", ["anonymous", "anonymous_session"])
def test_get_task_is_not_found_for_anonymous_visitors(session, people, cross, who):
    request = cross()
    task = task_at(session, request.id, HOLDING)
    with pytest.raises(LookupError):
        get_task(session, person(people, who), task.public_id)


def test_the_factory_walk_to_approved_answers_every_task(session, cross):
    request = cross("approved")
    assert {t.status for t in tasks_of(session, request.id)} == {"verified"}
    copies = session.scalars(select(RequestFile).where(RequestFile.request_id == request.id,
                                                       RequestFile.kind == "certified_copy")).all()
    assert len(copies) == 3


def test_an_upload_object_kind_is_ignored_for_the_copy(session, people, cross):
    """Whatever kind the caller labels the upload, the stored row is a certified copy."""
    request = cross()
    act(session, task_at(session, request.id, HOLDING), "verify", people["holding_clerk"],
        {"note": "", "copy": Upload("supplement", "x.pdf", BytesIO(files.pdf_bytes()))})
    assert task_at(session, request.id, HOLDING).copy_file.kind == "certified_copy"
