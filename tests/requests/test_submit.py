"""Applying for records through `service.submit`: numbers, due dates, idempotency, every kind of
bad input with its field error, and no trace left behind by a refused application."""
from __future__ import annotations

import re
import threading
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.actions import act
from portal.core.idnumber import normalize_id_number
from portal.core.sequences import NumberSequence
from portal.db import db
from portal.mail.models import MailOutbox
from portal.core import workdays
from portal.core import clock
from portal.requests import applying, service
from portal.requests.models import RequestEvent, RequestFile, UtilizationRequest
from portal.requests.service import Application, ApplicationInvalid, SearchSpec, Upload
from tests import files
from tests.factories import make_id_number

APPLICANT_ID = make_id_number(region="451202", born="19650312", seq=501)
FATHER_ID = make_id_number(region="451202", born="19380705", seq=311)
STRANGER_ID = make_id_number(region="450103", born="19700101", seq=222)
BAD_CHECKSUM_ID = FATHER_ID[:17] + ("0" if FATHER_ID[17] != "0" else "1")
FIXED_TODAY = date(2026, 9, 30)  # the day before the National Day holiday


@pytest.fixture
def local(factory):
    return factory.archive(code="451200", name="河池市档案馆")


@pytest.fixture
def remote(factory):
    return factory.archive(code="450100", name="南宁市档案馆", region="南宁市")


@pytest.fixture
def applicant(factory):
    return factory.user(name="王秀英", email="wang@example.cn", id_number=APPLICANT_ID)


@pytest.fixture
def records(factory, local):
    """The applicant's own records (open and restricted), her late father's, a stranger's, a closed one."""
    return {
        "own_open": factory.record(local, reference_code="J001-1985-0001", subject_name="王秀英",
                                   subject_id_number=APPLICANT_ID),
        "own_restricted": factory.record(local, reference_code="J002-1990-0007", subject_name="王秀英",
                                         subject_id_number=APPLICANT_ID, access_level="restricted",
                                         category="social_insurance", title="职工养老保险缴费记录"),
        "father_open": factory.record(local, reference_code="J003-1958-0042", subject_name="王大山",
                                      subject_id_number=FATHER_ID, category="land_contract", title="土地承包合同"),
        "father_restricted": factory.record(local, reference_code="J003-1960-0050", subject_name="王大山",
                                            subject_id_number=FATHER_ID, access_level="restricted"),
        "stranger_open": factory.record(local, reference_code="J001-1985-0099", subject_name="张三",
                                        subject_id_number=STRANGER_ID),
        "unnamed_stranger": factory.record(local, reference_code="J001-1986-0100", subject_name="李建国"),
        "closed": factory.record(local, reference_code="J009-1975-0003", subject_name="王秀英",
                                 subject_id_number=APPLICANT_ID, access_level="closed"),
    }


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "china_today", lambda: FIXED_TODAY)
    return FIXED_TODAY


def ref(record) -> tuple[str, str]:
    return record.archive.code, record.reference_code


def own(catalog, /, **overrides) -> Application:
    fields = {"relation": "self", "records": [ref(catalog["own_open"]), ref(catalog["own_restricted"])],
              "purpose": "pension", "issuing_archive": "451200", "delivery": "download", "consent": True}
    return Application(**{**fields, **overrides})


def for_father(catalog, relation="relative", /, **overrides) -> Application:
    fields = {"subject_name": "王大山", "subject_id_number": FATHER_ID, "records": [ref(catalog["father_open"])],
              "purpose": "inheritance", **overrides}
    return own(catalog, relation=relation, **fields)


def upload(kind: str, name: str = "证明.pdf", data: bytes | None = None) -> Upload:
    return Upload(kind, name, BytesIO(files.pdf_bytes() if data is None else data))


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# ---- a good application -------------------------------------------------------------------------

