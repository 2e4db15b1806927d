"""The staff side over the JSON API: the queue (tabs, counts, filters, paging, who sees which archive),
verification tasks of holding archives (verify with a copy, not found with a note), claims, the staff
additions to a request's answer, and the 403/404/409s around them — the cross-archive flow
("query anywhere, issue locally") through the API only."""
from __future__ import annotations

import threading
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.audit.models import AuditLog
from portal.core import clock, workdays
from portal.requests.models import RequestEvent, RequestFile
from portal.review.models import VerificationTask
from portal.review.queue import encode_cursor
from tests import files
from tests.factories import PASSWORD, make_id_number

APPLICANT_ID = make_id_number("451202", "19650312", 301)
FIXED_TODAY = date(2026, 3, 2)  # a Monday: no holiday within the due dates
ZERO_COUNTS = {"to_accept": 0, "in_review": 0, "waiting": 0, "tasks": 0, "ready": 0, "to_issue": 0, "done": 0}
TASK_NOT_FOUND = "协办任务不存在，或者您无权查看 (no such task, or not yours to see)"
TASK_FORBIDDEN = "您不能对这项协办任务执行此操作 (you may not take this action on this task)"
REQUEST_FORBIDDEN = "您不能对这份申请执行此操作 (you may not take this action on this request)"


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(clock, "china_today", lambda: FIXED_TODAY)
    return FIXED_TODAY


@pytest.fixture
def archives(factory):
    """A issues; B and C hold; D is unrelated."""
    return {"A": factory.archive(code="451200", name="河池市档案馆"),
            "B": factory.archive(code="451202", name="金城江区档案馆", region="金城江区"),
            "C": factory.archive(code="451221", name="南丹县档案馆", region="南丹县"),
            "D": factory.archive(code="450100", name="南宁市档案馆", region="南宁市")}


@pytest.fixture
def applicant(factory, session):
    user = factory.user(email="wei@example.cn", name="韦秀英", id_number=APPLICANT_ID)
    user.phone = "13800000001"
    session.commit()
    return user


@pytest.fixture
def records(factory, archives, applicant):
    def own(archive, ref, title):
        return factory.record(archive, reference_code=ref, subject_name="韦秀英", subject_id_number=APPLICANT_ID,
                              access_level="restricted", title=title)
    return {"B": own(archives["B"], "J032-1985-0147", "韦秀英结婚登记审查处理表"),
            "C": own(archives["C"], "J010-1992-0003", "招工登记表"),
            "A": own(archives["A"], "J001-1990-0007", "职工养老保险缴费记录")}


@pytest.fixture
def staff(factory, archives):
    def make(key, role, archive, name):
        return factory.user(role, email=f"{key}@example.cn", archive=archives[archive] if archive else None,
                            name=name)
    return {"a_clerk": make("a_clerk", "clerk", "A", "李四"), "a_clerk2": make("a_clerk2", "clerk", "A", "韦五"),
            "a_reviewer": make("a_reviewer", "reviewer", "A", "覃六"),
            "b_clerk": make("b_clerk", "clerk", "B", "陆七"), "b_clerk2": make("b_clerk2", "clerk", "B", "蒙八"),
            "c_clerk": make("c_clerk", "clerk", "C", "黄九"), "d_clerk": make("d_clerk", "clerk", "D", "莫十"),
            "admin": make("admin", "admin", None, "管理员")}


class Api:
    """Calls as one person or another, each with their own bearer token (asked for once)."""

    def __init__(self, client, users):
        self.client, self.users, self.tokens = client, users, {}

    def headers(self, who) -> dict:
        user = self.users[who] if isinstance(who, str) else who
        if user.id not in self.tokens:
            response = self.client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
            assert response.status_code == 200
            self.tokens[user.id] = response.get_json()["token"]
        return {"Authorization": f"Bearer {self.tokens[user.id]}"}

    def get(self, who, url, **params):
        return self.client.get(url, headers=self.headers(who), query_string=params)

    def queue(self, who, **params):
        return self.get(who, "/api/v1/queue", **params)

    def act(self, who, number, action, body=None):
        return self.client.post(f"/api/v1/requests/{number}/actions/{action}", headers=self.headers(who),
                                json=body if body is not None else {})

    def task(self, who, task_id, action, body=None, **kwargs):
        url = f"/api/v1/tasks/{task_id}/actions/{action}"
        if kwargs:
            return self.client.post(url, headers=self.headers(who), **kwargs)
        return self.client.post(url, headers=self.headers(who), json=body if body is not None else {})

    def verify(self, who, task_id, copy=None, note: str | None = "已调卷核实", **extra):
        data = {**({"note": note} if note is not None else {}), **extra}
        if copy is not None:
            data["copy"] = copy
        return post_multipart(self.client, f"/api/v1/tasks/{task_id}/actions/verify", data,
                              headers=self.headers(who))


def post_multipart(client, url: str, data: dict, **kw):
    """multipart/form-data encoded in memory; (bytes, name) tuples and lists of them are files."""
    def part(value):
        if not isinstance(value, tuple):
            return value
        return FileStorage(stream=BytesIO(value[0]), filename=value[1])

    values = {k: [part(v) for v in value] if isinstance(value, list) else part(value) for k, value in data.items()}
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", **kw)


