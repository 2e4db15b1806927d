"""Counter intake (现场接待): a clerk finds or creates a walk-in's verified account by the ID number on
the card in hand, registers their request (channel "counter"), accepts it and verifies the records
their archive holds; the ID number never appears in a URL or a log line."""
from __future__ import annotations

import logging
from io import BytesIO

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.models import AuditLog
from portal.core.personal_data import cipher
from portal.requests.models import UtilizationRequest
from tests.factories import PASSWORD, make_id_number
from tests.files import pdf_bytes
from tests.helpers import field_error, login, logout, parse, submit, text

NUMBER = make_id_number(region="451202", born="19700101", seq=456)


@pytest.fixture
def desk(factory, client):
    archive = factory.archive("451200", "河池市档案馆")
    clerk = factory.user("clerk", archive=archive, name="李接待", email="clerk@example.cn")
    login(client, clerk.email, PASSWORD)
    return archive, clerk


def _url(archive, tail: str = "") -> str:
    return f"/admin/{archive.code}/counter{tail}"


def _lookup(client, archive, number: str):
    return submit(client, _url(archive, "/lookup"), {"id_number": number}, form_url=_url(archive))


def _create(client, archive, **fields):
    data = {"id_number": NUMBER, "name": "王秀英", "phone": "13800138000", "email": "", **fields}
    return submit(client, _url(archive, "/citizen"), data, form_url=_url(archive))


def _register(client, archive, citizen, key: str = "k1", files=None, **fields):
    _lookup(client, archive, NUMBER)  # the citizen is chosen by their ID number first
    data = {"citizen": str(citizen.id), "key": key, "kind": "records", "relation": "self", "purpose": "pension",
            "delivery": "pickup", "consent": "1", **fields, **(files or {})}
    return submit(client, _url(archive, "/submit"), data, form_url=_url(archive))


def test_lookup_of_an_unknown_number_offers_to_create_the_account(client, desk, session):
    archive, clerk = desk
    response = _lookup(client, archive, NUMBER)
    assert response.status_code == 200
    page = parse(response)
    assert "没有这个身份证号码的账号" in text(page.select_one("#citizen-h"))
    # what was typed is kept, in the form body only
    assert page.select_one("#id_number")["value"] == NUMBER
    row = session.scalar(select(AuditLog).where(AuditLog.action == "counter_lookup"))
    assert row.actor_id == clerk.id and row.object_type == "archive" and NUMBER not in str(row.details)


def test_lookup_with_a_wrong_check_digit_says_so_and_keeps_the_number(client, desk):
    archive, _clerk = desk
    wrong = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")
    response = _lookup(client, archive, wrong)
    assert response.status_code == 422
    assert "校验位不正确" in field_error(response.get_data(as_text=True), "id_number")
    assert parse(response).select_one("#id_number")["value"] == wrong


def test_a_verified_account_found_goes_straight_to_the_intake_form(client, desk, factory, session):
    archive, clerk = desk
    citizen = factory.user(id_number=NUMBER, name="王秀英")
    response = _lookup(client, archive, NUMBER)
    page = parse(response)
    assert page.select_one("input[name=citizen]")["value"] == str(citizen.id)
    row = session.scalar(select(AuditLog).where(AuditLog.action == "counter_lookup"))
    assert row.object_type == "user" and row.object_id == str(citizen.id)


def test_an_unverified_account_found_is_verified_by_the_counter_check(client, desk, factory, session):
    archive, _clerk = desk
    citizen = factory.user(id_number=NUMBER, name="王秀英", verified=False, email="wang@example.cn")
    page = parse(_lookup(client, archive, NUMBER))
    assert "w***@example.cn" in text(page.select_one("#citizen-h").parent)
    response = submit(client, _url(archive, "/citizen"), {"account": str(citizen.id), "id_number": NUMBER,
                                                          "name": "王秀英"}, form_url=_url(archive))
    assert response.status_code == 200
    session.refresh(citizen)
    assert citizen.is_verified and citizen.verified_method == "counter"
    assert citizen.password_hash == "!reset"  # as the identity page does: the old password is void


def test_creating_a_walk_in_without_email_makes_a_verified_account(client, desk, session):
    archive, clerk = desk
    response = _create(client, archive)
    assert response.status_code == 200
    citizen = session.scalar(select(User).where(User.id_number_hash == cipher().lookup_hash(NUMBER)))
    assert citizen.is_verified and citizen.verified_method == "counter" and citizen.real_name == "王秀英"
    assert citizen.email.endswith("@walk-in.invalid") and citizen.phone == "13800138000"
    assert parse(response).select_one("input[name=citizen]")["value"] == str(citizen.id)
    verified = session.scalar(select(AuditLog).where(AuditLog.action == "identity_verified"))
    assert verified.actor_id == clerk.id and verified.details["method"] == "counter"