def test_an_application_for_own_open_and_restricted_records(app, session, applicant, records, today):
    request, created = service.submit(session, applicant, own(records))
    assert created is True
    assert request.number == "451200-2026-000001"
    assert (request.status, request.version, request.kind, request.relation) == ("submitted", 1, "records", "self")
    assert [item.record.reference_code for item in request.items] == ["J001-1985-0001", "J002-1990-0007"]
    assert request.subject_name == "王秀英" and service.subject_id_number(request) == APPLICANT_ID
    assert request.subject_id_hash == applicant.id_number_hash
    assert request.issuing_archive.code == "451200" and request.delivery == "download" and request.address == ""
    assert request.consent_at is not None
    # 5 working days from 30 September, across the National Day holiday (see test_workdays).
    assert request.due_date == date(2026, 10, 13)

    session.expire_all()
    stored = session.scalars(select(UtilizationRequest)).one()
    assert stored.number == "451200-2026-000001" and stored.due_date == date(2026, 10, 13)
    [event] = stored.events
    assert (event.action, event.actor_id, event.actor_role, event.from_status, event.to_status, event.note) == (
        "submit", applicant.id, "applicant", None, "submitted", "")
    [mail] = session.scalars(select(MailOutbox)).all()
    assert (mail.to_address, mail.subject) == ("wang@example.cn", "您的档案利用申请 451200-2026-000001 已提交")
    assert "河池市档案馆将在 2026-10-13 前办结" in mail.body
    assert service.requests_of(session, applicant)[0].id == stored.id


def test_the_number_has_the_issuing_code_the_year_and_six_digits(session, applicant, records):
    request, _ = service.submit(session, applicant, own(records))
    assert re.fullmatch(rf"451200-{clock.china_today().year}-\d{{6}}", request.number)
    assert request.number.endswith("-000001")


def test_numbers_are_sequential_per_issuing_archive_and_year(session, factory, applicant, records, remote, today,
                                                            monkeypatch):
    def apply(issuing: str) -> str:
        return service.submit(session, applicant, own(records, issuing_archive=issuing))[0].number

    assert [apply("451200"), apply("451200"), apply("450100"), apply("451200"), apply("450100")] == [
        "451200-2026-000001", "451200-2026-000002", "450100-2026-000001", "451200-2026-000003",
        "450100-2026-000002"]
    monkeypatch.setattr(clock, "china_today", lambda: date(2027, 1, 4))
    assert [apply("450100"), apply("451200")] == ["450100-2027-000001", "451200-2027-000001"]
    assert count(session, UtilizationRequest) == 7


def test_a_refused_application_uses_no_number(session, applicant, records, today):
    with pytest.raises(ApplicationInvalid):
        service.submit(session, applicant, own(records, consent=False))
    assert count(session, NumberSequence) == 0
    assert service.submit(session, applicant, own(records))[0].number == "451200-2026-000001"


