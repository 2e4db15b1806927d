"""Utilization requests over the JSON API: applying with proofs (multipart) or plain JSON, retries
with an Idempotency-Key, reading and listing, and the workflow's actions with their 403/404/409s."""
from __future__ import annotations

import json
import re
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.audit.models import AuditLog
from portal.core import clock, workdays
from portal.requests.models import RequestEvent, RequestFile, UtilizationRequest
from tests import files
from tests.factories import PASSWORD, make_id_number

APPLICANT_ID = make_id_number("451202", "19650312", 201)
MOTHER_ID = make_id_number("451202", "19380105", 202)
OTHER_ID = make_id_number("451202", "19700101", 203)
FIXED_TODAY = date(2026, 9, 30)  # 5 working days later, across National Day: 13 October (see test_workdays)
NOT_FOUND = "申请不存在，或者您无权查看 (no such request, or not yours to see)"
FORBIDDEN = "您不能对这份申请执行此操作 (you may not take this action on this request)"


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "china_today", lambda: FIXED_TODAY)
    return FIXED_TODAY


@pytest.fixture
def archives(factory):
    return (factory.archive(code="451200", name="河池市档案馆"),
            factory.archive(code="450100", name="南宁市档案馆", region="南宁市"))


@pytest.fixture
def applicant(factory):
    return factory.user(email="wang@example.cn", name="王秀英", id_number=APPLICANT_ID)


@pytest.fixture
def records(factory, archives):
    local, remote = archives
    return {
        "own_open": factory.record(local, reference_code="J001-1985-0001", subject_name="王秀英",
                                   subject_id_number=APPLICANT_ID, title="王秀英结婚登记审查处理表"),
        "own_restricted": factory.record(local, reference_code="J002-1990-0007", subject_name="王秀英",
                                         subject_id_number=APPLICANT_ID, access_level="restricted",
                                         category="social_insurance", title="职工养老保险缴费记录"),
        "mother": factory.record(local, reference_code="J003-1958-0042", subject_name="黄桂兰",
                                 subject_id_number=MOTHER_ID, category="land_contract", title="土地承包合同"),
        "remote_own": factory.record(remote, reference_code="J010-1992-0003", subject_name="王秀英",
                                     subject_id_number=APPLICANT_ID, title="招工登记表"),
    }


@pytest.fixture
def staff(factory, archives):
    local, remote = archives
    return {"clerk": factory.user("clerk", email="clerk@example.cn", archive=local, name="李四"),
            "clerk2": factory.user("clerk", email="clerk2@example.cn", archive=local, name="韦五"),
            "reviewer": factory.user("reviewer", email="reviewer@example.cn", archive=local, name="覃六"),
            "remote_clerk": factory.user("clerk", email="remote@example.cn", archive=remote, name="陆七")}


def token(client, user) -> str:
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()["token"]


def bearer(tok: str, **headers) -> dict:
    return {"Authorization": f"Bearer {tok}", **headers}


def own_doc(records, **overrides) -> dict:
    doc = {"records": [{"archive_code": "451200", "reference_code": records["own_open"].reference_code},
                       {"archive_code": "451200", "reference_code": records["own_restricted"].reference_code}],
           "relation": "self", "purpose": "pension", "issuing_archive": "451200", "delivery": "download",
           "consent": True}
    return {**doc, **overrides}


def mother_doc(relation="relative", **overrides) -> dict:
    doc = {"records": [{"archive_code": "451200", "reference_code": "J003-1958-0042"}],
           "subject": {"name": "黄桂兰", "id_number": MOTHER_ID}, "relation": relation, "purpose": "inheritance",
           "issuing_archive": "451200", "delivery": "download", "consent": True}
    return {**doc, **overrides}


def pdf(name="证明.pdf", data: bytes | None = None):
    return (files.pdf_bytes() if data is None else data, name)  # bytes: each post makes its own stream


