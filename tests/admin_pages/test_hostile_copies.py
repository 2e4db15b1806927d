"""Hostile uploads of digitized copies: markup in file names, another archive's record ids."""
from __future__ import annotations

import pytest
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


@pytest.mark.real_commits
def test_the_same_file_sent_twice_at_once_is_attached_once(app, session, factory):
    """Two uploads of one file at the same moment (two tabs, a double click): the second, reading
    the record's copies again under a lock on its row, finds the first's."""
    import hashlib

    from portal.admin.copies import attach_file
    from portal.db import db

    archive = factory.archive("451200", "河池市档案馆")
    user = factory.user("archive_admin", archive=archive)
    record = factory.record(archive, reference_code="J-1")
    session.commit()
    content = text_pdf()
    assert record.copies == []  # this request has read the record's copies: none yet
    with db.engine.begin() as other:  # the other request commits its copy of the same file first
        other.execute(DigitizedCopy.__table__.insert().values(
            record_id=record.id, stored_name="x", content_type="application/pdf", original_name="a.pdf",
            size=len(content), sha256=hashlib.sha256(content).hexdigest(), page_count=1, text="",
            text_source="", text_status="pending"))
    attach_file(session, record, user, "a.pdf", __import__("io").BytesIO(content))
    session.commit()
    assert len(session.scalars(select(DigitizedCopy).where(DigitizedCopy.record_id == record.id)).all()) == 1