def test_concurrent_submissions_get_distinct_numbers_without_gaps(app, session, factory, local, today):
    """Eight citizens press "submit" at the same moment, each in their own thread, app context and session."""
    people = [factory.user(name="王秀英", id_number=make_id_number(born="19800101", seq=600 + n)) for n in range(8)]
    wanted = [factory.record(local, subject_name="王秀英") for _ in people]
    start = threading.Barrier(len(people))
    numbers: list[str] = []
    problems: list[str] = []
    lock = threading.Lock()

    def citizen(user_id: int, record) -> None:
        with app.app_context():
            own_session = db.session
            user = own_session.get(User, user_id)
            start.wait(timeout=10)
            try:
                request, created = service.submit(own_session, user, Application(
                    relation="self", records=[("451200", record.reference_code)], purpose="pension",
                    issuing_archive="451200", delivery="pickup", consent=True))
                assert created
                with lock:
                    numbers.append(request.number)
            except Exception as exc:  # noqa: BLE001 — reported below
                with lock:
                    problems.append(repr(exc))

    threads = [threading.Thread(target=citizen, args=(user.id, record)) for user, record in zip(people, wanted)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert problems == []
    assert sorted(numbers) == [f"451200-2026-{n:06d}" for n in range(1, 9)]
    assert count(session, UtilizationRequest) == 8


# ---- idempotency --------------------------------------------------------------------------------

def test_the_same_idempotency_key_returns_the_same_request(session, factory, applicant, records, today):
    first, created = service.submit(session, applicant, own(records), idempotency_key="form-7f3a")
    assert created is True
    # A retry (double click, time-out), even with a changed or broken form, finds the first one.
    again, created_again = service.submit(session, applicant, own(records, consent=False),
                                          idempotency_key=" form-7f3a ")
    assert (again.id, again.number, created_again) == (first.id, "451200-2026-000001", False)
    assert count(session, UtilizationRequest) == 1
    assert count(session, RequestEvent) == 1 and count(session, MailOutbox) == 1
    # Another key is another request; the key belongs to its applicant only.
    other, created = service.submit(session, applicant, own(records), idempotency_key="form-8b21")
    assert created and other.number == "451200-2026-000002"
    someone = factory.user(name="王秀英", id_number=make_id_number(born="19900101", seq=1))
    mine = factory.record(records["own_open"].archive, subject_name="王秀英")
    theirs, created = service.submit(session, someone, own(records, records=[ref(mine)]),
                                     idempotency_key="form-7f3a")
    assert created and theirs.number == "451200-2026-000003"
    assert count(session, UtilizationRequest) == 3


def test_two_threads_with_the_same_idempotency_key_make_one_request(app, session, applicant, records, today):
    start = threading.Barrier(4)
    results: list[tuple[int, bool]] = []
    problems: list[str] = []
    lock = threading.Lock()

    def tab() -> None:
        with app.app_context():
            own_session = db.session
            user = own_session.get(User, applicant.id)
            start.wait(timeout=10)
            try:
                request, created = service.submit(own_session, user, own(records), idempotency_key="retry-1",
                                                  uploads=[upload("supplement")])
                with lock:
                    results.append((request.id, created))
            except Exception as exc:  # noqa: BLE001 — reported below
                with lock:
                    problems.append(repr(exc))

    threads = [threading.Thread(target=tab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert problems == []
    assert len(results) == 4 and len({request_id for request_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert count(session, UtilizationRequest) == 1 and count(session, RequestEvent) == 1
    # The losers' files were removed, and their numbers given back.
    assert count(session, RequestFile) == 1 and len(stored_files(app)) == 1
    assert service.submit(session, applicant, own(records))[0].number == "451200-2026-000002"


# ---- bad input ----------------------------------------------------------------------------------

PROOFS = {
    "relative": ["relationship_proof"],
    "heir": ["death_proof", "relationship_proof"],
    "agent": ["power_of_attorney", "principal_id"],
    "lawyer": ["practice_certificate", "firm_letter"],
    "institution": ["official_letter"],
}


def _case(build, uploads=(), errors=None):
    return build, uploads, errors


BAD = {
    "relation missing": _case(lambda r: own(r, relation=""), (), {"relation": "请选择您与档案当事人的关系"}),
    "unknown relation": _case(lambda r: own(r, relation="friend"), (), {"relation": "请选择您与档案当事人的关系"}),
    "other person's name missing": _case(lambda r: for_father(r, subject_name="  "), ["relationship_proof"],
                                         {"subject_name": "请填写档案当事人的姓名"}),
    "other person's ID with a bad checksum": _case(
        lambda r: for_father(r, subject_id_number=BAD_CHECKSUM_ID), ["relationship_proof"],
        {"subject_id_number": "身份证号码校验位不正确，请核对"}),
    "other person's ID missing": _case(lambda r: for_father(r, subject_id_number=""), ["relationship_proof"],
                                       {"subject_id_number": "请填写身份证号码"}),
    "other person's ID is the applicant's own": _case(
        lambda r: for_father(r, subject_id_number=APPLICANT_ID, records=[ref(r["own_open"])]),
        ["relationship_proof"], {"subject_id_number": "这是您本人的身份证号码；为本人申请请选择“本人”"}),
    "relative without relationship proof": _case(lambda r: for_father(r), [],
                                                 {"relationship_proof": "请上传亲属关系证明"}),
    "heir without death proof": _case(lambda r: for_father(r, "heir"), ["relationship_proof"],
                                      {"death_proof": "请上传死亡证明"}),
    "heir without any proof": _case(lambda r: for_father(r, "heir"), [],
                                    {"death_proof": "请上传死亡证明", "relationship_proof": "请上传亲属关系证明"}),
    "agent without power of attorney": _case(lambda r: for_father(r, "agent"), ["principal_id"],
                                             {"power_of_attorney": "请上传授权委托书"}),
    "agent without the principal's ID": _case(lambda r: for_father(r, "agent"), ["power_of_attorney"],
                                              {"principal_id": "请上传委托人身份证件"}),
    "lawyer without proofs": _case(lambda r: for_father(r, "lawyer", purpose="litigation"), [],
                                   {"practice_certificate": "请上传律师执业证", "firm_letter": "请上传律师事务所介绍信"}),
    "institution without letter": _case(lambda r: for_father(r, "institution"), [],
                                        {"official_letter": "请上传单位介绍信（公函）"}),
    "purpose missing": _case(lambda r: own(r, purpose=""), (), {"purpose": "请选择利用目的"}),
    "purpose other without note": _case(lambda r: own(r, purpose="other", purpose_note=" "), (),
                                        {"purpose_note": "请说明利用目的"}),
    "purpose note too long": _case(lambda r: own(r, purpose="other", purpose_note="长" * 201), (),
                                   {"purpose_note": "不能超过 200 字"}),
    "unknown issuing archive": _case(lambda r: own(r, issuing_archive="999999"), (),
                                     {"issuing_archive": "请选择出证档案馆"}),
    "delivery missing": _case(lambda r: own(r, delivery=""), (), {"delivery": "请选择领取方式"}),
    "post without address": _case(lambda r: own(r, delivery="post", address="  "), (),
                                  {"address": "邮寄需要填写收件地址"}),
    "consent not given": _case(lambda r: own(r, consent=False), (),
                               {"consent": "需要您同意处理申请中的个人信息，档案馆才能办理"}),
    "consent as a string is not consent": _case(lambda r: own(r, consent="false"), (),
                                                {"consent": "需要您同意处理申请中的个人信息，档案馆才能办理"}),
    "neither records nor search": _case(lambda r: own(r, records=[]), (),
                                        {"records": "请先把要申请的档案加入申请清单，或者选择“请档案馆代为查找”"}),
    "both records and search": _case(lambda r: own(r, search=SearchSpec(category="marriage")), (),
                                     {"records": "请选择具体档案，或者请档案馆代为查找，二者选一"}),
    "a closed record": _case(lambda r: own(r, records=[ref(r["closed"])]), (),
                             {"records": "档案 451200/J009-1975-0003 不存在，或者不能在网上申请"}),
    "another person's restricted record, even with proof": _case(
        lambda r: for_father(r, records=[ref(r["father_restricted"])]), ["relationship_proof"],
        {"records": "档案 451200/J003-1960-0050 不存在，或者不能在网上申请"}),
    "a record that does not exist": _case(lambda r: own(r, records=[("451200", "J404")]), (),
                                          {"records": "档案 451200/J404 不存在，或者不能在网上申请"}),
    "self, with a record about someone else": _case(
        lambda r: own(r, records=[ref(r["own_open"]), ref(r["stranger_open"])]), (),
        {"records": "档案 J001-1985-0099 的当事人不是您本人；为他人申请请选择您与当事人的关系"}),
    "self, with a record naming someone else": _case(
        lambda r: own(r, records=[ref(r["unnamed_stranger"])]), (),
        {"records": "档案 J001-1986-0100 的当事人不是您本人；为他人申请请选择您与当事人的关系"}),
    "for another person, with a record about a third": _case(
        lambda r: for_father(r, records=[ref(r["stranger_open"])]), ["relationship_proof"],
        {"records": "档案 J001-1985-0099 的当事人与您填写的当事人不一致"}),
    "for another person, with a record naming a third": _case(
        lambda r: for_father(r, records=[ref(r["unnamed_stranger"])]), ["relationship_proof"],
        {"records": "档案 J001-1986-0100 的当事人与您填写的当事人不一致"}),
    "21 records": _case(lambda r: own(r, records=[("451200", f"J{n}") for n in range(21)]), (),
                        {"records": "一份申请最多包含 20 条档案"}),
    "search without category": _case(lambda r: own(r, records=[], search=SearchSpec(category="")), (),
                                     {"search_category": "请选择要查找的档案类别"}),
    "search years reversed": _case(
        lambda r: own(r, records=[], search=SearchSpec(category="marriage", year_from=1990, year_to=1985)), (),
        {"year_to": "结束年份不能早于起始年份"}),
    "search year not a year": _case(
        lambda r: own(r, records=[], search=SearchSpec(category="marriage", year_from="八五年")), (),
        {"year_from": "年份应在 1900 到 2026 之间"}),
    "search in an unknown archive": _case(
        lambda r: own(r, records=[], search=SearchSpec(category="marriage", archives=["451200", "999999"])), (),
        {"search_archives": "请从列表中选择档案馆"}),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_each_bad_input_gets_its_field_error_and_leaves_nothing(app, session, applicant, records, today, case):
    build, proof_kinds, errors = BAD[case]
    uploads = [upload(kind, f"{kind}.pdf") for kind in proof_kinds]
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, applicant, build(records), uploads, keep_drafts=False)
    assert {field: str(message) for field, message in info.value.errors.items()} == errors
    assert info.value.kept == []
    _nothing_left(app, session)


def _nothing_left(app, session, drafts: int = 0) -> None:
    session.expire_all()
    assert count(session, UtilizationRequest) == 0
    assert count(session, RequestEvent) == 0
    assert count(session, MailOutbox) == 0
    assert count(session, NumberSequence) == 0
    assert count(session, RequestFile) == drafts
    assert len(stored_files(app)) == drafts


def test_a_fake_pdf_is_refused_under_its_kind_with_its_name(app, session, applicant, records):
    uploads = [upload("death_proof", "死亡证明.pdf", files.fake_pdf_bytes()), upload("relationship_proof", "户口簿.pdf")]
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, applicant, for_father(records, "heir"), uploads)
    assert {k: str(v) for k, v in info.value.errors.items()} == {"death_proof": "“死亡证明.pdf”已损坏或无法打开"}
    _nothing_left(app, session)


def test_six_files_are_too_many(app, session, applicant, records):
    uploads = [upload("supplement", f"材料{n}.pdf") for n in range(6)]
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, applicant, own(records), uploads, keep_drafts=True)
    assert {k: str(v) for k, v in info.value.errors.items()} == {"files": "每份申请最多上传 5 个文件"}
    # Too many to keep as drafts either.
    assert info.value.kept == []
    _nothing_left(app, session)


def test_an_unknown_file_kind_is_refused(app, session, applicant, records):
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, applicant, own(records), [upload("selfie")])
    assert {k: str(v) for k, v in info.value.errors.items()} == {"files": "未知的材料类型：selfie"}
    _nothing_left(app, session)


def test_every_problem_is_reported_at_once(app, session, applicant, records):
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, applicant, Application(relation="heir", subject_name="王大山",
                                                       subject_id_number=BAD_CHECKSUM_ID, purpose="other",
                                                       delivery="post", records=[]))
    assert set(info.value.errors) == {"subject_id_number", "purpose_note", "issuing_archive", "address", "consent",
                                      "records", "death_proof", "relationship_proof"}
    _nothing_left(app, session)


def test_a_failure_after_files_were_stored_removes_them(app, session, applicant, records, monkeypatch):
    def broken(*_args):
        raise RuntimeError("database went away")

    monkeypatch.setattr(applying, "_purge_old_drafts", broken)
    with pytest.raises(RuntimeError):
        service.submit(session, applicant, for_father(records), [upload("relationship_proof")])
    _nothing_left(app, session)


# ---- drafts -------------------------------------------------------------------------------------

def test_valid_files_of_a_refused_application_are_kept_as_drafts_and_reused(app, session, applicant, records):
    proof = files.pdf_bytes(text="Household register")
    uploads = [upload("relationship_proof", "户口簿.pdf", proof),
               upload("death_proof", "死亡证明.pdf", files.fake_pdf_bytes())]
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, applicant, for_father(records, "heir"), uploads, keep_drafts=True)
    assert set(info.value.errors) == {"death_proof"}
    [draft] = info.value.kept
    assert (draft.kind, draft.original_name, draft.request_id, draft.owner_id) == (
        "relationship_proof", "户口簿.pdf", None, applicant.id)
    _nothing_left(app, session, drafts=1)
    [on_disk] = stored_files(app)
    assert on_disk.read_bytes() == proof

    # The corrected form sends the missing file and names the kept one instead of uploading it again.
    death = files.jpeg_bytes()
    request, created = service.submit(session, applicant, for_father(records, "heir"),
                                      [upload("death_proof", "死亡证明.jpg", death)], kept_file_ids=[draft.public_id])
    assert created
    session.expire_all()
    attached = session.scalars(select(RequestFile).order_by(RequestFile.id)).all()
    assert [(f.id, f.kind, f.request_id) for f in attached] == [
        (draft.id, "relationship_proof", request.id), (draft.id + 1, "death_proof", request.id)]
    assert attached[0].stored_name == draft.stored_name
    assert sorted(p.read_bytes() for p in stored_files(app)) == sorted([proof, death])


