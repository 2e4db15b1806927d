"""After applying: who may see a request and its files, the applicant's own steps (resubmit,
withdraw), and the audit trail of staff downloads."""
from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.actions import act
from portal.audit.models import AuditLog
from portal.core.errors import Conflict, NotAllowed, ValidationFailed
from portal.db import db
from portal.mail.models import MailOutbox
from portal.core import clock, workdays
from portal.requests import service
from portal.requests.models import RequestEvent, RequestFile, UtilizationRequest
from portal.requests.service import RequestNotFound, Upload
from tests import files

FIXED_TODAY = date(2026, 9, 30)


@pytest.fixture
def archives(factory):
    return {"issuing": factory.archive(code="451200", name="河池市档案馆"),
            "holding": factory.archive(code="450100", name="南宁市档案馆", region="南宁市"),
            "unrelated": factory.archive(code="450300", name="桂林市档案馆", region="桂林市")}


@pytest.fixture
def people(factory, archives):
    return {
        "applicant": factory.user(name="王秀英", email="wang@example.cn"),
        "other_citizen": factory.user(name="王秀英"),
        "issuing_clerk": factory.user("clerk", archive=archives["issuing"]),
        "issuing_reviewer": factory.user("reviewer", archive=archives["issuing"]),
        "holding_clerk": factory.user("clerk", archive=archives["holding"]),
        "holding_reviewer": factory.user("reviewer", archive=archives["holding"]),
        "unrelated_clerk": factory.user("clerk", archive=archives["unrelated"]),
        "unrelated_reviewer": factory.user("reviewer", archive=archives["unrelated"]),
        "admin": factory.user("admin"),
    }


@pytest.fixture
def cross(factory, archives, people):
    """Applied at the issuing archive for a record the holding archive keeps, with one proof attached."""
    record = factory.record(archives["holding"], subject_name="王秀英")
    return factory.request(people["applicant"], issuing=archives["issuing"], records=[record],
                           uploads=[Upload("supplement", "说明.pdf", BytesIO(files.pdf_bytes()))])


CAN_VIEW = {"applicant", "issuing_clerk", "issuing_reviewer", "holding_clerk", "holding_reviewer", "admin"}
CANNOT_VIEW = {"other_citizen", "unrelated_clerk", "unrelated_reviewer", "anonymous", "anonymous_session"}


def person(people, who):
    if who == "anonymous":
        return None
    return AnonymousUserMixin() if who == "anonymous_session" else people[who]


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def audit_downloads(session) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).where(AuditLog.action == "download_file").order_by(AuditLog.id)))


def test_the_expectation_names_every_viewer():
    assert len(CAN_VIEW | CANNOT_VIEW) == 11 and not CAN_VIEW & CANNOT_VIEW


@pytest.mark.parametrize("who", sorted(CAN_VIEW))
def test_those_involved_can_view_the_request(session, people, cross, who):
    assert service.get_request(session, person(people, who), cross.number).id == cross.id


@pytest.mark.parametrize("who", sorted(CANNOT_VIEW))
def test_everyone_else_gets_not_found(session, people, cross, who):
    with pytest.raises(RequestNotFound):
        service.get_request(session, person(people, who), cross.number)


def test_an_unknown_number_is_not_found_even_for_an_admin(session, people, cross):
    with pytest.raises(RequestNotFound):
        service.get_request(session, people["admin"], "451200-2026-999999")


def test_staff_of_an_archive_asked_to_search_can_view(session, factory, archives, people):
    request, _ = service.submit(session, people["applicant"], service.Application(
        relation="self", search=service.SearchSpec(category="marriage", archives=["450300"]), purpose="household",
        issuing_archive="451200", delivery="pickup", consent=True))
    assert service.get_request(session, people["unrelated_clerk"], request.number).id == request.id
    with pytest.raises(RequestNotFound):
        service.get_request(session, people["holding_clerk"], request.number)


# ---- files --------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", sorted(CAN_VIEW - {"applicant"}))
def test_a_staff_download_is_written_to_the_audit_log(session, people, cross, who):
    [proof] = cross.files
    found = service.get_file(session, person(people, who), cross.number, proof.public_id, ip="10.0.0.7")
    assert found.id == proof.id
    session.expire_all()
    [entry] = audit_downloads(session)
    viewer = people[who]
    assert (entry.actor_id, entry.actor_role, entry.object_type, entry.object_id, entry.ip) == (
        viewer.id, viewer.role, "request", cross.number, "10.0.0.7")
    assert entry.details == {"file": proof.public_id, "kind": "supplement"}


