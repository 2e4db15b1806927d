"""Open appraisal (开放鉴定) through the one dispatcher: the proposal and its 25-year boundary, three
different people, opinions per record and in bulk, and a decision that opens records, queues them
for the index and writes the audit log in one transaction."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.actions import act, allowed
from portal.appraisal import service
from portal.appraisal.models import AppraisalBatch, AppraisalItem, AppraisalOpinion
from portal.audit.models import AuditLog
from portal.catalog.indexing import get_index, sync_outbox
from portal.catalog.models import Record
from portal.catalog.outbox import SearchOutbox
from portal.core.clock import china_today
from portal.core.errors import Conflict, NotAllowed, ValidationFailed
from portal.db import db

AS_OF = date(2026, 12, 6)
LATER = (china_today() + timedelta(days=365)).isoformat()


@pytest.fixture
def archive(factory):
    return factory.archive("451200", "河池市档案馆")


@pytest.fixture
def people(factory, archive):
    return {"admin": factory.user("archive_admin", archive=archive, name="王馆长"),
            "first": factory.user("reviewer", archive=archive, name="李初审"),
            "second": factory.user("reviewer", archive=archive, name="赵复审")}


def _dated(factory, archive, year, month=None, day=None, **more):
    record = factory.record(archive, year=year, access_level=more.pop("access_level", "closed"), **more)
    record.event_month, record.event_day = month, day
    factory.session.commit()
    return record


def _ids(session, proposal):
    return set(session.scalars(select(Record.reference_code).where(*service.due_conditions(
        session.scalar(select(Record.archive_id).limit(1)), proposal))))


def test_the_proposal_counts_25_years_to_the_day_china_time(session, factory, archive):
    _dated(factory, archive, 2001, 12, 6, reference_code="exactly-25")
    _dated(factory, archive, 2001, 12, 7, reference_code="a-day-short")
    _dated(factory, archive, 2001, reference_code="year-only-2001")      # could be 31 Dec: not yet
    _dated(factory, archive, 2000, reference_code="year-only-2000")
    _dated(factory, archive, 2001, 11, reference_code="november-2001")    # by 30 Nov at the latest
    _dated(factory, archive, 1990, access_level="open", reference_code="already-open")
    _dated(factory, archive, 1990, access_level="restricted", reference_code="restricted-1990")
    assert _ids(session, service.Proposal(as_of=AS_OF)) == {"exactly-25", "year-only-2000", "november-2001",
                                                           "restricted-1990"}
    assert _ids(session, service.Proposal(as_of=AS_OF + timedelta(days=1))) >= {"a-day-short"}
    assert _ids(session, service.Proposal(as_of=AS_OF, year_from=1995)) == {"exactly-25", "year-only-2000",
                                                                           "november-2001"}
    assert _ids(session, service.Proposal(as_of=AS_OF, year_to=1995, category="marriage")) == {"restricted-1990"}


def test_the_due_command_counts_what_the_catalog_holds(app, session, factory, archive):
    for year, category in ((1980, "marriage"), (1981, "marriage"), (1990, "housing"), (2010, "housing")):
        factory.record(archive, year=year, category=category, access_level="closed")
    factory.record(archive, year=1970, category="housing", access_level="open")
    result = app.test_cli_runner().invoke(args=["appraisal", "due", "--archive", "451200", "--as-of", "2026-12-06"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    expected = session.scalar(select(func.count()).select_from(Record).where(
        Record.access_level != "open", Record.event_year <= 2001))
    assert lines[0].endswith(f": {expected}") and expected == 3
    assert lines[1:] == ["housing\t1\t房改房产", "marriage\t2\t婚姻登记"]
    unknown = app.test_cli_runner().invoke(args=["appraisal", "due", "--archive", "999999"])
    assert unknown.exit_code == 2


def _batch(session, factory, archive, people, n=3, **proposal):
    for i in range(n):
        factory.record(archive, year=1980 + i, category="marriage" if i % 2 == 0 else "housing",
                       access_level="closed", title=f"张三婚姻登记表 {i}", subject_name="张三")
    return service.create_batch(session, archive, people["admin"], service.Proposal(**proposal))


def _run_stage(session, batch, actor, action, decision="open", **more):
    act(session, batch, "decide", actor, {"every": True, "decision": decision, "version": batch.version, **more})
    return act(session, batch, action, actor, {"version": batch.version})


def test_a_batch_snapshots_its_records_and_needs_records(session, factory, archive, people):
    batch = _batch(session, factory, archive, people)
    assert batch.number == 1 and batch.status == "first_review"
    assert session.scalar(select(func.count()).select_from(AppraisalItem)) == 3
    with pytest.raises(ValidationFailed):  # all three are in a batch under way now
        service.create_batch(session, archive, people["admin"], service.Proposal())
    with pytest.raises(ValidationFailed) as raised:
        service.create_batch(session, archive, people["admin"], service.Proposal(year_from=1990, year_to=1980))
    assert "year_to" in raised.value.errors


def test_three_different_people_take_the_three_stages(session, factory, archive, people):
    batch = _batch(session, factory, archive, people)
    _run_stage(session, batch, people["first"], "appraise_first")
    with pytest.raises(Conflict) as raised:  # the same person cannot review twice
        act(session, batch, "decide", people["first"], {"every": True, "decision": "open", "version": batch.version})
    assert "同一人不能参加同一批次的两个阶段" in str(raised.value.message)
    _run_stage(session, batch, people["second"], "appraise_second", decision="follow")
    for who in ("first", "second"):
        with pytest.raises(Conflict):
            act(session, batch, "decide", people[who], {"every": True, "decision": "open", "version": batch.version})
    acting = _run_stage(session, batch, people["admin"], "appraise_decide")
    assert batch.status == "decided" and batch.decided_on == china_today() and len(acting.result) == 3
    assert (batch.first_reviewer_id, batch.second_reviewer_id, batch.final_reviewer_id) == (
        people["first"].id, people["second"].id, people["admin"].id)


def test_a_stage_taken_by_one_person_is_not_anothers(session, factory, archive, people):
    batch = _batch(session, factory, archive, people)
    act(session, batch, "decide", people["first"], {"every": True, "decision": "keep", "version": batch.version})
    with pytest.raises(Conflict) as raised:
        act(session, batch, "appraise_first", people["second"], {"version": batch.version})
    assert "已由另一人开始进行" in str(raised.value.message)


def test_every_item_needs_an_opinion_before_the_stage_ends(session, factory, archive, people):
    batch = _batch(session, factory, archive, people)
    items = session.scalars(select(AppraisalItem).order_by(AppraisalItem.id)).all()
    act(session, batch, "decide", people["first"], {"items": [items[0].id], "decision": "open", "version": batch.version})
    with pytest.raises(Conflict) as raised:
        act(session, batch, "appraise_first", people["first"], {"version": batch.version})
    assert "还有 2 条档案没有初审意见" in str(raised.value.message)
    act(session, batch, "decide", people["first"], {"category": "marriage", "decision": "keep", "version": batch.version})
    act(session, batch, "decide", people["first"], {"items": [items[1].id], "decision": "postponed", "reason": "涉及个人隐私",
                                                    "review_on": LATER, "version": batch.version})
    act(session, batch, "appraise_first", people["first"], {"version": batch.version})
    opinions = {o.item_id: o.decision for o in session.scalars(select(AppraisalOpinion))}
    assert opinions == {items[0].id: "keep", items[1].id: "postponed", items[2].id: "keep"}


@pytest.mark.parametrize("inputs, field", [
    ({"decision": "postponed", "review_on": LATER}, "reason"),
    ({"decision": "postponed", "reason": "涉及个人隐私"}, "review_on"),
    ({"decision": "postponed", "reason": "涉及个人隐私", "review_on": "2020-01-01"}, "review_on"),
    ({"decision": "whatever"}, "decision"),
    ({"decision": "open", "every": False}, "items"),
])
def test_postponing_needs_a_reason_and_a_later_date(session, factory, archive, people, inputs, field):
    batch = _batch(session, factory, archive, people, n=1)
    with pytest.raises(ValidationFailed) as raised:
        act(session, batch, "decide", people["first"], {"every": True, **inputs, "version": batch.version})
    assert field in raised.value.errors
    assert session.scalar(select(func.count()).select_from(AppraisalOpinion)) == 0


def test_items_of_another_batch_are_refused(session, factory, archive, people):
    batch = _batch(session, factory, archive, people, n=1)
    with pytest.raises(ValidationFailed):
        act(session, batch, "decide", people["first"], {"items": [999_999], "decision": "open", "version": batch.version})


def _through_second(session, factory, archive, people, n=3):
    batch = _batch(session, factory, archive, people, n=n)
    _run_stage(session, batch, people["first"], "appraise_first")
    _run_stage(session, batch, people["second"], "appraise_second")
    return batch


def test_the_decision_opens_records_queues_them_and_is_audited(session, factory, archive, people):
    batch = _through_second(session, factory, archive, people)
    items = session.scalars(select(AppraisalItem).order_by(AppraisalItem.id)).all()
    act(session, batch, "decide", people["admin"], {"every": True, "decision": "open", "version": batch.version})
    act(session, batch, "decide", people["admin"], {"items": [items[2].id], "decision": "postponed", "reason": "尚涉及隐私",
                                                    "review_on": LATER, "version": batch.version})
    session.execute(SearchOutbox.__table__.delete())
    session.commit()
    act(session, batch, "appraise_decide", people["admin"], {"version": batch.version})
    levels = {r.id: r.access_level for r in session.scalars(select(Record))}
    assert [levels[i.record_id] for i in items] == ["open", "open", "closed"]
    assert sorted(session.scalars(select(SearchOutbox.record_id))) == sorted(i.record_id for i in items[:2])
    opened = session.scalars(select(AuditLog.object_id).where(AuditLog.action == "record.open")).all()
    assert sorted(opened) == sorted(str(i.record_id) for i in items[:2])
    assert session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "appraisal.appraise_decide")) == 1
    # the postponed record is not proposed again before its date
    assert items[2].record_id not in {r.id for r in service.preview(session, archive.id, service.Proposal())}


def test_a_failing_decision_leaves_everything_as_it_was(session, factory, archive, people):
    batch = _through_second(session, factory, archive, people)
    act(session, batch, "decide", people["admin"], {"every": True, "decision": "open", "version": batch.version})
    audits = session.scalar(select(func.count()).select_from(AuditLog))
    postgres = session.get_bind().dialect.name == "postgresql"
    # The search outbox refuses rows (a real database failure, in the middle of the step).
    if postgres:
        session.execute(text("CREATE FUNCTION refuse_outbox() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'outbox down'; "
                             "END $$ LANGUAGE plpgsql"))
        session.execute(text("CREATE TRIGGER refuse_outbox BEFORE INSERT ON search_outbox FOR EACH ROW "
                             "EXECUTE FUNCTION refuse_outbox()"))
    else:
        session.execute(text("CREATE TRIGGER refuse_outbox BEFORE INSERT ON search_outbox "
                             "BEGIN SELECT RAISE(ABORT, 'outbox down'); END"))
    session.commit()
    try:
        with pytest.raises(Exception, match="outbox down"):
            act(session, batch, "appraise_decide", people["admin"], {"version": batch.version})
    finally:
        session.execute(text("DROP TRIGGER refuse_outbox" + (" ON search_outbox" if postgres else "")))
        if postgres:
            session.execute(text("DROP FUNCTION refuse_outbox()"))
        session.commit()
    session.expire_all()
    assert session.get(AppraisalBatch, batch.id).status == "decision"
    assert set(session.scalars(select(Record.access_level))) == {"closed"}
    assert session.scalar(select(func.count()).select_from(AuditLog)) == audits


def test_opened_records_reach_public_search(session, factory, archive, people, client):
    batch = _through_second(session, factory, archive, people, n=2)
    sync_outbox(session, get_index())
    assert client.get("/api/v1/search?q=婚姻登记表").get_json()["total"] == 0
    _run_stage(session, batch, people["admin"], "appraise_decide")
    sync_outbox(session, get_index())
    found = client.get("/api/v1/search?q=婚姻登记表").get_json()
    assert found["total"] == 2
    assert "张三" not in str(found)  # the public sees the name masked


def test_two_stage_actions_at_once_one_gets_a_conflict(app, session, factory, archive, people):
    batch = _batch(session, factory, archive, people)
    act(session, batch, "decide", people["first"], {"every": True, "decision": "open", "version": batch.version})
    with Session(db.engine, expire_on_commit=False) as other:
        stale = other.get(AppraisalBatch, batch.id)
        act(session, batch, "appraise_first", people["first"], {})
        with pytest.raises(Conflict) as raised:
            act(other, stale, "cancel", people["admin"], {"note": "范围选错了"})
        assert "另一人同时操作" in str(raised.value.message)
    session.expire_all()
    assert session.get(AppraisalBatch, batch.id).status == "second_review"


def test_only_those_who_may_appraise_at_the_archive(session, factory, archive, people):
    batch = _batch(session, factory, archive, people, n=1)
    other = factory.archive("450100", "南宁市档案馆")
    for outsider in (factory.user("archive_admin", archive=other), factory.user("reviewer", archive=other),
                     factory.user("clerk", archive=archive), factory.user("citizen"), factory.user("admin")):
        assert not allowed(outsider, "decide", batch)
        with pytest.raises(NotAllowed):
            act(session, batch, "decide", outsider, {"every": True, "decision": "open"})
        with pytest.raises(NotAllowed):
            service.create_batch(session, archive, outsider, service.Proposal())
    assert allowed(people["admin"], "cancel", batch) and allowed(people["first"], "decide", batch)


def test_a_finished_stage_cannot_be_taken_again(session, factory, archive, people):
    batch = _batch(session, factory, archive, people, n=1)
    _run_stage(session, batch, people["first"], "appraise_first")
    with pytest.raises(Conflict) as raised:
        act(session, batch, "appraise_first", people["second"], {})
    assert "鉴定批次当前状态为“复审中”" in str(raised.value.message)