def test_without_keep_drafts_nothing_is_kept(app, session, applicant, records):
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, applicant, for_father(records, "heir"), [upload("relationship_proof")])
    assert info.value.kept == []
    _nothing_left(app, session)


def test_someone_elses_draft_cannot_be_attached(app, session, factory, applicant, records):
    other = factory.user(name="王秀英", id_number=make_id_number(born="19900101", seq=2))
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, other, for_father(records), [upload("supplement")], keep_drafts=True)
    [theirs] = info.value.kept
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, applicant, for_father(records), kept_file_ids=[theirs.public_id])
    assert set(info.value.errors) == {"relationship_proof"}
    assert session.get(RequestFile, theirs.id).request_id is None


# ---- limits and who may apply -------------------------------------------------------------------

def test_too_many_open_requests_are_refused_and_withdrawn_ones_do_not_count(app, session, factory, applicant,
                                                                           records):
    assert app.config["MAX_OPEN_REQUESTS"] == 20
    app.config["MAX_OPEN_REQUESTS"] = 3
    factory.request(applicant, status="issued")  # done: does not count
    made = [factory.request(applicant, status=status) for status in ("submitted", "in_review", "needs_supplement")]
    assert count(session, UtilizationRequest) == 4

    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, applicant, own(records))
    assert {k: str(v) for k, v in info.value.errors.items()} == {
        "form": "您已有 3 份正在办理的申请，请等其中一些办结或撤回后再提交"}
    assert count(session, UtilizationRequest) == 4

    act(session, made[0], "withdraw", applicant)
    request, created = service.submit(session, applicant, own(records))
    assert created and request.status == "submitted"
    assert count(session, UtilizationRequest) == 5