def test_the_applicant_downloads_their_own_file_without_an_audit_entry(session, people, cross):
    [proof] = cross.files
    assert service.get_file(session, people["applicant"], cross.number, proof.public_id).id == proof.id
    assert audit_downloads(session) == []


@pytest.mark.parametrize("who", sorted(CANNOT_VIEW))
def test_others_cannot_download_and_nothing_is_logged(session, people, cross, who):
    [proof] = cross.files
    with pytest.raises(RequestNotFound):
        service.get_file(session, person(people, who), cross.number, proof.public_id)
    assert audit_downloads(session) == []


def test_a_file_of_another_request_or_a_draft_is_not_found(session, factory, people, archives, cross):
    applicant = people["applicant"]
    second = factory.request(applicant, issuing=archives["issuing"],
                             uploads=[Upload("supplement", "另一份.pdf", BytesIO(files.pdf_bytes()))])
    [other_file] = second.files
    with pytest.raises(service.ApplicationInvalid) as info:
        service.submit(session, applicant, service.Application(relation="relative"),
                       [Upload("relationship_proof", "户口簿.pdf", BytesIO(files.pdf_bytes()))], keep_drafts=True)
    [draft] = info.value.kept
    for public_id in (other_file.public_id, draft.public_id, "no-such-file"):
        for viewer in (applicant, people["issuing_clerk"], people["admin"]):
            with pytest.raises(RequestNotFound):
                service.get_file(session, viewer, cross.number, public_id)
    assert audit_downloads(session) == []


# ---- resubmit -----------------------------------------------------------------------------------

@pytest.fixture
def waiting(session, factory, archives, people, monkeypatch):
    """A request the archive sent back for more material; its promised date long past."""
    request = factory.request(people["applicant"], issuing=archives["issuing"], status="needs_supplement")
    table = UtilizationRequest.__table__
    session.execute(table.update().where(table.c.id == request.id).values(due_date=date(2026, 1, 5)))
    session.commit()
    session.expire_all()
    monkeypatch.setattr(clock, "china_today", lambda: FIXED_TODAY)
    return session.get(UtilizationRequest, request.id)


def _state(session, request_id):
    session.expire_all()
    request = session.get(UtilizationRequest, request_id)
    return (request.status, request.version, request.due_date, len(request.events),
            session.scalar(select(func.count()).select_from(RequestFile)),
            session.scalar(select(func.count()).select_from(MailOutbox)))


def test_supplement_asked_is_the_archives_question(session, waiting):
    assert service.supplement_asked(waiting) == "请补充户口簿复印件"


@pytest.mark.parametrize("note", ["", "  \n "])
def test_resubmit_with_neither_note_nor_file_is_refused(app, session, people, waiting, note):
    before = _state(session, waiting.id)
    with pytest.raises(ValidationFailed) as info:
        act(session, waiting, "resubmit", people["applicant"], {"note": note})
    assert {k: str(v) for k, v in info.value.errors.items()} == {"note": "请填写补充说明，或者上传补充材料"}
    assert _state(session, waiting.id) == before
    assert stored_files(app) == []


def test_resubmit_with_a_file_attaches_it_to_the_event_and_restarts_the_due_date(app, session, people, waiting):
    scan = files.jpeg_bytes()
    mails = session.scalar(select(func.count()).select_from(MailOutbox))
    event = act(session, waiting, "resubmit", people["applicant"],
                {"note": "", "files": [Upload("supplement", "户口簿.jpg", BytesIO(scan))],
                 "version": waiting.version}).event
    session.expire_all()
    request = session.get(UtilizationRequest, waiting.id)
    assert (request.status, request.version) == ("in_review", 4)
    assert request.due_date == date(2026, 10, 13)  # 5 working days from 30 September again
    assert (event.action, event.actor_role, event.from_status, event.to_status, event.note) == (
        "resubmit", "applicant", "needs_supplement", "in_review", "")
    [attached] = session.scalars(select(RequestFile)).all()
    assert (attached.request_id, attached.event_id, attached.kind, attached.owner_id, attached.original_name) == (
        request.id, event.id, "supplement", people["applicant"].id, "户口簿.jpg")
    [on_disk] = stored_files(app)
    assert on_disk.read_bytes() == scan
    assert service.supplement_asked(request) is None
    # The applicant did it themselves: no email about it.
    assert session.scalar(select(func.count()).select_from(MailOutbox)) == mails