def post_multipart(client, url: str, data: dict, **kw):
    """multipart/form-data, encoded in memory: values that are (bytes, name[, type]) tuples, or lists of
    them, are files. The test client would spool a large body into a temporary file it never closes (a
    ResourceWarning, an error under filterwarnings)."""
    def part(value):
        if not isinstance(value, tuple):
            return value
        stream = BytesIO(value[0]) if isinstance(value[0], bytes) else value[0]
        return FileStorage(stream=stream, filename=value[1], content_type=value[2] if len(value) > 2 else None)

    values = {k: [part(v) for v in value] if isinstance(value, list) else part(value) for k, value in data.items()}
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", **kw)


def apply(client, tok, doc, parts: dict | None = None, key: str | None = None, raw_request: str | None = None):
    data = {"request": raw_request if raw_request is not None else json.dumps(doc, ensure_ascii=False),
            **(parts or {})}
    headers = bearer(tok, **({"Idempotency-Key": key} if key else {}))
    return post_multipart(client, "/api/v1/requests", data, headers=headers)


def act(client, tok, number, action, body=None, **kwargs):
    return client.post(f"/api/v1/requests/{number}/actions/{action}", headers=bearer(tok),
                       json=body if body is not None else {}, **kwargs)


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# ---- applying ------------------------------------------------------------------------------------

def test_citizen_applies_for_two_records_with_a_file_and_reads_it_back(client, applicant, records, today):
    tok = token(client, applicant)
    response = apply(client, tok, own_doc(records), {"supplement": pdf("户口簿.pdf")})
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body == {"number": "451200-2026-000001", "status": "submitted",
                    "url": "http://127.0.0.1:5000/requests/451200-2026-000001"}
    assert re.fullmatch(r"451200-2026-\d{6}", body["number"])
    assert response.headers["Location"] == "http://127.0.0.1:5000/api/v1/requests/451200-2026-000001"

    detail = client.get("/api/v1/requests/451200-2026-000001", headers=bearer(tok))
    assert detail.status_code == 200
    assert detail.headers["Cache-Control"] == "no-store"
    got = detail.get_json()
    at, submitted_at = got["events"][0]["at"], got["submitted_at"]
    for value in (at, submitted_at):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", value)
    size = len(files.pdf_bytes())
    assert got == {
        "number": "451200-2026-000001", "status": "submitted", "version": 1, "kind": "records",
        "relation": "self", "purpose": "pension", "purpose_note": "",
        "subject": {"name": "王秀英", "id_number": APPLICANT_ID[:6] + "********" + APPLICANT_ID[-4:]},
        "records": [{"archive_code": "451200", "reference_code": "J001-1985-0001", "title": "王秀英结婚登记审查处理表"},
                    {"archive_code": "451200", "reference_code": "J002-1990-0007", "title": "职工养老保险缴费记录"}],
        "search": None, "issuing_archive": "451200", "holding_archives": ["451200"],
        "delivery": "download", "address": "", "submitted_at": submitted_at, "due_date": "2026-10-13",
        "events": [{"at": at, "actor_role": "applicant", "action": "submit", "from": None, "to": "submitted",
                    "note": ""}],
        "files": [{"kind": "supplement", "name": "户口簿.pdf", "content_type": "application/pdf", "size": size}],
        "allowed_actions": ["withdraw"], "certificate": None,
    }


def test_a_retry_with_the_same_idempotency_key_gives_the_same_request(app, client, session, applicant, records,
                                                                       today):
    tok = token(client, applicant)
    first = apply(client, tok, own_doc(records), {"supplement": pdf()}, key="c0ffee-42")
    again = apply(client, tok, own_doc(records), {"supplement": pdf()}, key="c0ffee-42")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json() == {"number": "451200-2026-000001", "status": "submitted",
                                                    "url": "http://127.0.0.1:5000/requests/451200-2026-000001"}
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.headers["Location"] == first.headers["Location"]
    assert count(session, UtilizationRequest) == 1
    assert count(session, RequestFile) == 1 and len(stored_files(app)) == 1
    other_key = apply(client, tok, own_doc(records), key="c0ffee-43")
    assert other_key.status_code == 201 and other_key.get_json()["number"] == "451200-2026-000002"


def test_an_overlong_idempotency_key_is_refused(client, session, applicant, records):
    response = apply(client, token(client, applicant), own_doc(records), key="k" * 81)
    assert response.status_code == 400
    assert response.get_json()["field"] == "Idempotency-Key"
    assert count(session, UtilizationRequest) == 0


