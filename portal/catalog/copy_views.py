"""Viewing the pages of a record's digitized copies: whoever may see the record as policy.copy_audience
says (open records everyone, restricted ones their verified subject and the staff, closed ones the
staff). Pages are rendered from PDFs by pdftoppm, never cached; staff views of restricted and
closed copies are in the audit log."""
from __future__ import annotations

import subprocess

from flask import Blueprint, abort, make_response
from flask_login import current_user

from portal import policy
from portal.audit.service import log
from portal.catalog.copies import MAX_VIEW_PAGES, DigitizedCopy, copies_folder, copy_path, render_page
from portal.catalog.models import Record
from portal.core.uploads import send_stored, tiff_page_png
from portal.db import db
from portal.web_util import client_ip, render

bp = Blueprint("copies", __name__)
NO_STORE = {"Cache-Control": "private, no-store"}


def _visible(record: Record | None) -> str:
    """The viewer's audience on the record's copies, or 404 (nothing says the record exists)."""
    seen_as = policy.copy_audience(current_user, record) if record is not None else None
    if seen_as is None or not record.copies:
        abort(404)
    if seen_as == "staff" and record.access_level != "open":
        log(db.session, "view_copy", actor=current_user, object_type="record", object_id=record.id, ip=client_ip(),
            access_level=record.access_level)
        db.session.commit()
    return seen_as


@bp.get("/copies/<int:record_id>")
def pages(record_id: int):
    record = db.session.get(Record, record_id)
    seen_as = _visible(record)
    return render("catalog/copies.html", record=record, copies=record.copies, staff=seen_as == "staff",
                  max_pages=MAX_VIEW_PAGES, headers=NO_STORE)


@bp.get("/copies/<int:record_id>/<int:copy_id>/<int:page>")
def page_image(record_id: int, copy_id: int, page: int):
    copy = db.session.get(DigitizedCopy, copy_id)
    if copy is None or copy.record_id != record_id or not 1 <= page <= min(copy.page_count, MAX_VIEW_PAGES):
        abort(404)
    _visible(copy.record)
    if copy.is_tiff:  # a browser cannot show TIFF: the page drawn as PNG
        try:
            png = tiff_page_png(copy_path(copy), page)
        except (OSError, ValueError, EOFError):
            abort(503)
        response = make_response(png)
        response.headers.update({"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "sandbox"})
    elif not copy.is_pdf:
        response = send_stored(copies_folder(), copy.stored_name, download_name=f"page-{page}.{copy.content_type[6:]}",
                               content_type=copy.content_type, inline=True)
    else:
        try:
            png = render_page(copy_path(copy), page)
        except (subprocess.SubprocessError, OSError):  # poppler-utils missing, or a page it cannot draw
            abort(503)
        response = make_response(png)
        response.headers.update({"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "sandbox"})
    response.headers["Content-Disposition"] = f'inline; filename="page-{page}.{"png" if copy.is_pdf or copy.is_tiff else copy.content_type[6:]}"'
    response.headers.update(NO_STORE)
    return response