def test_creating_keeps_what_was_typed_when_something_is_wrong(client, desk):
    archive, _clerk = desk
    response = _create(client, archive, name="", phone="12", email="not-an-email")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "name") and field_error(html, "phone") and field_error(html, "email")
    assert parse(response).select_one("#new-phone")["value"] == "12"


def test_a_walk_in_request_enters_the_queue_with_channel_counter(client, desk, factory, session):
    archive, clerk = desk
    citizen = factory.user(id_number=NUMBER, name="王秀英")
    record = factory.record(archive, subject_name="王秀英")
    response = _register(client, archive, citizen, records=f"{archive.code}/{record.reference_code}")
    assert response.status_code == 303
    req = session.scalar(select(UtilizationRequest))
    assert req.channel == "counter" and req.applicant_id == citizen.id and req.issuing_archive_id == archive.id
    assert req.status == "submitted" and req.delivery == "pickup"
    first = req.events[0]
    assert first.action == "submit" and first.actor_id == clerk.id and first.actor_role == "clerk"
    intake = session.scalar(select(AuditLog).where(AuditLog.action == "counter_intake"))
    assert intake.actor_id == clerk.id and intake.details["notice_version"] and intake.details["applicant"] == citizen.id
    page = client.get(response.headers["Location"])
    assert "查档接待员在查档大厅现场登记" in page.get_data(as_text=True)
    assert "李接待" in text(parse(page).select_one(".timeline"))
    # the citizen's own page says so too
    assert "现场登记" in client.get(f"/staff/requests/{req.number}").get_data(as_text=True)


def test_a_double_click_makes_one_request(client, desk, factory, session):
    archive, _clerk = desk
    citizen = factory.user(id_number=NUMBER, name="王秀英")
    record = factory.record(archive, subject_name="王秀英")
    first = _register(client, archive, citizen, key="same", records=f"{archive.code}/{record.reference_code}")
    second = _register(client, archive, citizen, key="same", records=f"{archive.code}/{record.reference_code}")
    assert first.headers["Location"] == second.headers["Location"]
    assert len(session.scalars(select(UtilizationRequest)).all()) == 1