def test_a_json_body_works_for_a_request_that_needs_no_proof(client, session, applicant, records, today):
    response = client.post("/api/v1/requests", json=own_doc(records), headers=bearer(token(client, applicant)))
    assert response.status_code == 201
    assert response.get_json()["number"] == "451200-2026-000001"
    assert count(session, UtilizationRequest) == 1


def test_the_request_part_may_be_sent_as_a_file(client, applicant, records, today):
    doc = json.dumps(own_doc(records), ensure_ascii=False).encode()
    response = post_multipart(client, "/api/v1/requests", headers=bearer(token(client, applicant)),
                              data={"request": (doc, "application.json", "application/json")})
    assert response.status_code == 201


def test_heir_applies_with_both_proofs_for_the_mothers_record(client, session, applicant, records, today):
    tok = token(client, applicant)
    response = apply(client, tok, mother_doc("heir"),
                     {"death_proof": pdf("死亡证明.pdf"), "relationship_proof": (files.jpeg_bytes(), "户口.jpg")})
    assert response.status_code == 201, response.get_json()
    got = client.get(f"/api/v1/requests/{response.get_json()['number']}", headers=bearer(tok)).get_json()
    assert (got["relation"], got["subject"]["name"]) == ("heir", "黄桂兰")
    assert got["subject"]["id_number"] == MOTHER_ID[:6] + "********" + MOTHER_ID[-4:]
    assert sorted((f["kind"], f["name"], f["content_type"]) for f in got["files"]) == [
        ("death_proof", "死亡证明.pdf", "application/pdf"), ("relationship_proof", "户口.jpg", "image/jpeg")]


def test_a_search_request_in_two_archives(client, applicant, records, today):
    tok = token(client, applicant)
    doc = {"search": {"name": "王秀英", "category": "marriage", "year_from": 1983, "year_to": 1987,
                      "place": "东江镇", "archives": ["450100", "451200"]},
           "relation": "self", "purpose": "household", "issuing_archive": "451200", "delivery": "post",
           "address": "广西河池市金城江区新建路 8 号 王秀英 13800000000", "consent": True}
    response = client.post("/api/v1/requests", json=doc, headers=bearer(tok))
    assert response.status_code == 201, response.get_json()
    got = client.get(f"/api/v1/requests/{response.get_json()['number']}", headers=bearer(tok)).get_json()
    assert got["kind"] == "search" and got["records"] == []
    assert got["search"] == {"name": "王秀英", "category": "marriage", "year_from": 1983, "year_to": 1987,
                             "place": "东江镇", "archives": ["450100", "451200"]}
    assert got["holding_archives"] == ["450100", "451200"]
    assert got["due_date"] == "2026-10-20"  # another archive searches: the longer promise
    assert (got["delivery"], got["address"]) == ("post", "广西河池市金城江区新建路 8 号 王秀英 13800000000")


# ---- bad applications ----------------------------------------------------------------------------

def _six_pdfs():
    return {"supplement": [pdf(f"第{i}页.pdf") for i in range(6)]}