@pytest.mark.parametrize("role", ["clerk", "reviewer", "admin"])
def test_a_staff_account_cannot_apply(app, session, factory, local, records, role):
    staff = factory.user(role, archive=local)
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, staff, own(records))
    assert {k: str(v) for k, v in info.value.errors.items()} == {"form": "利用申请需要用实名注册的个人账号提交"}
    _nothing_left(app, session)


# ---- "please search for me", routing and due dates ----------------------------------------------

def test_a_search_request_without_archives_named_is_routed_to_the_issuing_archive(session, applicant, local, today):
    spec = SearchSpec(category="marriage", year_from="1984", year_to=1986, place=" 金城江区 ")
    request, _ = service.submit(session, applicant, Application(
        relation="self", search=spec, purpose="household", issuing_archive="451200", delivery="pickup", consent=True))
    session.expire_all()
    request = session.get(UtilizationRequest, request.id)
    assert (request.kind, request.items) == ("search", [])
    assert [entry.archive.code for entry in request.search_archives] == ["451200"]
    assert [a.code for a in service.holding_archives(request)] == ["451200"]
    assert (request.search_category, request.search_year_from, request.search_year_to, request.search_place) == (
        "marriage", 1984, 1986, "金城江区")
    assert request.due_date == date(2026, 10, 13)