def test_consent_and_a_choice_are_required_and_what_was_typed_is_kept(client, desk, factory, session):
    archive, _clerk = desk
    citizen = factory.user(id_number=NUMBER, name="王秀英")
    response = _register(client, archive, citizen, consent="", purpose="", purpose_note="带来的说明",
                         records="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "consent") and field_error(html, "purpose") and field_error(html, "records")
    assert parse(response).select_one("#purpose_note")["value"] == "带来的说明"
    assert session.scalar(select(UtilizationRequest)) is None


@pytest.mark.parametrize("relation, proofs", [("relative", ["relationship_proof"]),
                                              ("agent", ["power_of_attorney", "principal_id"])])
def test_a_relative_or_agent_needs_the_same_proofs_as_on_the_web(client, desk, factory, session, relation, proofs):
    archive, _clerk = desk
    citizen = factory.user(id_number=NUMBER, name="王秀英")
    father = make_id_number(born="19400101", seq=7)
    record = factory.record(archive, subject_name="王大山")
    fields = dict(relation=relation, subject_name="王大山", subject_id_number=father,
                  records=f"{archive.code}/{record.reference_code}")
    response = _register(client, archive, citizen, **fields)
    assert response.status_code == 422
    for kind in proofs:
        assert field_error(response.get_data(as_text=True), kind)
    files = {kind: (BytesIO(pdf_bytes()), f"{kind}.pdf") for kind in proofs}
    response = _register(client, archive, citizen, key="k2", files=files, **fields)
    assert response.status_code == 303
    req = session.scalar(select(UtilizationRequest))
    assert sorted(f.kind for f in req.files) == sorted(proofs) and req.channel == "counter"


def test_search_for_me_is_registered_too(client, desk, factory, session):
    archive, _clerk = desk
    citizen = factory.user(id_number=NUMBER, name="王秀英")
    response = _register(client, archive, citizen, kind="search", search_category="marriage", year_from="1980")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "证明将在核实后出具" in page  # another archive may hold it: issued later, receipt printed


def test_accept_and_verify_at_once_when_this_archive_holds_the_record(client, desk, factory, session):
    archive, _clerk = desk
    citizen = factory.user(id_number=NUMBER, name="王秀英")
    record = factory.record(archive, subject_name="王秀英")
    location = _register(client, archive, citizen, records=f"{archive.code}/{record.reference_code}").headers["Location"]
    req = session.scalar(select(UtilizationRequest))
    response = submit(client, f"{location}/accept", {"version": str(req.version)}, form_url=location)
    assert response.status_code == 303
    session.refresh(req)
    assert req.status == "in_review" and len(req.tasks) == 1
    task = req.tasks[0]
    response = submit(client, f"{location}/verify", {"version": str(task.version), "task": task.public_id,
                                                     "copy": (BytesIO(pdf_bytes()), "copy.pdf")}, form_url=location)
    assert response.status_code == 303
    session.refresh(task)
    assert task.status == "verified"
    assert "本馆已核实" in client.get(location).get_data(as_text=True)


def test_verify_without_the_copy_says_what_is_missing(client, desk, factory, session):
    archive, _clerk = desk
    citizen = factory.user(id_number=NUMBER, name="王秀英")
    record = factory.record(archive, subject_name="王秀英")
    location = _register(client, archive, citizen, records=f"{archive.code}/{record.reference_code}").headers["Location"]
    req = session.scalar(select(UtilizationRequest))
    submit(client, f"{location}/accept", {"version": str(req.version)}, form_url=location)
    session.refresh(req)
    task = req.tasks[0]
    response = submit(client, f"{location}/verify", {"version": str(task.version), "task": task.public_id},
                      form_url=location)
    assert response.status_code == 422


def test_no_id_number_in_any_url_or_log_line(client, desk, factory, session, caplog):
    archive, _clerk = desk
    record = factory.record(archive, subject_name="王秀英")
    caplog.set_level(logging.DEBUG)
    urls = []
    for response in (_lookup(client, archive, NUMBER), _create(client, archive)):
        urls.append(response.request.url)
    citizen = session.scalar(select(User).where(User.id_number_hash == cipher().lookup_hash(NUMBER)))
    response = _register(client, archive, citizen, records=f"{archive.code}/{record.reference_code}")
    urls += [response.request.url, response.headers["Location"]]
    assert not any(NUMBER in url for url in urls)
    assert NUMBER not in caplog.text
    for row in session.scalars(select(AuditLog)):
        assert NUMBER not in str(row.details)


@pytest.mark.parametrize("who", ["reviewer", "archive_admin", "citizen", "other clerk", "anonymous"])
def test_only_the_archives_own_clerks_reach_the_counter(client, factory, session, who):
    archive = factory.archive("451200", "河池市档案馆")
    other = factory.archive("450100", "南宁市档案馆")
    clerk = factory.user("clerk", archive=archive)
    citizen = factory.user(id_number=NUMBER, name="王秀英")
    record = factory.record(archive, subject_name="王秀英")
    login(client, clerk.email, PASSWORD)
    location = _register(client, archive, citizen, records=f"{archive.code}/{record.reference_code}").headers["Location"]
    logout(client)
    if who != "anonymous":
        user = {"reviewer": lambda: factory.user("reviewer", archive=archive),
                "archive_admin": lambda: factory.user("archive_admin", archive=archive),
                "citizen": lambda: citizen,
                "other clerk": lambda: factory.user("clerk", archive=other)}[who]()
        login(client, user.email, PASSWORD)
    for url in (_url(archive), location):
        response = client.get(url)
        assert response.status_code == (302 if who == "anonymous" else 404), url
    if who != "anonymous":
        response = client.post(_url(archive, "/lookup"), data={"id_number": NUMBER})
        assert response.status_code in (400, 404)  # no CSRF token from a page they cannot open


def test_the_section_is_on_the_landing_page_for_clerks(client, desk):
    archive, _clerk = desk
    html = client.get("/admin/").get_data(as_text=True)
    assert _url(archive) in html


def test_the_catalog_lookup_lists_what_the_clerk_may_see(client, desk, factory):
    archive, _clerk = desk
    other = factory.archive("450100", "南宁市档案馆")
    factory.record(archive, reference_code="J001-1985-0001", subject_name="王秀英", access_level="restricted")
    factory.record(other, reference_code="J001-1985-0002", subject_name="王秀英", access_level="open")
    factory.record(other, reference_code="J001-1985-0003", subject_name="王秀英", access_level="restricted")
    page = parse(submit(client, _url(archive, "/catalog"), {"q": "J001-1985"}, form_url=_url(archive, "/catalog")))
    rows = [text(li) for li in page.select(".counter-catalog li")]
    assert len(rows) == 2
    assert "J001-1985-0001" in rows[0] and "王秀英" in rows[0]       # own archive: the full name
    assert "J001-1985-0002" in rows[1] and "王秀英" not in rows[1]   # another's open record: masked
    assert [b["data-add-record"] for b in page.select("[data-add-record]")] == ["451200/J001-1985-0001",
                                                                             "450100/J001-1985-0002"]


def test_the_queue_links_to_the_counter_for_clerks(client, desk):
    archive, _clerk = desk
    assert _url(archive) in client.get("/staff/queue").get_data(as_text=True)


def test_only_the_account_the_number_found_can_be_verified(client, desk, factory, session):
    archive, _clerk = desk
    someone = factory.user(id_number=make_id_number(seq=999), name="赵六", verified=False, email="zhao@example.cn")
    response = submit(client, _url(archive, "/citizen"), {"account": str(someone.id), "id_number": NUMBER,
                                                          "name": "王秀英"}, form_url=_url(archive))
    assert response.status_code == 404 and "赵六" not in response.get_data(as_text=True)
    session.refresh(someone)
    assert not someone.is_verified and someone.real_name == "赵六"
