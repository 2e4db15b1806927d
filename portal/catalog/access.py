"""Who may see a record, and how much of the personal data in it. One place, used by the
record pages and the API."""
from __future__ import annotations

from portal.catalog.models import Record
from portal.core.masking import same_name


def is_subject(viewer, record: Record) -> bool:
    """The record is about this citizen: the same ID number and the same name. The name too,
    because an ID number alone is something other people may know."""
    return bool(
        viewer is not None and getattr(viewer, "is_authenticated", False) and viewer.role == "citizen"
        and viewer.id_number_hash and record.subject_id_hash == viewer.id_number_hash
        and same_name(viewer.real_name, record.subject_name)
    )


def is_holding_staff(viewer, record: Record) -> bool:
    """Staff whose work needs the record: its own archive's clerks and reviewers, and admins."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return viewer.role == "admin" or (viewer.role in ("clerk", "reviewer") and viewer.archive_id == record.archive_id)


def audience_for(viewer, record: Record) -> str:
    """"subject": everything, their ID number in full; "staff" (whose work needs it): the full
    name, the ID number masked; "public": the name masked, no ID number at all."""
    if is_subject(viewer, record):
        return "subject"
    if is_holding_staff(viewer, record):
        return "staff"
    return "public"


def can_see(record: Record, audience: str) -> bool:
    """Open records: everyone. Restricted: their subject and the staff. Closed: the staff only."""
    if record.access_level == "open":
        return True
    return audience == "staff" or (audience == "subject" and record.access_level == "restricted")