def test_a_search_request_names_the_archives_asked(session, applicant, local, remote, today):
    request, _ = service.submit(session, applicant, Application(
        relation="self", search=SearchSpec(category="marriage", archives=["450100"]), purpose="household",
        issuing_archive="451200", delivery="pickup", consent=True))
    assert [a.code for a in service.holding_archives(request)] == ["450100"]
    assert request.due_date == date(2026, 10, 20)  # another archive searches: the longer time


def test_a_cross_archive_request_gets_the_longer_due_date(app, session, factory, applicant, records, remote, today):
    assert (app.config["DUE_WORKING_DAYS"], app.config["DUE_WORKING_DAYS_CROSS_ARCHIVE"]) == (5, 10)
    elsewhere = factory.record(remote, reference_code="N001-1985-0001", subject_name="王秀英",
                               subject_id_number=APPLICANT_ID)
    local_request, _ = service.submit(session, applicant, own(records))
    cross, _ = service.submit(session, applicant, own(records, records=[ref(records["own_open"]), ref(elsewhere)]))
    issued_remotely, _ = service.submit(session, applicant, own(records, issuing_archive="450100"))
    assert local_request.due_date == date(2026, 10, 13)
    assert cross.due_date == date(2026, 10, 20)
    assert issued_remotely.due_date == date(2026, 10, 20)  # held here, issued there
    assert [a.code for a in service.holding_archives(cross)] == ["450100", "451200"]


def test_an_application_for_a_relative_stores_the_subject_and_the_proof(app, session, applicant, records, today):
    proof = files.png_bytes()
    request, _ = service.submit(session, applicant, for_father(records, subject_id_number=FATHER_ID.lower()),
                                [upload("relationship_proof", "户口簿.png", proof)])
    session.expire_all()
    request = session.get(UtilizationRequest, request.id)
    assert (request.relation, request.subject_name) == ("relative", "王大山")
    assert service.subject_id_number(request) == normalize_id_number(FATHER_ID)
    assert FATHER_ID not in request.subject_id_enc  # encrypted at rest
    [stored] = request.files
    assert (stored.kind, stored.original_name, stored.content_type, stored.size, stored.event_id) == (
        "relationship_proof", "户口簿.png", "image/png", len(proof), None)
    [on_disk] = stored_files(app)
    assert on_disk.read_bytes() == proof and on_disk.name == stored.stored_name.split("/")[1]
