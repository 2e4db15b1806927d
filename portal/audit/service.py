"""Writing the audit log. Entries join the caller's transaction: they are committed with the
change they describe, or not at all."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit.models import AuditLog


def log(session: Session, action: str, *, actor=None, object_type: str = "", object_id: str | int = "",
        ip: str = "", **details) -> AuditLog:
    entry = AuditLog(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_role=getattr(actor, "role", "") or "",
        object_type=object_type,
        object_id=str(object_id),
        ip=ip or "",
        details=details,
    )
    session.add(entry)
    return entry


def count_recent(session: Session, action: str, since, **where) -> int:
    """How many `action` entries since `since` match `where` (column=value): what the throttles
    (log-ins, registrations, certificate checks) count, from the log that records them anyway."""
    query = select(func.count()).select_from(AuditLog).where(AuditLog.action == action, AuditLog.at >= since)
    for column, value in where.items():
        query = query.where(getattr(AuditLog, column) == value)
    return session.scalar(query) or 0
