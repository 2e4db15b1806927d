"""The citizen's requests after applying: reading them, their files, and the applicant's own
steps (withdraw, answer a request for more). Views and the API call in here with the acting user;
applying itself is portal.requests.applying, whose entry points are re-exported here."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.audit.service import log
from portal.core.errors import ValidationFailed
from portal.core.personal_data import cipher
from portal.core import clock
from portal.requests import workflow
from portal.requests.access import can_view, holding_archives  # noqa: F401 (the area's API)
from portal.requests.applying import (Application, ApplicationInvalid, SearchSpec, Upload,  # noqa: F401 (the area's API)
                                      check_uploads, due_date, file_row, submit)
from portal.requests.models import FILE_KINDS, RequestFile, UtilizationRequest
from portal.core.uploads import MAX_FILES, store_with


class RequestNotFound(LookupError):
    """Missing, or someone else's: both look the same from outside."""



# ---- reading ------------------------------------------------------------------------------------

def get_request(session: Session, viewer, number: str) -> UtilizationRequest:
    request = session.scalar(select(UtilizationRequest).where(UtilizationRequest.number == number))
    if request is None or not can_view(viewer, request):
        raise RequestNotFound(number)
    return request


def view_request(session: Session, viewer, number: str, ip: str = "") -> UtilizationRequest:
    """The request for a page or API answer showing its personal data; a view by anyone but the
    applicant (staff, administrators) is written to the audit log."""
    request = get_request(session, viewer, number)
    if viewer.id != request.applicant_id:
        log(session, "view_personal_data", actor=viewer, object_type="request", object_id=request.number, ip=ip)
        session.commit()
    return request


def requests_of(session: Session, applicant) -> list[UtilizationRequest]:
    return list(session.scalars(
        select(UtilizationRequest).where(UtilizationRequest.applicant_id == applicant.id)
        .options(selectinload(UtilizationRequest.items))
        .order_by(UtilizationRequest.submitted_at.desc(), UtilizationRequest.id.desc())
    ))


def subject_id_number(request: UtilizationRequest) -> str:
    return cipher().decrypt(request.subject_id_enc)


def supplement_asked(request: UtilizationRequest) -> str | None:
    """What the archive asked for, while the request waits for the applicant."""
    if request.status != "needs_supplement":
        return None
    asks = [e for e in request.events if e.to_status == "needs_supplement"]
    return asks[-1].note if asks else ""



# ---- the applicant's steps afterwards -----------------------------------------------------------

def withdraw(session: Session, request: UtilizationRequest, actor, note: str = "",
             expected_version: int | None = None):
    return workflow.apply(session, request, "withdraw", actor, note, expected_version=expected_version)


def resubmit(session: Session, request: UtilizationRequest, actor, note: str = "", uploads: list[Upload] = (),
             expected_version: int | None = None):
    """Answer the archive's question and/or add files; the request goes back to review and its
    promised date restarts from today."""
    errors: dict[str, str] = {}
    checked = check_uploads(uploads, errors)
    if len(checked) > MAX_FILES:
        errors["files"] = _l("每次最多上传 %(n)d 个文件", n=MAX_FILES)
    if not (note or "").strip() and not checked and not errors:
        errors["note"] = _l("请填写补充说明，或者上传补充材料")
    if errors:
        raise ValidationFailed(errors)
    folder = current_app.config["UPLOAD_FOLDER"]

    def attach(event) -> None:
        # due_date() loads the items; an autoflush there would write the status change on its own
        # and the due date in a second UPDATE, bumping the version twice for one transition.
        with session.no_autoflush:
            request.due_date = due_date(request, clock.china_today())
        session.flush()
        for kind, upload in checked:
            session.add(file_row(actor, kind, upload, store_with(session, upload.data, folder), request=request,
                                 event_id=event.id))

    return workflow.apply(session, request, "resubmit", actor, note, expected_version=expected_version,
                          before_commit=attach)


def files_for(viewer, request: UtilizationRequest) -> list[RequestFile]:
    """The request's files this person may open: staff all of them, the applicant their own
    uploads (a holding archive's certified copy reaches them on the certificate, not before)."""
    return [f for f in request.files if viewer.id != request.applicant_id or f.kind in FILE_KINDS]


def get_file(session: Session, viewer, number: str, public_id: str, ip: str = "") -> RequestFile:
    """A file of a request the viewer may see; a staff download is written to the audit log."""
    request = get_request(session, viewer, number)
    found = next((f for f in files_for(viewer, request) if f.public_id == public_id), None)
    if found is None:
        raise RequestNotFound(public_id)
    if viewer.id != request.applicant_id:
        log(session, "download_file", actor=viewer, object_type="request", object_id=request.number, ip=ip,
            file=found.public_id, kind=found.kind)
        session.commit()
    return found