def test_resubmit_with_a_note_only(session, people, waiting):
    act(session, waiting, "resubmit", people["applicant"], {"note": "户口簿已于 10 月 8 日寄出"})
    session.expire_all()
    request = session.get(UtilizationRequest, waiting.id)
    assert (request.status, request.version, request.due_date) == ("in_review", 4, date(2026, 10, 13))
    assert request.events[-1].note == "户口簿已于 10 月 8 日寄出" and request.files == []


def test_resubmit_with_a_broken_file_is_refused_by_its_name(app, session, people, waiting):
    before = _state(session, waiting.id)
    with pytest.raises(ValidationFailed) as info:
        act(session, waiting, "resubmit", people["applicant"],
            {"note": "见附件", "files": [Upload("supplement", "扫描件.png", BytesIO(files.corrupt_png_bytes()))]})
    assert {k: str(v) for k, v in info.value.errors.items()} == {"supplement": "“扫描件.png”已损坏或无法打开"}
    assert _state(session, waiting.id) == before and stored_files(app) == []


def test_resubmit_by_someone_else_or_in_the_wrong_state_stores_nothing(app, session, people, waiting):
    def scan():
        return [Upload("supplement", "户口簿.pdf", BytesIO(files.pdf_bytes()))]

    before = _state(session, waiting.id)
    with pytest.raises(NotAllowed):
        act(session, waiting, "resubmit", people["other_citizen"], {"note": "见附件", "files": scan()})
    with pytest.raises(NotAllowed):
        act(session, waiting, "resubmit", people["issuing_clerk"], {"note": "见附件", "files": scan()})
    with pytest.raises(Conflict):
        act(session, waiting, "resubmit", people["applicant"], {"note": "见附件", "files": scan(), "version": 1})
    assert _state(session, waiting.id) == before and stored_files(app) == []

    act(session, waiting, "withdraw", people["applicant"])
    with pytest.raises(Conflict):
        act(session, waiting, "resubmit", people["applicant"], {"note": "见附件", "files": scan()})
    assert stored_files(app) == []


def test_resubmit_racing_a_withdrawal_in_another_session_stores_nothing(app, session, people, waiting):
    with Session(db.engine, expire_on_commit=False) as other:
        stale = other.get(UtilizationRequest, waiting.id)
        act(session, waiting, "withdraw", people["applicant"])
        with pytest.raises(Conflict):
            act(other, stale, "resubmit", people["applicant"],
                {"note": "见附件", "files": [Upload("supplement", "户口簿.pdf", BytesIO(files.pdf_bytes()))]})
        assert stale.status == "withdrawn"
    session.expire_all()
    assert [e.action for e in session.get(UtilizationRequest, waiting.id).events] == [
        "submit", "accept", "ask_supplement", "withdraw"]
    assert session.scalar(select(func.count()).select_from(RequestFile)) == 0
    assert stored_files(app) == []


# ---- withdraw -----------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["approved", "issued", "rejected", "withdrawn"])
def test_withdraw_after_approval_or_the_end_is_a_conflict(session, factory, archives, people, status):
    request = factory.request(people["applicant"], issuing=archives["issuing"], status=status)
    before = _state(session, request.id)
    with pytest.raises(Conflict):
        act(session, request, "withdraw", people["applicant"], {"note": "不需要了"})
    assert _state(session, request.id) == before


def test_withdraw_before_approval_ends_it_with_the_reason(session, factory, archives, people):
    request = factory.request(people["applicant"], issuing=archives["issuing"], status="in_review")
    event = act(session, request, "withdraw", people["applicant"], {"note": "  已在窗口办理  ", "version": 2}).event
    session.expire_all()
    stored = session.get(UtilizationRequest, request.id)
    assert (stored.status, stored.version, stored.is_open) == ("withdrawn", 3, False)
    assert (event.action, event.from_status, event.note) == ("withdraw", "in_review", "已在窗口办理")
    with pytest.raises(NotAllowed):
        act(session, stored, "withdraw", people["other_citizen"])


def test_an_applicant_sees_their_requests_newest_first(session, factory, archives, people):
    first = factory.request(people["applicant"], issuing=archives["issuing"])
    second = factory.request(people["applicant"], issuing=archives["holding"])
    factory.request(people["other_citizen"], issuing=archives["issuing"])
    assert [r.number for r in service.requests_of(session, people["applicant"])] == [second.number, first.number]
    assert session.scalar(select(func.count()).select_from(RequestEvent)) == 3