BAD = [
    # (what, how to change the own-records document or a mother document, file parts, field, message or None)
    ("bad ID checksum", mother_doc(subject={"name": "黄桂兰", "id_number": MOTHER_ID[:17] + (
        "0" if MOTHER_ID[17] != "0" else "1")}), {"relationship_proof": pdf()}, "subject.id_number",
     "身份证号码校验位不正确，请核对"),
    ("subject missing for a relative", mother_doc(subject=None), {"relationship_proof": pdf()}, "subject.name",
     "请填写档案当事人的姓名"),
    ("heir without a death proof", mother_doc("heir"), {"relationship_proof": pdf()}, "death_proof", "请上传死亡证明"),
    ("relative without proof", mother_doc(), {}, "relationship_proof", "请上传亲属关系证明"),
    ("consent false", "own:consent=false", {}, "consent", "需要您同意处理申请中的个人信息，档案馆才能办理"),
    ("consent missing", "own:-consent", {}, "consent", "需要您同意处理申请中的个人信息，档案馆才能办理"),
    ("consent as a string", "own:consent=\"yes\"", {}, "consent",
     "字段 consent 应为 true 或 false (consent must be true or false)"),
    ("fake PDF", mother_doc(), {"relationship_proof": pdf("关系.pdf", files.fake_pdf_bytes())},
     "relationship_proof", "“关系.pdf”已损坏或无法打开"),
    ("11 MB", mother_doc(), {"relationship_proof": pdf("大.pdf", files.big_file_bytes(11))}, "relationship_proof",
     "“大.pdf”超过 10 MB"),
    ("six files", "own:", _six_pdfs, "files", "每份申请最多上传 5 个文件"),
    ("unknown part", "own:", {"passport": pdf()}, "passport", "未知的材料类型：passport"),
    ("proof as a text field", "own:", {"death_proof": "see attachment"}, "death_proof",
     "字段 death_proof 应为文件 (death_proof must be a file part)"),
    ("records not a list", "own:records={\"archive_code\": \"451200\"}", {}, "records",
     "字段 records 应为数组 (records must be an array)"),
    ("record without reference", "own:records=[{\"archive_code\": \"451200\"}]", {}, "records[0].reference_code",
     "缺少字段 records[0].reference_code (records[0].reference_code is required)"),
    ("record not an object", "own:records=[\"451200/J001-1985-0001\"]", {}, "records[0]",
     "字段 records[0] 应为对象 (records[0] must be an object)"),
    ("unknown record", "own:records=[{\"archive_code\": \"451200\", \"reference_code\": \"NOPE\"}]", {}, "records",
     "档案 451200/NOPE 不存在，或者不能在网上申请"),
    ("unknown top-level key", "own:purpse=\"pension\"", {}, "purpse", "未知字段 purpse (unknown field purpse)"),
    ("relation unknown", "own:relation=\"friend\"", {}, "relation", "请选择您与档案当事人的关系"),
    ("relation a number", "own:relation=1", {}, "relation", "字段 relation 应为字符串 (relation must be a string)"),
    ("subject given for self", "own:subject={\"name\": \"黄桂兰\", \"id_number\": \"" + MOTHER_ID + "\"}", {},
     "subject", "为本人申请时不填 subject (leave subject out when relation is self)"),
    ("year as a string", "own:-records;search={\"category\": \"marriage\", \"year_from\": \"1985\"}", {},
     "search.year_from", "字段 search.year_from 应为整数 (search.year_from must be an integer)"),
    ("year out of range", "own:-records;search={\"category\": \"marriage\", \"year_from\": 1850}", {},
     "search.year_from", None),
    ("search for someone else", "own:-records;search={\"name\": \"黄桂兰\", \"category\": \"marriage\"}", {},
     "search.name", "search.name 应与档案当事人的姓名一致 (search.name must be the subject's name)"),
    ("search category unknown", "own:-records;search={\"category\": \"wedding\"}", {}, "search.category",
     "请选择要查找的档案类别"),
    ("records and search", "own:search={\"category\": \"marriage\"}", {}, "records",
     "请选择具体档案，或者请档案馆代为查找，二者选一"),
    ("NUL in a string", "own:purpose_note=\"a\\u0000b\"", {}, "purpose_note",
     "字段 purpose_note 含有无效字符 (purpose_note contains invalid characters)"),
    ("post without address", "own:delivery=\"post\"", {}, "address", "邮寄需要填写收件地址"),
    ("unknown issuing archive", "own:issuing_archive=\"999999\"", {}, "issuing_archive", "请选择出证档案馆"),
]


def _document(spec, records) -> dict:
    """A document spec: a dict, or "own:" followed by `key=json` (set) and `-key` (drop) edits joined by ';'."""
    if isinstance(spec, dict):
        return spec
    doc = own_doc(records)
    edits = spec.removeprefix("own:")
    for edit in filter(None, edits.split(";")):
        if edit.startswith("-"):
            doc.pop(edit[1:])
        else:
            key, value = edit.split("=", 1)
            doc[key] = json.loads(value)
    return doc


