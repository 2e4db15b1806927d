"""Creating and editing an archive in the browser: every problem at once next to its field, what
was typed kept, the code unique and fixed, every change in the audit log with before and after."""
from __future__ import annotations

from sqlalchemy import select

from portal.archives.models import Archive
from tests import files
from tests.admin_pages.staff_world import audit, post, sign_in, world  # noqa: F401 (fixture)
from tests.helpers import field_error, select_one
from tests.review_pages.conftest import post_multipart

GOOD = {"code": "451281", "name": "南丹县档案馆", "region": "河池市", "address": "南丹县城关镇", "opening_hours": "周一至周五",
        "phone": "0778-7212345", "task_due_working_days": "5"}


def test_the_network_admin_creates_an_archive_and_it_is_logged(client, session, world):
    sign_in(client, world.people["admin"])
    response = post(client, "/admin/network/archives/new", {**GOOD, "code": " 451281 "})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/451281/staff")
    archive = session.scalars(select(Archive).where(Archive.code == "451281")).one()
    assert (archive.name, archive.phone, archive.task_due_working_days) == ("南丹县档案馆", "0778-7212345", 5)
    (entry,) = audit(session, "archive_created")
    assert entry.actor_id == world.people["admin"].id and entry.details["after"]["name"] == "南丹县档案馆"


def test_every_problem_shows_at_once_and_what_was_typed_stays(client, session, world):
    sign_in(client, world.people["admin"])
    typed = {"code": "45-12", "name": "", "region": "河池市", "address": "新建路", "opening_hours": "",
             "phone": "12345", "task_due_working_days": "31"}
    response = post(client, "/admin/network/archives/new", typed)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for name in ("code", "name", "phone", "task_due_working_days"):
        assert field_error(html, name), name
    assert field_error(html, "region") is None
    assert select_one(html, "#code")["value"] == "45-12" and select_one(html, "#address")["value"] == "新建路"
    assert select_one(html, "#phone")["value"] == "12345"
    assert session.scalar(select(Archive.id).where(Archive.name == "")) is None


def test_a_code_in_use_is_refused(client, session, world):
    sign_in(client, world.people["admin"])
    response = post(client, "/admin/network/archives/new", {**GOOD, "code": world.a.code})
    assert response.status_code == 422
    assert "已被其他档案馆使用" in field_error(response.get_data(as_text=True), "code")


def test_due_days_must_be_a_whole_number_from_1_to_30(client, world):
    sign_in(client, world.people["admin"])
    for days in ("0", "abc", "", "2.5", "31"):
        html = post(client, "/admin/network/archives/new", {**GOOD, "task_due_working_days": days}).get_data(as_text=True)
        assert field_error(html, "task_due_working_days") == "协办时限应为 1 到 30 个工作日", days


def test_an_archive_admin_edits_their_archive_but_not_its_code(client, session, world):
    sign_in(client, world.people["archive_admin"])
    url = f"/admin/{world.a.code}/archive"
    assert select_one(client.get(url), "#code") is None  # the code is shown, not a field
    response = post(client, url, {**GOOD, "code": "999999", "phone": "13800138000"})
    assert response.status_code == 303
    session.expire_all()
    archive = session.get(Archive, world.a.id)
    assert (archive.code, archive.name, archive.phone, archive.task_due_working_days) == (
        "451200", "南丹县档案馆", "13800138000", 5)
    (entry,) = audit(session, "archive_updated")
    assert entry.details["before"]["name"] == "河池市档案馆" and entry.details["after"]["name"] == "南丹县档案馆"
    assert "code" not in entry.details["after"]
    assert post(client, url, {**GOOD, "phone": "13800138000"}).status_code == 303
    assert len(audit(session, "archive_updated")) == 1  # nothing changed, nothing logged


def test_an_edit_with_problems_changes_nothing(client, session, world):
    sign_in(client, world.people["archive_admin"])
    response = post(client, f"/admin/{world.a.code}/archive", {**GOOD, "name": "", "phone": "abc"})
    assert response.status_code == 422
    session.expire_all()
    assert session.get(Archive, world.a.id).name == "河池市档案馆" and audit(session, "archive_updated") == []


def test_an_archive_admin_uploads_their_seal_from_the_archive_page(client, session, world):
    sign_in(client, world.people["archive_admin"])
    url = f"/admin/{world.a.code}/archive"
    token = select_one(client.get(url), "input[name=csrf_token]")["value"]
    bad = post_multipart(client, url + "/seal", {"csrf_token": token}, seal=(files.jpeg_bytes(300, 300), "seal.jpg"))
    assert bad.status_code == 422 and "PNG" in field_error(bad.get_data(as_text=True), "seal")
    seal = files.png_bytes(300, 300, "RGBA")
    assert post_multipart(client, url + "/seal", {"csrf_token": token}, seal=(seal, "seal.png")).status_code == 303
    image = client.get(url + "/seal.png")
    assert image.status_code == 200 and image.data == seal
    assert len(audit(session, "seal_changed")) == 1
