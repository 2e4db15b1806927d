"""Who sees the pages of a digitized copy (open: everyone; restricted: its verified subject and
the staff; closed: the staff), with private, uncached, inline answers and audited staff views;
and who reaches each staff page and POST (an archive's own clerks and admin, the network admin)."""
from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import select

from portal.admin import copies as copies_service
from portal.audit.models import AuditLog
from tests.admin_pages.copies_files import scanned_png, text_pdf, zip_of
from tests.factories import PASSWORD, make_id_number
from tests.files import png_bytes
from tests.helpers import hx_csrf_token, login
from tests.review_pages.conftest import post_multipart

SUBJECT_ID = make_id_number(seq=777)
WHO = ["anonymous", "citizen", "subject_unverified", "subject", "clerk_a", "reviewer_a", "manager_a",
       "clerk_b", "manager_b", "admin"]
SEES = {  # who sees the pages of an open / restricted / closed record of archive A
    "anonymous": {"open"}, "citizen": {"open"}, "subject_unverified": {"open"},
    "subject": {"open", "restricted"}, "clerk_a": {"open", "restricted", "closed"},
    "reviewer_a": {"open", "restricted", "closed"}, "manager_a": {"open", "restricted", "closed"},
    "clerk_b": {"open"}, "manager_b": {"open"}, "admin": {"open", "restricted", "closed"},
}
STAFF_PAGES = {"clerk_a", "manager_a", "admin"}  # attach_copies on archive A


@pytest.fixture
def world(session, factory):
    a, b = factory.archive("451200", "河池市档案馆"), factory.archive("450100", "南宁市档案馆")
    attacher = factory.user("archive_admin", archive=a, email="attacher@example.cn")
    records = {}
    for level in ("open", "restricted", "closed"):
        record = factory.record(a, access_level=level, subject_name="韦秀英", subject_id_number=SUBJECT_ID)
        copies_service.attach_file(session, record, attacher, "page.png", BytesIO(png_bytes(200, 100)))
        copies_service.attach_file(session, record, attacher, "scan.pdf", BytesIO(text_pdf()))
        records[level] = record
    return a, b, records


def sign_in_as(client, factory, who: str, a, b):
    users = {
        "citizen": lambda: factory.user("citizen", name="李明"),
        "subject_unverified": lambda: factory.user("citizen", name="韦秀英", id_number=SUBJECT_ID, verified=False),
        "subject": lambda: factory.user("citizen", name="韦秀英", id_number=SUBJECT_ID),
        "clerk_a": lambda: factory.user("clerk", archive=a), "reviewer_a": lambda: factory.user("reviewer", archive=a),
        "manager_a": lambda: factory.user("archive_admin", archive=a),
        "clerk_b": lambda: factory.user("clerk", archive=b), "manager_b": lambda: factory.user("archive_admin", archive=b),
        "admin": lambda: factory.user("admin"),
    }
    if who == "anonymous":
        return None
    user = users[who]()
    assert login(client, user.email, PASSWORD).status_code in (302, 303)
    return user


@pytest.mark.parametrize("who", WHO)
def test_who_sees_the_pages_of_a_copy(client, session, factory, world, who):
    a, b, records = world
    user = sign_in_as(client, factory, who, a, b)
    for level, record in records.items():
        png, pdf = record.copies
        answers = [client.get(f"/copies/{record.id}"), client.get(f"/copies/{record.id}/{png.id}/1"),
                   client.get(f"/copies/{record.id}/{pdf.id}/1")]
        expected = 200 if level in SEES[who] else 404
        assert [r.status_code for r in answers] == [expected] * 3, (who, level)
        if expected == 200:
            for r in answers:
                assert r.headers["Cache-Control"] == "private, no-store"
            assert answers[1].headers["Content-Disposition"].startswith("inline")
            assert answers[2].headers["Content-Disposition"].startswith("inline")
            assert answers[1].mimetype == "image/png" and answers[2].data.startswith(b"\x89PNG")
            # Staff see the file names; nobody else does.
            assert ("scan.pdf" in answers[0].get_data(as_text=True)) == (who in ("clerk_a", "reviewer_a", "manager_a",
                                                                                   "admin"))
        for r in answers:
            r.close()  # a file sent from disk stays open until its answer is closed
    # A page that is not there, or a copy of another record: 404.
    open_record = records["open"]
    assert client.get(f"/copies/{open_record.id}/{open_record.copies[0].id}/2").status_code == 404
    assert client.get(f"/copies/{open_record.id}/{records['closed'].copies[0].id}/1").status_code == 404
    audited = session.scalars(select(AuditLog).where(AuditLog.action == "view_copy")).all()
    if user is not None and SEES[who] == {"open", "restricted", "closed"}:
        assert {e.details["access_level"] for e in audited if e.actor_id == user.id} == {"restricted", "closed"}
    else:
        assert audited == []


@pytest.mark.parametrize("who", WHO)
def test_who_reaches_the_staff_pages_of_copies(client, session, factory, world, who):
    a, b, records = world
    sign_in_as(client, factory, who, a, b)
    record = records["restricted"]
    base = f"/admin/{a.code}"
    gets = [f"{base}/copies", f"{base}/records/{record.id}/copies", f"{base}/records/{record.id}/copies/progress"]
    answers = [client.get(url).status_code for url in gets]
    token = hx_csrf_token(client, "/")
    posts = [post_multipart(client, f"{base}/records/{record.id}/copies", {"csrf_token": token},
                            file=(scanned_png(), "page.png")).status_code,
             post_multipart(client, f"{base}/copies/zip", {"csrf_token": token},
                            zip=(zip_of({f"{record.reference_code}.png": png_bytes()}), "b.zip")).status_code]
    if who == "anonymous":
        assert all(code == 302 for code in answers + posts)
    elif who in STAFF_PAGES:
        assert answers == [200, 200, 200] and posts == [303, 200]
        assert len(record.copies) == 4
    else:
        assert answers == [404] * 3 and posts == [404, 404]
        session.refresh(record)
        assert len(record.copies) == 2
    # Another archive's record under this archive's code: 404 for everyone.
    other = factory.record(b)
    assert client.get(f"{base}/records/{other.id}/copies").status_code in (302, 404)
