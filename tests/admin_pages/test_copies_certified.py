"""A holding archive's clerk answering a verification task can hand in a digitized copy of the
record as the certified copy, instead of scanning it again."""
from __future__ import annotations

from io import BytesIO

from portal.admin import copies as copies_service
from portal.requests.models import RequestFile
from tests.admin_pages.copies_files import text_pdf
from tests.helpers import select_all
from tests.review_pages.conftest import (archive_a, archive_b, archive_c, cross_request, people, post_raw,  # noqa: F401
                                         sign_in, task_of, task_url)


def test_the_verify_form_offers_the_records_digitized_copies(client, session, factory, people, archive_a, archive_b):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review")
    task = task_of(req, archive_b)
    held = next(item.record for item in req.items if item.record.archive_id == archive_b.id)
    mine = copies_service.attach_file(session, held, people.holding_clerk, "J-扫描.pdf", BytesIO(text_pdf()))
    not_mine = next(item.record for item in req.items if item.record.archive_id == archive_a.id)
    theirs = copies_service.attach_file(session, not_mine, None, "other.pdf", BytesIO(text_pdf()))
    sign_in(client, people.holding_clerk)
    html = client.get(f"/staff/requests/{req.number}").get_data(as_text=True)
    offered = [o["value"] for o in select_all(html, "select[name=digitized_copy] option") if o["value"]]
    assert offered == [str(mine.id)]
    # Another record's copy cannot be slipped in.
    assert post_raw(client, task_url(task, "verify"), {"version": str(task.version),
                                                       "digitized_copy": str(theirs.id)}).status_code == 400
    response = post_raw(client, task_url(task, "verify"), {"version": str(task.version), "note": "已核实",
                                                           "digitized_copy": str(mine.id)})
    assert response.status_code in (200, 303)
    session.refresh(task)
    assert task.status == "verified"
    copy_file = session.get(RequestFile, task.copy_file_id)
    assert copy_file.kind == "certified_copy" and copy_file.original_name == "J-扫描.pdf"
