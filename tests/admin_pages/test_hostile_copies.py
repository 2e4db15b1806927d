"""Hostile uploads of digitized copies: markup in file names, another archive's record ids."""
from __future__ import annotations

from sqlalchemy import select

from portal.catalog.copies import DigitizedCopy
from tests.admin_pages.copies_files import text_pdf, zip_of
from tests.factories import PASSWORD
from tests.helpers import csrf_token, login
from tests.review_pages.conftest import post_multipart

EVIL = '<img src=x onerror=alert(1)>'


def _manager(client, factory):
    archive = factory.archive("451200", "河池市档案馆")
    user = factory.user("archive_admin", archive=archive, email="manager@example.cn")
    login(client, user.email, PASSWORD)
    return archive


def test_file_names_with_markup_come_back_as_text(client, factory, session):
    archive = _manager(client, factory)
    record = factory.record(archive, reference_code="J001-1985-0001")
    url = f"/admin/{archive.code}/copies/zip"
    body = zip_of({f"{EVIL}.pdf": text_pdf(), "J001-1985-0001.pdf": text_pdf(), f"J001-1985-0001/{EVIL}.zip": b"PK"})
    response = post_multipart(client, url, {"csrf_token": csrf_token(client, f"/admin/{archive.code}/copies")},
                              zip=(body, f"{EVIL}.zip"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and EVIL not in html and "&lt;img" in html
    page = client.get(f"/admin/{archive.code}/records/{record.id}/copies").get_data(as_text=True)
    assert EVIL not in page


def test_a_record_of_another_archive_takes_no_copy(client, factory, session):
    archive = _manager(client, factory)
    other = factory.archive("450100", "南宁市档案馆")
    theirs = factory.record(other, reference_code="N-1")
    mine = factory.record(archive, reference_code="J-1")
    form = f"/admin/{archive.code}/records/{mine.id}/copies"
    for code in (archive.code, other.code):
        url = f"/admin/{code}/records/{theirs.id}/copies"
        response = post_multipart(client, url, {"csrf_token": csrf_token(client, form)}, file=(text_pdf(), "a.pdf"))
        assert response.status_code == 404
        assert client.get(url).status_code == 404 and client.get(f"{url}/progress").status_code == 404
    assert session.scalar(select(DigitizedCopy)) is None
