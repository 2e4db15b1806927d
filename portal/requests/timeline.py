"""A request's timeline: one event per step (who, when, from, to, note). The applicant hears of
it by email through portal.requests.notifications.notify_applicant, once the step's work is done."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.requests.models import RequestEvent, UtilizationRequest


def record_event(session: Session, request: UtilizationRequest, action: str, actor, role: str,
                 from_status: str | None, note: str = "") -> RequestEvent:
    event = RequestEvent(request=request, actor_id=getattr(actor, "id", None), actor_role=role, action=action,
                         from_status=from_status, to_status=request.status, note=note)
    session.add(event)
    return event
