"""The citizen's requests after applying: reading them and their files, and the step that attaches
an answer to a request for more. Views and the API call in here with the acting user; applying
itself is portal.requests.applying, whose entry points are re-exported here; every later step is
portal.actions.act."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.audit.service import log
from portal.core.acting import Acting
from portal.core.personal_data import cipher
from portal.core import clock
from portal.policy import files_for, visible
from portal.requests.models import holding_archives  # noqa: F401 (the area's API)
from portal.requests.applying import (Application, ApplicationInvalid, SearchSpec, Upload,  # noqa: F401 (the area's API)
                                      due_date, file_row, refusal, submit)
from portal.requests.models import RequestFile, UtilizationRequest
from portal.core.uploads import store_with


class RequestNotFound(LookupError):
    """Missing, or someone else's: both look the same from outside."""



# ---- reading ------------------------------------------------------------------------------------

def get_request(session: Session, viewer, number: str) -> UtilizationRequest:
    """The request, if `viewer` may open it (portal.policy.visible); else RequestNotFound."""
    request = session.scalar(visible(viewer, select(UtilizationRequest)).where(UtilizationRequest.number == number))
    if request is None:
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
    """"My requests": those this person applied for."""
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



# ---- the applicant's answer to a request for more (the `resubmit` step of portal.actions) ---------

def attach_supplement(acting: Acting) -> None:
    """The files the applicant added, on the timeline event of the answer; the request's promised
    date restarts from today."""
    session, request = acting.session, acting.request
    request.due_date = due_date(request, clock.china_today())
    session.flush()  # the event's id, for the files
    folder = current_app.config["UPLOAD_FOLDER"]
    for kind, upload in acting.inputs.checked:
        session.add(file_row(acting.actor, kind, upload, store_with(session, upload.data, folder), request=request,
                             event_id=acting.event.id))


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
