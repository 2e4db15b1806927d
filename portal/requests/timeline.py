"""A request's timeline: one event per step (who, when, from, to, note), and the applicant told by
email in the same transaction when the step is one they hear about."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.requests.models import RequestEvent, UtilizationRequest
from portal.requests.notifications import notify_applicant


def record_event(session: Session, request: UtilizationRequest, action: str, actor, role: str,
                 from_status: str | None, note: str = "", *, notify: bool = False) -> RequestEvent:
    event = RequestEvent(request=request, actor_id=getattr(actor, "id", None), actor_role=role, action=action,
                         from_status=from_status, to_status=request.status, note=note)
    session.add(event)
    if notify:
        notify_applicant(session, request, event)
    return event
