"""Who may see a record, and whether they see the personal data in it. One place, used by pages,
the API and list queries."""
from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from portal.catalog.models import Record


def is_subject(viewer, record: Record) -> bool:
    return bool(
        viewer is not None and getattr(viewer, "is_authenticated", False) and viewer.role == "citizen"
        and viewer.id_number_hash and record.subject_id_hash == viewer.id_number_hash
    )


def is_holding_staff(viewer, record: Record) -> bool:
    """Staff whose work needs the record: its own archive's clerks and reviewers, and admins."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return viewer.role == "admin" or (viewer.role in ("clerk", "reviewer") and viewer.archive_id == record.archive_id)


def can_view(viewer, record: Record) -> bool:
    if record.access_level == "open":
        return True
    if record.access_level == "restricted":
        return is_subject(viewer, record) or is_holding_staff(viewer, record)
    return is_holding_staff(viewer, record)


def sees_personal_data(viewer, record: Record) -> bool:
    return is_subject(viewer, record) or is_holding_staff(viewer, record)


def visible_records_clause(viewer) -> ColumnElement[bool]:
    """The same rule as can_view, as SQL for list queries."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Record.access_level == "open"
    if viewer.role == "admin":
        return true()
    clauses = [Record.access_level == "open"]
    if viewer.role in ("clerk", "reviewer"):
        clauses.append(Record.archive_id == viewer.archive_id)
    if viewer.role == "citizen" and viewer.id_number_hash:
        clauses.append((Record.access_level == "restricted") & (Record.subject_id_hash == viewer.id_number_hash))
    return or_(*clauses) if clauses else false()