@pytest.mark.parametrize(("spec", "parts", "field", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_applications_are_400_naming_the_field(app, client, session, applicant, records, spec, parts, field,
                                                    message):
    parts = parts() if callable(parts) else parts
    doc = _document(spec, records)
    if doc.get("subject", "") is None:
        doc.pop("subject")
    response = apply(client, token(client, applicant), doc, parts)
    assert response.status_code == 400, response.get_json()
    assert response.is_json and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["field"] == field
    assert body["errors"][field] == body["error"]
    if message is not None:
        assert body["error"] == message
    assert count(session, UtilizationRequest) == 0
    assert count(session, RequestFile) == 0 and stored_files(app) == []


def test_every_problem_is_listed_not_only_the_first(client, applicant, records):
    doc = own_doc(records, purpose="fun", delivery="drone", consent=False)
    response = apply(client, token(client, applicant), doc)
    assert response.status_code == 400
    body = response.get_json()
    assert (body["field"], body["error"]) == ("purpose", "请选择利用目的")
    assert body["errors"] == {"purpose": "请选择利用目的", "delivery": "请选择领取方式",
                              "consent": "需要您同意处理申请中的个人信息，档案馆才能办理"}


@pytest.mark.parametrize("raw", ['{"records": [', "[1, 2]", '"text"', "", "[" * 100_000])
def test_a_request_part_that_is_not_a_json_object_is_400_request(client, session, applicant, raw):
    response = apply(client, token(client, applicant), None, raw_request=raw)
    assert response.status_code == 400
    assert response.get_json()["field"] == "request"
    assert response.get_json()["error"] == "request 应为 JSON 对象 (request must be a JSON object)"
    assert count(session, UtilizationRequest) == 0


def test_a_multipart_body_without_the_request_part_is_400_request(client, applicant):
    response = post_multipart(client, "/api/v1/requests", headers=bearer(token(client, applicant)),
                              data={"supplement": pdf()})
    assert response.status_code == 400 and response.get_json()["field"] == "request"


def test_a_malformed_json_body_is_400_request(client, applicant):
    response = client.post("/api/v1/requests", headers=bearer(token(client, applicant)),
                           data='{"relation": "self",', content_type="application/json")
    assert response.status_code == 400 and response.get_json()["field"] == "request"


def test_a_form_or_text_body_is_415(client, applicant, records):
    response = client.post("/api/v1/requests", headers=bearer(token(client, applicant)),
                           data=json.dumps(own_doc(records)), content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["field"] == "body"


def test_too_many_open_requests_is_409(app, client, session, applicant, records, today):
    app.config["MAX_OPEN_REQUESTS"] = 1
    tok = token(client, applicant)
    assert apply(client, tok, own_doc(records)).status_code == 201
    response = apply(client, tok, own_doc(records))
    assert response.status_code == 409
    body = response.get_json()
    assert body["field"] == "form"
    assert body["error"] == "您已有 1 份正在办理的申请，请等其中一些办结或撤回后再提交"
    assert count(session, UtilizationRequest) == 1


@pytest.mark.parametrize("role", ["clerk", "reviewer", "admin"])
def test_staff_cannot_apply(client, session, factory, archives, records, role):
    user = factory.user(role, email=f"{role}@example.cn", archive=archives[0] if role != "admin" else None)
    response = apply(client, token(client, user), own_doc(records))
    assert response.status_code == 403
    assert response.get_json() == {"error": "利用申请需要用实名注册的个人账号提交"}
    assert count(session, UtilizationRequest) == 0


def test_no_token_is_401_everywhere(client, session, factory, applicant, records):
    number = factory.request(applicant, records=[records["own_open"]]).number
    for response in (client.post("/api/v1/requests", json=own_doc(records)),
                     client.get("/api/v1/requests"),
                     client.get(f"/api/v1/requests/{number}"),
                     client.post(f"/api/v1/requests/{number}/actions/withdraw", json={})):
        assert response.status_code == 401
        assert response.is_json and response.headers["WWW-Authenticate"] == "Bearer"
    assert count(session, UtilizationRequest) == 1


# ---- reading ---------------------------------------------------------------------------------------

def test_the_list_is_the_callers_own_requests_newest_first(client, factory, applicant, records, staff, today):
    first = factory.request(applicant, records=[records["own_open"]])
    second = factory.request(applicant, records=[records["remote_own"]], issuing=records["own_open"].archive)
    factory.request(factory.user(name="张三"), issuing=records["own_open"].archive)  # someone else's: not listed
    response = client.get("/api/v1/requests", headers=bearer(token(client, applicant)))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    listed = response.get_json()["requests"]
    assert [r["number"] for r in listed] == [second.number, first.number]
    assert listed[0] == {"number": second.number, "status": "submitted", "issuing_archive": "451200",
                         "due_date": "2026-10-20", "submitted_at": second.submitted_at.isoformat(timespec="seconds")}
    assert client.get("/api/v1/requests", headers=bearer(token(client, staff["clerk"]))).get_json() == {
        "requests": []}


def test_other_people_and_unrelated_staff_get_404(client, factory, applicant, records, staff):
    number = factory.request(applicant, records=[records["own_open"], records["remote_own"]]).number
    stranger = factory.user(name="张三", email="zhang@example.cn")
    unrelated = factory.user("reviewer", email="far@example.cn", archive=factory.archive("450300", "柳州市档案馆"))
    for user in (stranger, unrelated):
        tok = token(client, user)
        for response in (client.get(f"/api/v1/requests/{number}", headers=bearer(tok)),
                         act(client, tok, number, "withdraw"),
                         act(client, tok, number, "accept")):
            assert response.status_code == 404
            assert response.get_json() == {"error": NOT_FOUND}
    missing = client.get("/api/v1/requests/451200-2026-999999", headers=bearer(token(client, applicant)))
    assert missing.status_code == 404 and missing.get_json() == {"error": NOT_FOUND}


def test_staff_of_involved_archives_see_the_request(client, factory, applicant, records, staff):
    number = factory.request(applicant, records=[records["own_open"], records["remote_own"]]).number
    clerk = client.get(f"/api/v1/requests/{number}", headers=bearer(token(client, staff["clerk"]))).get_json()
    assert clerk["allowed_actions"] == ["accept"]
    assert clerk["holding_archives"] == ["450100", "451200"]
    remote = client.get(f"/api/v1/requests/{number}", headers=bearer(token(client, staff["remote_clerk"])))
    assert remote.status_code == 200 and remote.get_json()["allowed_actions"] == []
    # The holding archive sees it but takes none of the issuing archive's steps.
    response = act(client, token(client, staff["remote_clerk"]), number, "accept")
    assert response.status_code == 403 and response.get_json() == {"error": FORBIDDEN}


def test_a_staff_read_is_audited_and_the_applicants_is_not(client, session, factory, applicant, records, staff):
    number = factory.request(applicant, records=[records["own_open"]]).number
    views = select(AuditLog).where(AuditLog.action == "view_personal_data")
    assert client.get(f"/api/v1/requests/{number}", headers=bearer(token(client, applicant))).status_code == 200
    assert session.scalars(views).all() == []
    assert client.get(f"/api/v1/requests/{number}", headers=bearer(token(client, staff["clerk"]))).status_code == 200
    session.expire_all()
    [entry] = session.scalars(views).all()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (staff["clerk"].id, "request", number)


@pytest.mark.parametrize("number", ["x" * 200, "451200-2026-%00"])
def test_odd_numbers_are_404_not_500(client, applicant, number):
    response = client.get(f"/api/v1/requests/{number}", headers=bearer(token(client, applicant)))
    assert response.status_code == 404 and response.is_json


# ---- actions ---------------------------------------------------------------------------------------

@pytest.fixture
def number(factory, applicant, records):
    return factory.request(applicant, records=[records["own_open"]]).number


def test_withdraw_then_withdraw_again_is_409(client, session, applicant, number):
    tok = token(client, applicant)
    response = act(client, tok, number, "withdraw", {"note": "已在窗口办理"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"number": number, "status": "withdrawn", "version": 2}
    again = act(client, tok, number, "withdraw")
    assert again.status_code == 409
    body = again.get_json()
    assert body["error"] == "申请当前状态为“已撤回”，不能撤回申请"
    assert (body["status"], body["version"]) == ("withdrawn", 2)
    assert {k: body["latest"][k] for k in ("actor_role", "action", "to")} == {
        "actor_role": "applicant", "action": "withdraw", "to": "withdrawn"}
    events = client.get(f"/api/v1/requests/{number}", headers=bearer(tok)).get_json()["events"]
    assert [(e["action"], e["from"], e["to"], e["note"]) for e in events] == [
        ("submit", None, "submitted", ""), ("withdraw", "submitted", "withdrawn", "已在窗口办理")]
    assert count(session, RequestEvent) == 2


def test_withdraw_without_a_body(client, applicant, number):
    response = client.post(f"/api/v1/requests/{number}/actions/withdraw", headers=bearer(token(client, applicant)))
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"


def test_the_staff_steps_by_the_right_roles(client, session, factory, applicant, staff, number):
    clerk, reviewer, citizen = (token(client, staff["clerk"]), token(client, staff["reviewer"]),
                                token(client, applicant))
    refused = act(client, citizen, number, "accept")
    assert refused.status_code == 403 and refused.get_json() == {"error": FORBIDDEN}
    accepted = act(client, clerk, number, "accept")
    assert accepted.status_code == 200
    assert accepted.get_json() == {"number": number, "status": "in_review", "version": 2}
    clerk_approves = act(client, clerk, number, "approve")
    assert clerk_approves.status_code == 403 and clerk_approves.get_json() == {"error": FORBIDDEN}
    too_early = act(client, reviewer, number, "approve")
    assert too_early.status_code == 409 and too_early.get_json()["error"].startswith("还在等待馆藏馆核实")
    factory.verify_all(session.scalar(select(UtilizationRequest).where(UtilizationRequest.number == number)))
    approved = act(client, reviewer, number, "approve", {"note": "档案与申请一致"})
    assert approved.status_code == 200
    assert approved.get_json() == {"number": number, "status": "approved", "version": 3}
    issued = act(client, reviewer, number, "issue")
    assert issued.status_code == 200 and issued.get_json()["status"] == "issued"
    events = client.get(f"/api/v1/requests/{number}", headers=bearer(citizen)).get_json()["events"]
    assert [(e["actor_role"], e["action"], e["to"], e["note"]) for e in events] == [
        ("applicant", "submit", "submitted", ""), ("clerk", "accept", "in_review", ""),
        ("clerk", "verify", "in_review", "河池市档案馆：已核实"),
        ("reviewer", "approve", "approved", "档案与申请一致"), ("reviewer", "issue", "issued", "")]


def test_a_missing_required_note_is_400_note(client, session, staff, number):
    clerk, reviewer = token(client, staff["clerk"]), token(client, staff["reviewer"])
    assert act(client, clerk, number, "accept").status_code == 200
    for tok, action, body in ((clerk, "ask_supplement", {"note": "   "}),
                              (reviewer, "reject", {"note": "   ", "reason": "proof"})):
        response = act(client, tok, number, action, body)
        assert response.status_code == 400
        assert response.get_json() == {"error": "请填写说明", "field": "note", "errors": {"note": "请填写说明"}}
    # A reject names its reason too, as on the staff page: both problems are answered at once.
    response = act(client, reviewer, number, "reject", {"note": ""})
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"note": "请填写说明", "reason": "请选择不予通过的原因"}
    assert session.scalar(select(UtilizationRequest.status)) == "in_review"


def test_resubmit_with_a_file_after_ask_supplement(app, client, applicant, staff, number):
    clerk, citizen = token(client, staff["clerk"]), token(client, applicant)
    assert act(client, clerk, number, "accept").status_code == 200
    asked = act(client, clerk, number, "ask_supplement", {"note": "请补充户口簿复印件", "version": 2})
    assert asked.status_code == 200 and asked.get_json()["status"] == "needs_supplement"
    response = post_multipart(client, f"/api/v1/requests/{number}/actions/resubmit", headers=bearer(citizen),
                              data={"note": "已上传户口簿", "version": "3", "supplement": pdf("户口簿.pdf")})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"number": number, "status": "in_review", "version": 4}
    got = client.get(f"/api/v1/requests/{number}", headers=bearer(citizen)).get_json()
    assert got["files"] == [{"kind": "supplement", "name": "户口簿.pdf", "content_type": "application/pdf",
                             "size": len(files.pdf_bytes())}]
    assert [(e["action"], e["note"]) for e in got["events"]][-2:] == [
        ("ask_supplement", "请补充户口簿复印件"), ("resubmit", "已上传户口簿")]
    assert len(stored_files(app)) == 1


def test_resubmit_with_a_bad_file_is_400_and_stores_nothing(app, client, applicant, factory, records):
    number = factory.request(applicant, records=[records["own_open"]], status="needs_supplement").number
    response = post_multipart(client, f"/api/v1/requests/{number}/actions/resubmit",
                              headers=bearer(token(client, applicant)),
                              data={"files": (files.text_bytes(), "说明.pdf")})
    assert response.status_code == 400
    assert response.get_json()["field"] == "supplement"
    assert response.get_json()["error"] == "“说明.pdf”不是 PDF、JPG 或 PNG 文件"
    assert stored_files(app) == []


def test_files_only_go_with_resubmit(client, applicant, number):
    response = post_multipart(client, f"/api/v1/requests/{number}/actions/withdraw",
                              headers=bearer(token(client, applicant)), data={"supplement": pdf()})
    assert response.status_code == 400
    assert response.get_json()["field"] == "supplement"


def test_two_clerks_accept_the_same_request_the_second_gets_409(client, session, staff, number):
    first, second = token(client, staff["clerk"]), token(client, staff["clerk2"])
    assert act(client, first, number, "accept").status_code == 200
    response = act(client, second, number, "accept")
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "申请当前状态为“审核中”，不能受理"
    assert (body["status"], body["version"]) == ("in_review", 2)
    assert {k: body["latest"][k] for k in ("actor_role", "action", "to")} == {
        "actor_role": "clerk", "action": "accept", "to": "in_review"}
    assert count(session, RequestEvent) == 2


def test_a_stale_version_is_409(client, session, staff, number):
    clerk, reviewer = token(client, staff["clerk"]), token(client, staff["reviewer"])
    assert act(client, clerk, number, "accept", {"version": 1}).status_code == 200
    response = act(client, reviewer, number, "approve", {"version": 1})
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "申请刚刚已有新的办理进展，请查看最新状态后再操作"
    assert (body["status"], body["version"], body["latest"]["actor_role"]) == ("in_review", 2, "clerk")
    assert session.scalar(select(UtilizationRequest.status)) == "in_review"


@pytest.mark.parametrize("action", ["submit", "delete", "verify"])
def test_an_unknown_action_is_404(client, staff, number, action):
    response = act(client, token(client, staff["clerk"]), number, action)
    assert response.status_code == 404
    assert response.get_json() == {"error": f"未知的操作 {action} (unknown action {action})"}


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"json": {"note": 5}}, "note"),
    ({"json": {"version": "2"}}, "version"),
    ({"json": {"version": True}}, "version"),
    ({"json": {"reason": "x"}}, "reason"),
    ({"json": ["note"]}, "body"),
    ({"data": '{"note": ', "content_type": "application/json"}, "body"),
    ({"data": {"note": "x", "version": "two"}}, "version"),
    ({"data": {"comment": "x"}}, "comment"),
])
def test_bad_action_bodies_are_400_naming_the_field(client, session, applicant, number, kwargs, field):
    response = client.post(f"/api/v1/requests/{number}/actions/withdraw", headers=bearer(token(client, applicant)),
                           **kwargs)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field
    assert session.scalar(select(UtilizationRequest.status)) == "submitted"


def test_an_action_with_a_text_body_is_415(client, applicant, number):
    response = client.post(f"/api/v1/requests/{number}/actions/withdraw", headers=bearer(token(client, applicant)),
                           data="withdraw please", content_type="text/plain")
    assert response.status_code == 415 and response.is_json


def test_a_request_document_over_256_kb_is_400(client, session, applicant, records):
    doc = own_doc(records, purpose_note="说" * 100_000)  # 300 KB of UTF-8
    response = client.post("/api/v1/requests", json=doc, headers=bearer(token(client, applicant)))
    assert response.status_code == 400
    assert response.get_json()["error"] == "request 不能超过 256 KB (request must be at most 256 KB)"
    assert count(session, UtilizationRequest) == 0
