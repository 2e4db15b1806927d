"""Who may see a request, and in which roles a person acts on it. One place, used by the
workflow, the pages, the file downloads and the API."""
from __future__ import annotations

from portal.archives.models import Archive
from portal.requests.models import UtilizationRequest


def holding_archives(request: UtilizationRequest) -> list[Archive]:
    """Where the records are: the requested records' archives, or the archives asked to search."""
    found = {item.record.archive.code: item.record.archive for item in request.items}
    found.update({entry.archive.code: entry.archive for entry in request.search_archives})
    return [found[code] for code in sorted(found)]


def involved_archive_ids(request: UtilizationRequest) -> set[int]:
    """The issuing archive and the holding archives."""
    return {request.issuing_archive_id, *(archive.id for archive in holding_archives(request))}


def _signed_in(viewer) -> bool:
    return viewer is not None and getattr(viewer, "is_authenticated", False)


def staff_role(viewer, archive_ids) -> str | None:
    """"admin" for administrators, "clerk" or "reviewer" for staff of one of `archive_ids`, else
    None (citizens, anonymous visitors, staff of other archives)."""
    if not _signed_in(viewer):
        return None
    if viewer.role == "admin" or (viewer.role in ("clerk", "reviewer") and viewer.archive_id in archive_ids):
        return viewer.role
    return None


def roles_on(viewer, request: UtilizationRequest) -> set[str]:
    """The roles the workflow's transition table names: "applicant" for the person who applied,
    "clerk"/"reviewer" for staff of the issuing archive, "admin" for administrators."""
    if _signed_in(viewer) and viewer.id == request.applicant_id:
        return {"applicant"}
    role = staff_role(viewer, {request.issuing_archive_id})
    return {role} if role else set()


def can_view(viewer, request: UtilizationRequest) -> bool:
    """The applicant, administrators, and staff of every archive involved. Everyone else gets a
    404, so that request numbers reveal nothing."""
    if _signed_in(viewer) and viewer.id == request.applicant_id:
        return True
    return staff_role(viewer, involved_archive_ids(request)) is not None
