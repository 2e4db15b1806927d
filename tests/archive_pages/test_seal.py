"""Admins upload the seal each archive prints on its certificates: a PNG of sensible size; anything
else is refused next to the field and the old seal stays. Nobody else sees the page."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.archives.models import Archive
from portal.audit.models import AuditLog
from tests import files
from tests.helpers import field_error
from tests.review_pages.conftest import post_multipart, sign_in

PAGE = "/admin/archives"


@pytest.fixture
def archive(factory):
    return factory.archive(code="451200", name="河池市档案馆")


@pytest.fixture
def admin(factory):
    return factory.user("admin", email="admin@example.cn", name="吴管理")


def upload(client, code: str, data: bytes | None, name: str = "seal.png"):
    html = client.get(PAGE).get_data(as_text=True)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    extra = {"seal": (data, name)} if data is not None else {}
    return post_multipart(client, f"{PAGE}/{code}/seal", {"csrf_token": token}, **extra)


def seal_of(session, code: str) -> bytes | None:
    session.expire_all()
    return session.scalar(select(Archive.seal_png).where(Archive.code == code))


def test_an_admin_uploads_a_seal_and_sees_it(client, session, archive, admin):
    sign_in(client, admin)
    assert "演示印章" in client.get(PAGE).get_data(as_text=True)
    seal = files.png_bytes(300, 300, "RGBA")
    response = upload(client, archive.code, seal)
    assert response.status_code == 303
    assert seal_of(session, archive.code) == seal
    image = client.get(f"{PAGE}/{archive.code}/seal.png")
    assert image.status_code == 200 and image.data == seal and image.mimetype == "image/png"
    assert session.scalar(select(AuditLog.action).where(AuditLog.action == "seal_changed")) == "seal_changed"


@pytest.mark.parametrize(("data", "name", "message"), [
    (files.jpeg_bytes(300, 300), "seal.jpg", "印章图片须为 PNG 格式（最好是透明背景）"),
    (files.png_bytes(40, 30), "seal.png", "印章图片的宽和高应在 100 到 2000 像素之间"),
    (files.text_bytes(), "seal.png", "“seal.png”不是 PDF、JPG 或 PNG 文件"),
    (None, "", "请选择印章图片（PNG）"),
])
def test_a_wrong_file_is_refused_next_to_the_field_and_the_seal_stays(client, session, archive, admin, data, name,
                                                                     message):
    archive.seal_png = files.png_bytes(200, 200)
    session.commit()
    before = seal_of(session, archive.code)
    sign_in(client, admin)
    response = upload(client, archive.code, data, name)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), f"seal-{archive.code}") == message
    assert seal_of(session, archive.code) == before


@pytest.mark.parametrize("role", ["citizen", "clerk", "reviewer"])
def test_only_admins_see_the_page(client, factory, archive, role):
    user = factory.user(role, email=f"{role}@example.cn", archive=archive if role != "citizen" else None)
    sign_in(client, user)
    assert client.get(PAGE).status_code == 404
    assert client.get(f"{PAGE}/{archive.code}/seal.png").status_code == 404


def test_an_unknown_archive_is_404(client, admin, archive):
    sign_in(client, admin)
    assert upload(client, "999999", files.png_bytes(300, 300)).status_code == 404
