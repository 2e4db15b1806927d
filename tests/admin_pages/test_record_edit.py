"""Editing a catalog record by hand: the importer's rules, every field's problem at once with what
was typed kept, a version check between two editors, the audit log (fields, never values) and the
search outbox."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit.models import AuditLog
from portal.catalog.models import Record
from portal.catalog.outbox import SearchOutbox
from portal.core.personal_data import cipher
from tests.admin_pages.importing import ID_NUMBER, OWN, signed_in
from tests.factories import make_id_number
from tests.helpers import csrf_token, field_error, parse, select_one, text

URL = f"/admin/{OWN}/records/R-1"
NEW_ID = make_id_number("451202", "19700101", 456)


@pytest.fixture
def record(factory):
    archive = factory.archive(OWN, "河池市金城江区档案馆")
    return factory.record(archive, reference_code="R-1", subject_id_number=ID_NUMBER, subject_name="韦秀英")


def form_of(client, url: str = URL) -> dict:
    page = parse(client.get(url))
    data = {i["name"]: i.get("value", "") for i in page.select("form.stack input") if i.get("type") != "checkbox"}
    data.update({s["name"]: s.select_one("option[selected]")["value"] for s in page.select("form.stack select")})
    data["summary"] = text(page.select_one("textarea"))
    return data


def test_an_edit_saves_is_audited_without_values_and_queues_the_index(client, factory, session, record):
    signed_in(client, factory, archive=record.archive)
    data = form_of(client)
    assert data["event_date"] == "1985" and data["subject_id_number"] == ""  # the number is never sent back
    session.execute(SearchOutbox.__table__.delete())
    session.commit()
    data.update(title="离婚登记表", event_date="1986/4/7", subject_id_number=NEW_ID, access_level="restricted")
    response = client.post(URL, data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith("saved=1")
    session.expire_all()
    saved = session.get(Record, record.id)
    assert (saved.title, saved.event_year, saved.event_month, saved.event_day, saved.access_level) == \
        ("离婚登记表", 1986, 4, 7, "restricted")
    assert cipher().decrypt(saved.subject_id_enc) == NEW_ID and saved.subject_id_hash == cipher().lookup_hash(NEW_ID)
    logged = session.scalars(select(AuditLog).where(AuditLog.action == "record_edited")).one()
    assert logged.details == {"fields": ["access_level", "event_date", "subject_id_number", "title"]}
    assert NEW_ID not in str(logged.details) and "离婚" not in str(logged.details)
    assert session.scalars(select(SearchOutbox.record_id)).all() == [record.id]
    assert "已保存" in client.get(f"{URL}?saved=1").get_data(as_text=True)


def test_every_problem_is_shown_at_once_and_what_was_typed_is_kept(client, factory, session, record):
    signed_in(client, factory, archive=record.archive)
    data = form_of(client)
    data.update(title="", event_date="1985-13", subject_id_number=ID_NUMBER[:17] + "Y", summary="新的摘要",
                category="nonsense")
    response = client.post(URL, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("title", "event_date", "subject_id_number", "category"):
        assert field_error(html, name), name
    assert text(select_one(html, "textarea")) == "新的摘要"
    assert ID_NUMBER[:17] not in html  # an ID number is never echoed into the page
    session.expire_all()
    assert session.get(Record, record.id).title == "结婚登记审查处理表"


def test_the_second_of_two_editors_is_told_and_overwrites_nothing(client, app, factory, session, record):
    signed_in(client, factory, archive=record.archive)
    other = app.test_client()
    signed_in(other, factory, role="admin")
    first, second = form_of(client), form_of(other)
    assert client.post(URL, data={**first, "title": "第一人的题名"}).status_code == 303
    response = other.post(URL, data={**second, "title": "第二人的题名"})
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)
    assert select_one(response.get_data(as_text=True), "#title")["value"] == "第二人的题名"
    session.expire_all()
    assert session.get(Record, record.id).title == "第一人的题名"
    again = {**form_of(other), "title": "第二人的题名"}  # after reading the latest, saving again is knowing
    again["version"] = select_one(response.get_data(as_text=True), "#version")["value"]
    assert other.post(URL, data=again).status_code == 303


def test_clearing_the_id_number(client, factory, session, record):
    signed_in(client, factory, archive=record.archive)
    assert client.post(URL, data={**form_of(client), "clear_id_number": "y"}).status_code == 303
    session.expire_all()
    assert session.get(Record, record.id).subject_id_enc is None


def test_the_record_page_links_to_the_edit_page_only_for_those_who_may_edit(client, factory, record):
    page = f"/records/{OWN}/R-1"
    assert select_one(client.get(page).get_data(as_text=True), f"a[href='{URL}']") is None
    signed_in(client, factory, role="clerk", archive=record.archive)
    assert select_one(client.get(page).get_data(as_text=True), f"a[href='{URL}']") is None
    client.get("/logout")
    other = client.application.test_client()
    signed_in(other, factory, archive=record.archive)
    assert select_one(other.get(page).get_data(as_text=True), f"a[href='{URL}']") is not None


def test_the_catalog_list_finds_by_reference_code_or_title(client, factory, record):
    factory.record(record.archive, reference_code="R-2", title="招工登记表")
    signed_in(client, factory, archive=record.archive)
    codes = lambda q: [text(a) for a in parse(client.get(f"/admin/{OWN}/records?q={q}")).select("tbody a")]  # noqa: E731
    assert codes("") == ["R-1", "R-2"] and codes("R-2") == ["R-2"] and codes("招工") == ["R-2"]
    assert codes("%") == []