def pdf(name="核实件.pdf"):
    return (files.pdf_bytes(), name)


@pytest.fixture
def api(client, staff, applicant):
    return Api(client, {**staff, "applicant": applicant})


def apply_at_a(api, refs) -> str:
    """The citizen applies at A, through the API, for their records held by the given archives."""
    doc = {"records": [{"archive_code": code, "reference_code": ref} for code, ref in refs],
           "relation": "self", "purpose": "pension", "issuing_archive": "451200", "delivery": "download",
           "consent": True}
    response = api.client.post("/api/v1/requests", json=doc, headers=api.headers("applicant"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"]


@pytest.fixture
def number(api, records):
    """Applied at A for records held by B and C, then accepted by A's clerk."""
    number = apply_at_a(api, [("451202", records["B"].reference_code), ("451221", records["C"].reference_code)])
    assert api.act("a_clerk", number, "accept").status_code == 200
    return number


def task_id(api, who, number) -> str:
    """The id of the task routed to `who`'s archive, as their queue shows it."""
    items = api.queue(who, tab="tasks").get_json()["items"]
    return next(item["task_id"] for item in items if item["number"] == number)


def counts(api, who, **params) -> dict:
    response = api.queue(who, **params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["counts"]


def numbers(api, who, tab, **params) -> list[str]:
    response = api.queue(who, tab=tab, **params)
    assert response.status_code == 200, response.get_json()
    return [item["number"] for item in response.get_json()["items"]]


def answers(session) -> list[tuple[str, str]]:
    session.expire_all()
    return [tuple(row) for row in session.execute(
        select(RequestEvent.action, RequestEvent.note).where(RequestEvent.action.in_(("verify", "not_found")))
        .order_by(RequestEvent.id))]


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# ---- the whole cross-archive flow -------------------------------------------------------------------

def test_query_anywhere_issue_locally_through_the_api(app, session, api, records, staff, applicant):
    number = apply_at_a(api, [("451202", records["B"].reference_code), ("451221", records["C"].reference_code)])
    assert counts(api, "a_clerk") == {**ZERO_COUNTS, "to_accept": 1}
    to_accept = api.queue("a_clerk", tab="to_accept").get_json()
    assert to_accept["next"] is None
    assert to_accept["items"] == [{
        "kind": "request", "number": number, "status": "submitted", "issuing_archive": "451200",
        "due_date": "2026-03-16", "submitted_at": to_accept["items"][0]["submitted_at"], "claimed_by": None}]
    # Before acceptance nothing is routed to the holding archives.
    assert counts(api, "b_clerk") == counts(api, "c_clerk") == ZERO_COUNTS

    accepted = api.act("a_clerk", number, "accept")
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "in_review"
    # A holds none of the records: no task for A, one each for B and C.
    assert counts(api, "a_clerk") == {**ZERO_COUNTS, "in_review": 1}
    assert numbers(api, "a_clerk", "tasks") == []
    for who, code in (("b_clerk", "451202"), ("c_clerk", "451221")):
        assert counts(api, who) == {**ZERO_COUNTS, "tasks": 1}
        [item] = api.queue(who, tab="tasks").get_json()["items"]
        assert item == {"kind": "task", "number": number, "task_id": item["task_id"], "status": "open",
                        "issuing_archive": "451200", "holding_archive": code, "due_date": "2026-03-06",
                        "submitted_at": item["submitted_at"], "claimed_by": None}
    b_task, c_task = task_id(api, "b_clerk", number), task_id(api, "c_clerk", number)

    too_early = api.act("a_reviewer", number, "approve")
    assert too_early.status_code == 409
    assert too_early.get_json()["error"] == "还在等待馆藏馆核实：金城江区档案馆、南丹县档案馆"

    verified = api.verify("b_clerk", b_task, pdf(), note="已调卷，与原件核对一致")
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json() == {"task_id": b_task, "status": "answered", "result": "verified", "version": 2,
                                   "holding_archive": "451202", "claimed_by": None,
                                   "request": {"number": number, "status": "in_review"}}
    still_early = api.act("a_reviewer", number, "approve")
    assert still_early.status_code == 409 and still_early.get_json()["error"] == "还在等待馆藏馆核实：南丹县档案馆"

    not_found = api.task("c_clerk", c_task, "not_found", {"note": "查阅 1990—1995 年招工档案，未见此人"})
    assert not_found.status_code == 200
    assert (not_found.get_json()["status"], not_found.get_json()["result"]) == ("answered", "not_found")
    assert counts(api, "b_clerk") == counts(api, "c_clerk") == ZERO_COUNTS
    assert counts(api, "a_clerk") == {**ZERO_COUNTS, "ready": 1}
    assert numbers(api, "a_reviewer", "ready") == [number]

    approved = api.act("a_reviewer", number, "approve", {"note": "核实结果齐全"})
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    assert counts(api, "a_reviewer") == {**ZERO_COUNTS, "to_issue": 1}
    assert numbers(api, "a_reviewer", "to_issue") == [number]

    # The issuing archive sees every task with its result and attachment, and the applicant in full.
    got = api.get("a_clerk", f"/api/v1/requests/{number}").get_json()
    assert got["applicant"] == {"name": "韦秀英", "id_number": APPLICANT_ID, "email": "wei@example.cn",
                                "phone": "13800000001"}
    assert got["claimed_by"] is None
    by_archive = {t["holding_archive"]: t for t in got["tasks"]}
    assert by_archive["451202"] == {
        "task_id": b_task, "holding_archive": "451202", "status": "answered", "result": "verified",
        "note": "已调卷，与原件核对一致", "due_date": "2026-03-06", "version": 2, "claimed_by": None,
        "answered_by": {"name": "陆七", "email": "b_clerk@example.cn"},
        "answered_at": by_archive["451202"]["answered_at"],
        "copy": {"name": "核实件.pdf", "content_type": "application/pdf", "size": len(files.pdf_bytes())},
        "allowed_actions": []}
    assert (by_archive["451221"]["result"], by_archive["451221"]["note"], by_archive["451221"]["copy"]) == (
        "not_found", "查阅 1990—1995 年招工档案，未见此人", None)
    assert [f["kind"] for f in got["files"]] == ["certified_copy"]
    views = session.scalars(select(AuditLog).where(AuditLog.action == "view_personal_data",
                                                   AuditLog.actor_id == staff["a_clerk"].id)).all()
    assert [v.object_id for v in views] == [number]

    # A holding archive sees its own task only, and not the applicant's identity.
    held = api.get("b_clerk", f"/api/v1/requests/{number}").get_json()
    assert [t["task_id"] for t in held["tasks"]] == [b_task] and "applicant" not in held

    # The applicant: their request, the timeline with each archive's answer; nothing internal.
    own = api.get("applicant", f"/api/v1/requests/{number}").get_json()
    assert not {"tasks", "applicant", "claimed_by"} & own.keys()
    assert own["files"] == []  # the certified copy reaches them on the certificate
    assert [(e["actor_role"], e["action"], e["note"]) for e in own["events"]] == [
        ("applicant", "submit", ""), ("clerk", "accept", ""), ("clerk", "verify", "金城江区档案馆：已调卷，与原件核对一致"),
        ("clerk", "not_found", "南丹县档案馆：查阅 1990—1995 年招工档案，未见此人"), ("reviewer", "approve", "核实结果齐全")]
    assert len(stored_files(app)) == 1


def test_records_of_the_issuing_archive_itself_get_a_task_for_its_own_clerk(api, records):
    number = apply_at_a(api, [("451200", records["A"].reference_code), ("451202", records["B"].reference_code)])
    assert api.act("a_clerk", number, "accept").status_code == 200
    assert counts(api, "a_clerk") == {**ZERO_COUNTS, "in_review": 1, "tasks": 1}
    own_task = task_id(api, "a_clerk", number)
    assert api.verify("a_clerk", own_task, pdf()).status_code == 200
    assert counts(api, "a_clerk") == {**ZERO_COUNTS, "in_review": 1}  # still waiting for B


# ---- the queue ----------------------------------------------------------------------------------------

def test_citizens_get_403_and_no_token_401(client, api):
    response = api.queue("applicant")
    assert response.status_code == 403
    assert response.get_json() == {"error": "工作队列仅供档案馆工作人员使用 (the queue is for archive staff)"}
    anonymous = client.get("/api/v1/queue")
    assert anonymous.status_code == 401 and anonymous.is_json


def test_staff_see_their_own_archive_admins_any_or_all(factory, api, archives, applicant):
    for _ in range(2):
        factory.request(applicant, issuing=archives["A"])
    factory.request(factory.user(name="张三"), issuing=archives["D"])
    assert counts(api, "a_clerk") == {**ZERO_COUNTS, "to_accept": 2}
    assert counts(api, "a_clerk", archive="451200") == {**ZERO_COUNTS, "to_accept": 2}
    assert counts(api, "d_clerk") == {**ZERO_COUNTS, "to_accept": 1}
    assert counts(api, "admin") == {**ZERO_COUNTS, "to_accept": 3}
    assert counts(api, "admin", archive="450100") == {**ZERO_COUNTS, "to_accept": 1}
    assert len(numbers(api, "admin", "to_accept", archive="451200")) == 2

    other = api.queue("a_clerk", archive="450100")
    assert other.status_code == 403
    assert other.get_json()["field"] == "archive"
    assert other.get_json()["error"] == "只能查看本馆的工作队列 (staff see their own archive's queue only)"
    unknown = api.queue("admin", archive="999999")
    assert unknown.status_code == 400
    assert (unknown.get_json()["field"], unknown.get_json()["error"]) == (
        "archive", "未知的档案馆 999999 (unknown archive 999999)")


def test_keyset_paging_with_after(factory, api, archives, applicant):
    made = [factory.request(applicant, issuing=archives["A"]).number for _ in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"tab": "to_accept", "limit": 2, **({"after": cursor} if cursor else {})}
        page = api.queue("a_clerk", **params).get_json()
        seen += [item["number"] for item in page["items"]]
        pages += 1
        cursor = page["next"]
        assert page["counts"]["to_accept"] == 5
        if cursor is None:
            break
    assert pages == 3 and seen == made  # same due date: in order of arrival, none twice


def test_filters(factory, api, archives, applicant, records):
    via_b = apply_at_a(api, [("451202", records["B"].reference_code)])
    other_person = factory.request(factory.user(name="黄桂兰"), issuing=archives["A"], relation="self")
    assert numbers(api, "a_clerk", "to_accept", find="桂兰") == [other_person.number]
    assert numbers(api, "a_clerk", "to_accept", find=via_b) == [via_b]
    assert numbers(api, "a_clerk", "to_accept", category="land_contract") == []
    assert sorted(numbers(api, "a_clerk", "to_accept", category="marriage", relation="self")) == sorted(
        [via_b, other_person.number])
    assert numbers(api, "a_clerk", "to_accept", date_from="2000-01-01", date_to="2000-12-31") == []
    assert numbers(api, "a_clerk", "to_accept", other_archive="451202") == [via_b]  # before any task exists
    assert api.act("a_clerk", via_b, "accept").status_code == 200
    assert numbers(api, "a_clerk", "in_review", other_archive="451202") == [via_b]
    assert numbers(api, "a_clerk", "in_review", other_archive="451221") == []
    assert numbers(api, "b_clerk", "tasks", other_archive="451200") == [via_b]
    assert numbers(api, "b_clerk", "tasks", other_archive="450100") == []


BAD_QUEUE = [
    ({"tab": "inbox"}, "tab", "未知的分类：inbox"),
    ({"after": "not a cursor"}, "after", "翻页参数无效，请从第一页重新开始"),
    ({"after": encode_cursor(date(2026, 1, 1), 10**30)}, "after", "翻页参数无效，请从第一页重新开始"),
    ({"date_from": "2026-13-01"}, "date_from",
     "date_from 应为 YYYY-MM-DD 格式的日期 (date_from must be a date as YYYY-MM-DD)"),
    ({"date_to": "9999-12-31"}, "date_to", "date_to 应为 YYYY-MM-DD 格式的日期 (date_to must be a date as YYYY-MM-DD)"),
    ({"date_to": "20260301"}, "date_to", "date_to 应为 YYYY-MM-DD 格式的日期 (date_to must be a date as YYYY-MM-DD)"),
    ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_from",
     "date_from 不能晚于 date_to (date_from must not be after date_to)"),
    ({"limit": "0"}, "limit", "每页条数应在 1 至 100 之间"),
    ({"limit": "ten"}, "limit", "字段 limit 应为整数 (limit must be an integer)"),
    ({"category": "wedding"}, "category", "未知的档案类别：wedding"),
    ({"relation": "friend"}, "relation", "未知的关系"),
    ({"other_archive": "999999"}, "other_archive", "未知的档案馆 999999 (unknown archive 999999)"),
    ({"find": "韦" * 101}, "find", "检索词不能超过 100 个字"),
    ({"find": "a\x00b"}, "find", "字段 find 含有无效字符 (find contains invalid characters)"),
    ({"archive_filter": "451202"}, "archive_filter", "未知字段 archive_filter (unknown field archive_filter)"),
]


@pytest.mark.parametrize(("params", "field", "message"), BAD_QUEUE, ids=[b[1] + "-" + str(i) for i, b in
                                                                       enumerate(BAD_QUEUE)])
def test_bad_queue_parameters_are_400_naming_the_field(api, params, field, message):
    response = api.queue("a_clerk", **params)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert (body["field"], body["error"]) == (field, message)


# ---- claims ---------------------------------------------------------------------------------------------

def test_claiming_a_request(session, api, number, staff):
    claimed = api.act("a_clerk", number, "claim")
    assert claimed.status_code == 200
    assert claimed.get_json() == {"number": number, "status": "in_review", "version": 3,
                                  "claimed_by": {"name": "李四", "email": "a_clerk@example.cn"}}
    [item] = api.queue("a_clerk2", tab="in_review").get_json()["items"]
    assert item["claimed_by"] == {"name": "李四", "email": "a_clerk@example.cn"}
    assert api.get("a_reviewer", f"/api/v1/requests/{number}").get_json()["claimed_by"]["name"] == "李四"

    second = api.act("a_clerk2", number, "claim")
    assert second.status_code == 409
    assert second.get_json() == {"error": "已由李四认领", "status": "in_review", "version": 3,
                                 "claimed_by": {"name": "李四", "email": "a_clerk@example.cn"}}
    not_theirs = api.act("a_clerk2", number, "release")
    assert not_theirs.status_code == 409
    assert not_theirs.get_json()["error"] == "已由李四认领，只有本人或管理员可以释放"
    released = api.act("a_clerk", number, "release")
    assert released.status_code == 200 and released.get_json()["claimed_by"] is None

    stale = api.act("a_clerk2", number, "claim", {"version": 3})
    assert stale.status_code == 409 and stale.get_json()["error"] == "已有新的变化，请查看最新状态后再操作"

    # Admins hand it to someone of the issuing archive; nobody else may, and nobody else claims it.
    reassigned = api.act("admin", number, "reassign", {"to": "A_Clerk2@example.cn"})
    assert reassigned.status_code == 200
    assert reassigned.get_json()["claimed_by"] == {"name": "韦五", "email": "a_clerk2@example.cn"}
    for to in ("b_clerk@example.cn", "nobody@example.cn"):
        wrong = api.act("admin", number, "reassign", {"to": to})
        assert wrong.status_code == 400
        assert (wrong.get_json()["field"], wrong.get_json()["error"]) == ("to", "只能指派给该档案馆的工作人员")
    assert api.act("admin", number, "reassign", {}).get_json()["field"] == "to"
    assert api.act("a_clerk", number, "reassign", {"to": "a_clerk@example.cn"}).get_json() == {
        "error": REQUEST_FORBIDDEN}
    for who in ("applicant", "b_clerk"):  # the applicant; a holding archive, which may see the request
        response = api.act(who, number, "claim")
        assert response.status_code == 403 and response.get_json() == {"error": REQUEST_FORBIDDEN}
    assert api.act("d_clerk", number, "claim").status_code == 404
    assert api.act("a_clerk", number, "claim", {"note": "我来办"}).get_json()["field"] == "note"

    session.expire_all()
    logged = session.execute(select(AuditLog.action, AuditLog.actor_id).where(AuditLog.object_type == "request",
                                                                             AuditLog.action != "view_personal_data")
                             .order_by(AuditLog.id)).all()
    assert [tuple(row) for row in logged] == [("claim", staff["a_clerk"].id), ("release", staff["a_clerk"].id),
                                              ("reassign", staff["admin"].id)]


def test_claiming_a_task(api, number, factory, staff):
    b_task = task_id(api, "b_clerk", number)
    claimed = api.task("b_clerk", b_task, "claim")
    assert claimed.status_code == 200
    assert claimed.get_json()["claimed_by"] == {"name": "陆七", "email": "b_clerk@example.cn"}
    assert api.queue("b_clerk2", tab="tasks").get_json()["items"][0]["claimed_by"]["name"] == "陆七"
    second = api.task("b_clerk2", b_task, "claim")
    assert second.status_code == 409
    body = second.get_json()
    assert body["error"] == "已由陆七认领"
    assert (body["task_id"], body["status"], body["claimed_by"]["name"]) == (b_task, "open", "陆七")
    assert api.task("b_clerk2", b_task, "release").status_code == 409
    assert api.task("b_clerk", b_task, "release").get_json()["claimed_by"] is None
    assert api.task("admin", b_task, "reassign", {"to": "b_clerk2@example.cn"}).get_json()["claimed_by"][
        "name"] == "蒙八"
    assert api.task("b_clerk", b_task, "claim").status_code == 409
    b_reviewer = factory.user("reviewer", email="b_reviewer@example.cn", archive=staff["b_clerk"].archive)
    to_reviewer = api.task("admin", b_task, "reassign", {"to": b_reviewer.email})  # reviewers do not verify
    assert to_reviewer.status_code == 400 and to_reviewer.get_json()["field"] == "to"
    assert api.task("admin", b_task, "release").get_json()["claimed_by"] is None  # admins release anyone's
    assert api.task("a_clerk", b_task, "claim").get_json() == {"error": TASK_FORBIDDEN}


# ---- answering tasks: 400, 403, 404, 409 --------------------------------------------------------------

def test_bad_answers_are_400_naming_the_field(app, session, api, number):
    b_task = task_id(api, "b_clerk", number)
    cases = [
        (api.verify("b_clerk", b_task), "copy", "请上传核实后的档案复制件（PDF、JPG 或 PNG）"),
        (api.task("b_clerk", b_task, "verify", {"note": "已核实"}), "copy", "请上传核实后的档案复制件（PDF、JPG 或 PNG）"),
        (api.verify("b_clerk", b_task, (files.text_bytes(), "核实件.pdf")), "copy", "“核实件.pdf”不是 PDF、JPG 或 PNG 文件"),
        (api.verify("b_clerk", b_task, [pdf("一.pdf"), pdf("二.pdf")]), "copy",
         "只能附带一个复制件文件 (send one copy file only)"),
        (api.verify("b_clerk", b_task, pdf(), attachment=pdf()), "attachment",
         "未知字段 attachment (unknown field attachment)"),
        (api.verify("b_clerk", b_task, "see mail"), "copy", "字段 copy 应为文件 (copy must be a file part)"),
        (api.verify("b_clerk", b_task, pdf(), version="two"), "version",
         "字段 version 应为整数 (version must be an integer)"),
        (api.task("b_clerk", b_task, "not_found", {"note": "  "}), "note", "请说明查找了哪些范围"),
        (api.task("b_clerk", b_task, "not_found", {"note": 5}), "note", "字段 note 应为字符串 (note must be a string)"),
        (post_multipart(api.client, f"/api/v1/tasks/{b_task}/actions/not_found", {"note": "未找到", "copy": pdf()},
                        headers=api.headers("b_clerk")), "copy", "只有 verify 可以附带复制件 (only verify takes a copy)"),
        (api.task("b_clerk", b_task, "not_found", data="[1]", content_type="application/json"), "body",
         "body 应为 JSON 对象 (body must be a JSON object)"),
    ]
    for response, field, message in cases:
        assert response.status_code == 400, response.get_json()
        assert (response.get_json()["field"], response.get_json()["error"]) == (field, message)
    text = api.task("b_clerk", b_task, "not_found", data="not found", content_type="text/plain")
    assert text.status_code == 415 and text.is_json
    assert answers(session) == [] and stored_files(app) == []
    assert session.scalar(select(VerificationTask.status).where(VerificationTask.public_id == b_task)) == "open"


def test_who_may_answer_a_task(session, api, number, staff, factory):
    b_task = task_id(api, "b_clerk", number)
    # The issuing archive and admins see the task (it is on their request's answer) but do not answer it.
    assert b_task in [t["task_id"] for t in api.get("a_clerk", f"/api/v1/requests/{number}").get_json()["tasks"]]
    for who in ("a_clerk", "a_reviewer", "admin"):
        response = api.verify(who, b_task, pdf())
        assert response.status_code == 403 and response.get_json() == {"error": TASK_FORBIDDEN}
    b_reviewer = factory.user("reviewer", email="b_reviewer@example.cn", archive=staff["b_clerk"].archive)
    assert api.task(b_reviewer, b_task, "not_found", {"note": "无"}).status_code == 403  # clerks verify
    # Another holding archive's staff, an unrelated archive's, the applicant: no such task for them.
    for who in ("c_clerk", "d_clerk", "applicant"):
        response = api.verify(who, b_task, pdf())
        assert response.status_code == 404 and response.get_json() == {"error": TASK_NOT_FOUND}
    for bad_id in ("nope", "x" * 200, "a%00b"):
        assert api.task("b_clerk", bad_id, "not_found", {"note": "无"}).status_code == 404
    unknown = api.task("b_clerk", b_task, "approve")
    assert unknown.status_code == 404 and unknown.get_json() == {"error": "未知的操作 approve (unknown action approve)"}
    assert answers(session) == []
    assert api.task("b_clerk", b_task, "not_found", {"note": "无此卷"}).status_code == 200


def test_conflicting_answers_one_wins_the_other_hears_who(app, session, api, number):
    b_task = task_id(api, "b_clerk", number)
    first = api.verify("b_clerk", b_task, pdf(), version="1")
    assert first.status_code == 200
    second = api.task("b_clerk2", b_task, "not_found", {"note": "库房中未找到"})
    assert second.status_code == 409
    assert second.get_json() == {"error": "这项协办任务已由陆七处理", "task_id": b_task, "status": "answered",
                                 "result": "verified", "version": 2, "holding_archive": "451202",
                                 "claimed_by": None, "request": {"number": number, "status": "in_review"}}
    again = api.verify("b_clerk2", b_task, pdf())
    assert again.status_code == 409 and again.get_json()["error"] == "这项协办任务已由陆七处理"
    assert answers(session) == [("verify", "金城江区档案馆：已调卷核实")]
    assert len(stored_files(app)) == 1


def test_a_stale_task_version_is_409(session, api, number):
    c_task = task_id(api, "c_clerk", number)
    assert api.task("c_clerk", c_task, "claim").get_json()["version"] == 2
    stale = api.task("c_clerk", c_task, "not_found", {"note": "未找到", "version": 1})
    assert stale.status_code == 409
    assert stale.get_json()["error"] == "这项协办任务刚刚有了变化，请查看最新状态后再操作"
    assert api.task("c_clerk", c_task, "not_found", {"note": "未找到", "version": 2}).status_code == 200


def test_a_task_of_a_request_no_longer_in_review_is_409(api, number):
    b_task = task_id(api, "b_clerk", number)
    assert api.act("a_clerk", number, "ask_supplement", {"note": "请补充身份证复印件"}).status_code == 200
    response = api.task("b_clerk", b_task, "not_found", {"note": "未找到"})
    assert response.status_code == 409
    assert response.get_json()["error"] == "申请当前不在审核中，无需核实"
    assert response.get_json()["request"] == {"number": number, "status": "needs_supplement"}


def test_threads_racing_to_answer_the_same_task_exactly_one_wins(app, session, api, number, factory, staff):
    """Several clerks of the holding archive answer the same task at the same moment, each with their own
    client, session and connection; half verify with a copy, half report not found."""
    b_task = task_id(api, "b_clerk", number)
    clerks = [staff["b_clerk"], staff["b_clerk2"]]
    clerks += [factory.user("clerk", email=f"b_clerk{i}@example.cn", archive=clerks[0].archive, name=f"馆员{i}")
               for i in range(3, 7)]
    headers = {clerk.id: api.headers(clerk) for clerk in clerks}
    start = threading.Barrier(len(clerks))
    outcomes: list[tuple[int, int, dict]] = []
    lock = threading.Lock()

    def desk(i: int, clerk_id: int) -> None:
        client = app.test_client()
        start.wait(timeout=10)
        try:
            if i % 2:
                response = post_multipart(client, f"/api/v1/tasks/{b_task}/actions/verify",
                                          {"note": f"核实{i}", "copy": pdf()}, headers=headers[clerk_id])
            else:
                response = client.post(f"/api/v1/tasks/{b_task}/actions/not_found", json={"note": f"未找到{i}"},
                                       headers=headers[clerk_id])
            outcome = (clerk_id, response.status_code, response.get_json())
        except Exception as exc:  # noqa: BLE001 — reported below
            outcome = (clerk_id, 0, {"error": repr(exc)})
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=desk, args=(i, clerk.id)) for i, clerk in enumerate(clerks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(status for _id, status, _body in outcomes) == [200] + [409] * (len(clerks) - 1), outcomes
    [(winner_id, _status, won)] = [o for o in outcomes if o[1] == 200]
    winner = next(clerk for clerk in clerks if clerk.id == winner_id)
    assert {body["error"] for _id, status, body in outcomes if status == 409} == {
        f"这项协办任务已由{winner.real_name}处理"}
    [(action, _note)] = answers(session)
    assert action == ("verify" if won["result"] == "verified" else "not_found")
    assert len(stored_files(app)) == (1 if action == "verify" else 0)
    assert session.scalar(select(func.count()).select_from(RequestFile)
                          .where(RequestFile.kind == "certified_copy")) == (1 if action == "verify" else 0)


# ---- reject with a reason -----------------------------------------------------------------------------

def test_reject_with_a_reason_from_the_list(session, api, number):
    unknown = api.act("a_reviewer", number, "reject", {"reason": "bored", "note": "x"})
    assert unknown.status_code == 400
    assert (unknown.get_json()["field"], unknown.get_json()["error"]) == (
        "reason", "未知的不予通过理由 bored (unknown reason bored)")
    no_note = api.act("a_reviewer", number, "reject", {"reason": "proof"})
    assert no_note.status_code == 400 and no_note.get_json()["field"] == "note"
    not_a_string = api.act("a_reviewer", number, "reject", {"reason": 1, "note": "x"})
    assert not_a_string.status_code == 400 and not_a_string.get_json()["field"] == "reason"
    clerk = api.act("a_clerk", number, "reject", {"reason": "proof", "note": "x"})
    assert clerk.status_code == 403
    rejected = api.act("a_reviewer", number, "reject", {"reason": "proof", "note": "亲属关系证明无法辨认"})
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    events = api.get("applicant", f"/api/v1/requests/{number}").get_json()["events"]
    assert (events[-1]["action"], events[-1]["note"]) == ("reject", "证明材料不足或无效：亲属关系证明无法辨认")


def test_reject_without_a_reason_and_as_a_form(api, records):
    number = apply_at_a(api, [("451202", records["B"].reference_code)])
    assert api.act("a_clerk", number, "accept").status_code == 200
    response = post_multipart(api.client, f"/api/v1/requests/{number}/actions/reject",
                              {"note": "申请人已在窗口办结", "reason": "other", "version": "2"},
                              headers=api.headers("a_reviewer"))
    assert response.status_code == 200, response.get_json()
    events = api.get("applicant", f"/api/v1/requests/{number}").get_json()["events"]
    assert events[-1]["note"] == "其他原因：申请人已在窗口办结"
    with_file = post_multipart(api.client, f"/api/v1/requests/{number}/actions/reject",
                               {"note": "x", "supplement": pdf()}, headers=api.headers("a_reviewer"))
    assert with_file.status_code == 400 and with_file.get_json()["field"] == "supplement"


def test_queue_answers_are_not_cached(api, factory, archives, applicant):
    factory.request(applicant, issuing=archives["A"])
    response = api.queue("a_clerk")
    assert response.status_code == 200 and response.is_json
    assert response.headers["Cache-Control"] == "no-store"


def test_odd_inputs_are_answered_in_json_never_500(api, number):
    b_task = task_id(api, "b_clerk", number)
    deep = "[" * 100_000
    calls = [
        (api.queue("a_clerk", tab="\u202etasks"), 400),
        (api.queue("a_clerk", after="=" * 5000), 400),
        (api.queue("a_clerk", after=encode_cursor(date(2026, 1, 1), -1)), 400),
        (api.queue("admin", archive="\x00"), 400),
        (api.queue("a_clerk", other_archive="9" * 5000), 400),
        (api.queue("a_clerk", date_from="٢٠٢٦-٠٣-٠١"), 400),  # Arabic-Indic digits
        (api.queue("a_clerk", limit="1" * 40), 400),
        (api.task("b_clerk", b_task, "not_found", data=deep, content_type="application/json"), 400),
        (api.task("b_clerk", b_task, "not_found", {"note": "说" * 2001}), 400),
        (api.task("b_clerk", b_task, "not_found", {"note": "a\x00b"}), 400),
        (api.task("b_clerk", b_task, "claim", {"version": 10**30}), 409),
        (api.task("b_clerk", "任务", "claim"), 404),
        (api.act("a_clerk", number, "claim", {"version": "3"}), 400),
        (api.act("admin", number, "reassign", {"to": "x" * 1000}), 400),
        (api.client.post(f"/api/v1/tasks/{b_task}/actions/verify", headers=api.headers("b_clerk"),
                         data=b"--x\r\nbroken", content_type="multipart/form-data; boundary=x"), 400),
    ]
    for response, status in calls:
        assert response.status_code == status and response.is_json, (response.status_code, response.get_data())


# ---- "please search for me": the clerk chooses where; ended requests cancel their tasks -------------

def apply_search_at_a(api, archives_named) -> str:
    doc = {"search": {"category": "marriage", "year_from": 1980, "year_to": 1990, "archives": archives_named},
           "relation": "self", "purpose": "pension", "issuing_archive": "451200", "delivery": "download",
           "consent": True}
    response = api.client.post("/api/v1/requests", json=doc, headers=api.headers("applicant"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"]


def task_archives(api, number) -> list[str]:
    return sorted(t["holding_archive"] for t in api.get("a_clerk", f"/api/v1/requests/{number}").get_json()["tasks"])


def test_accept_chooses_the_archives_that_search(api, archives):
    number = apply_search_at_a(api, ["451202"])
    response = api.act("a_clerk", number, "accept", {"version": 1, "archives": ["451221", "450100"]})
    assert response.status_code == 200, response.get_json()
    assert task_archives(api, number) == ["450100", "451221"]
    assert numbers(api, "d_clerk", "tasks") == [number]
    assert numbers(api, "b_clerk", "tasks") == []


def test_accept_chooses_the_archives_as_a_repeated_form_field(api, archives):
    number = apply_search_at_a(api, ["451202"])
    response = post_multipart(api.client, f"/api/v1/requests/{number}/actions/accept",
                              {"archives": ["451202", "451221"]}, headers=api.headers("a_clerk"))
    assert response.status_code == 200, response.get_json()
    assert task_archives(api, number) == ["451202", "451221"]


@pytest.mark.parametrize(("archives_sent", "message"), [
    ([], "请至少选择一个档案馆"),
    (["451202", "999999"], "未知的档案馆代码：999999"),
])
def test_a_bad_choice_of_archives_is_400_and_changes_nothing(api, archives, archives_sent, message):
    number = apply_search_at_a(api, ["451202"])
    response = api.act("a_clerk", number, "accept", {"archives": archives_sent})
    assert response.status_code == 400
    assert response.get_json()["field"] == "archives" and response.get_json()["error"] == message
    assert api.get("a_clerk", f"/api/v1/requests/{number}").get_json()["status"] == "submitted"


@pytest.mark.parametrize("body", [{"archives": "451202"}, {"archives": [451202]}])
def test_archives_must_be_a_list_of_codes(api, archives, body):
    number = apply_search_at_a(api, ["451202"])
    response = api.act("a_clerk", number, "accept", body)
    assert response.status_code == 400 and response.get_json()["field"] == "archives"


def test_archives_are_refused_for_records_and_for_other_actions(api, records):
    number = apply_at_a(api, [("451202", records["B"].reference_code)])
    response = api.act("a_clerk", number, "accept", {"archives": ["451202"]})
    assert response.status_code == 400 and response.get_json()["field"] == "archives"
    assert api.act("applicant", number, "withdraw", {"archives": ["451202"]}).status_code == 400


def test_a_withdrawn_requests_tasks_are_cancelled(api, number):
    b_task = task_id(api, "b_clerk", number)
    assert api.act("applicant", number, "withdraw").status_code == 200
    tasks = {t["holding_archive"]: t for t in api.get("a_clerk", f"/api/v1/requests/{number}").get_json()["tasks"]}
    assert {code: (t["status"], t["result"], t["allowed_actions"]) for code, t in tasks.items()} == {
        "451202": ("cancelled", None, []), "451221": ("cancelled", None, [])}
    assert counts(api, "b_clerk")["tasks"] == 0
    response = api.task("c_clerk", task_id_of(tasks, "451221"), "not_found", {"note": "未找到"})
    assert response.status_code == 409
    assert api.verify("b_clerk", b_task, pdf()).status_code == 409


def task_id_of(tasks: dict, code: str) -> str:
    return tasks[code]["task_id"]


def test_verify_can_print_its_note_on_the_certificate(app, session, api, number):
    b_task = task_id(api, "b_clerk", number)
    no_note = api.verify("b_clerk", b_task, pdf(), note=None, print_note="true")
    assert no_note.status_code == 400 and no_note.get_json()["field"] == "note"
    assert api.verify("b_clerk", b_task, pdf(), note="原件第3页有涂改，已核对", print_note="true").status_code == 200
    task = session.scalar(select(VerificationTask).where(VerificationTask.public_id == b_task))
    session.refresh(task)
    assert task.print_note is True
