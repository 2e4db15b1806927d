"""Who may do what, in one place: the rules for a single object (`can`, and what a person may see
of a record) and the same rules as SQL for lists (`visible`). Services, the action dispatcher
(portal.actions), the queue, the API and templates all ask here.

Roles are held on an object, not in general:
- on a request: "applicant" (the person who applied), "clerk"/"reviewer" of its issuing archive,
  "admin";
- on a verification task: "clerk"/"reviewer" of its holding archive, "admin"; "peer" (a peer
  node's system account, portal.federation) on a task of that node's archive: it answers it;
  on the requests a peer node sent here, its account is the "applicant";
- on a record: "subject" (the verified person it is about), "staff" of its archive or an admin,
  "public";
- on an archive (its administration: portal.admin, statistics, appraisal, counter intake):
  "admin" (the network's), "archive_admin", "clerk" or "reviewer" of that archive (ARCHIVE_RULES);
- on an open-appraisal batch: the roles on its archive.
Staff of other archives hold no role: to them the object does not exist (404)."""
from __future__ import annotations

from sqlalchemy import Select, false, or_, select

from portal.appraisal.models import AppraisalBatch
from portal.archives.models import Archive
from portal.catalog.models import Record
from portal.core.masking import same_name
from portal.requests.models import (FILE_KINDS, RequestFile, RequestRecord, RequestSearchArchive, UtilizationRequest,
                                   involved_archive_ids)
from portal.review.models import VerificationTask

# The request's state changes: who takes each (the state machine is portal.actions).
TRANSITION_RULES: dict[str, tuple[str, ...]] = {
    "submit": ("applicant",),
    "withdraw": ("applicant",),
    "resubmit": ("applicant",),
    "accept": ("clerk",),
    "ask_supplement": ("clerk", "reviewer"),
    "reject": ("reviewer",),
    "approve": ("reviewer",),
    "issue": ("reviewer",),
}
# The steps around them: (object, action) → roles.
PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("request", "claim"): ("clerk", "reviewer"),
    ("request", "release"): ("clerk", "reviewer", "admin"),  # one's own claim; admins any
    ("request", "reassign"): ("admin",),
    ("request", "note"): ("clerk", "reviewer"),
    ("request", "revoke_certificate"): ("reviewer",),
    ("task", "verify"): ("clerk", "peer"),
    ("task", "not_found"): ("clerk", "peer"),
    ("task", "claim"): ("clerk",),
    ("task", "release"): ("clerk", "admin"),
    ("task", "reassign"): ("admin",),
}
RULES: dict[tuple[str, str], tuple[str, ...]] = {
    **{("request", action): roles for action, roles in TRANSITION_RULES.items()}, **PERMISSIONS}


# An archive's own work: (object, action) → the roles on the archive that may (roles_on_archive).
# Creating an archive is the network admin's alone (may_create_archive): there is no archive yet.
ARCHIVE_RULES: dict[tuple[str, str], tuple[str, ...]] = {
    ("archive", "administer"): ("admin", "archive_admin"),       # its administration pages at all
    ("archive", "edit"): ("admin", "archive_admin"),             # name, address, hours, due days, seal
    ("archive", "manage_staff"): ("admin", "archive_admin"),     # invite, change role, disable
    ("archive", "import_catalog"): ("admin", "archive_admin"),
    ("archive", "edit_record"): ("admin", "archive_admin"),
    ("archive", "attach_copies"): ("admin", "archive_admin", "clerk"),  # digitized copies
    ("archive", "counter_intake"): ("clerk",),                  # walk-in requests at its counter
    ("archive", "appraise"): ("archive_admin", "reviewer"),     # open appraisal stages
    ("archive", "view_statistics"): ("admin", "archive_admin", "clerk", "reviewer"),
}
# An open-appraisal batch's actions (portal.appraisal): whoever may appraise at its archive.
RULES.update({("batch", action): ARCHIVE_RULES[("archive", "appraise")]
              for action in ("decide", "appraise_first", "appraise_second", "appraise_decide", "cancel")})


def kind_of(obj) -> str | None:
    """"request", "task", "archive" or "batch" (an appraisal batch): the kinds of object the rules speak of; None for anything else."""
    if isinstance(obj, UtilizationRequest):
        return "request"
    if isinstance(obj, VerificationTask):
        return "task"
    if isinstance(obj, Archive):
        return "archive"
    if isinstance(obj, AppraisalBatch):
        return "batch"
    return None


def signed_in(viewer) -> bool:
    return viewer is not None and getattr(viewer, "is_authenticated", False)


def staff_role(viewer, archive_ids) -> str | None:
    """"admin" for administrators, "clerk" or "reviewer" for staff of one of `archive_ids`, else
    None (citizens, anonymous visitors, staff of other archives)."""
    if not signed_in(viewer):
        return None
    if viewer.role == "admin" or (viewer.role in ("clerk", "reviewer") and viewer.archive_id in archive_ids):
        return viewer.role
    return None


def roles_on_archive(viewer, archive_id: int | None) -> set[str]:
    """"admin" for the network admin; "archive_admin", "clerk" or "reviewer" for that archive's own
    (active) staff; nothing for anyone else."""
    if not signed_in(viewer) or not viewer.is_active:
        return set()
    if viewer.role == "admin":
        return {"admin"}
    if viewer.role in ("archive_admin", "clerk", "reviewer") and archive_id is not None and viewer.archive_id == archive_id:
        return {viewer.role}
    return set()


def roles_on(viewer, obj) -> set[str]:
    """The roles `viewer` holds on a request (applicant, staff of the issuing archive, admin), on
    a task (staff of its holding archive, admin) or on an archive (roles_on_archive)."""
    if isinstance(obj, Archive):
        return roles_on_archive(viewer, obj.id)
    if isinstance(obj, AppraisalBatch):
        return roles_on_archive(viewer, obj.archive_id)
    if isinstance(obj, VerificationTask):
        if signed_in(viewer) and viewer.role == "peer":  # a peer node answers the tasks sent to its archives
            return {"peer"} if viewer.is_active and viewer.node and obj.holding_archive.node == viewer.node else set()
        role = staff_role(viewer, {obj.holding_archive_id})
        return {role} if role else set()
    if signed_in(viewer) and viewer.id == obj.applicant_id:
        return {"applicant"}
    role = staff_role(viewer, {obj.issuing_archive_id})
    return {role} if role else set()


def can(viewer, action: str, obj) -> bool:
    """May `viewer` take `action` on a request, a task, an archive or an appraisal batch, as far as
    roles go (the state is the dispatcher's: portal.actions.allowed asks both, to hide useless
    buttons). Anything else: no."""
    return bool(roles_for(viewer, action, obj))


def roles_for(viewer, action: str, obj) -> set[str]:
    """The roles `viewer` holds on `obj` that the rule of `action` names (empty: may not)."""
    key = (kind_of(obj), action)
    rule = RULES.get(key) or ARCHIVE_RULES.get(key)
    return roles_on(viewer, obj).intersection(rule) if rule is not None else set()


def may(viewer, action: str, archive_id: int | None) -> bool:
    """`can` for an archive known by its id: may `viewer` do `action` of ARCHIVE_RULES there."""
    rule = ARCHIVE_RULES[("archive", action)]
    return bool(roles_on_archive(viewer, archive_id).intersection(rule))


def may_everywhere(viewer, action: str) -> bool:
    """`may` in every archive at once (the whole network's statistics): the network admin, where
    the rule names them."""
    return (signed_in(viewer) and viewer.is_active and viewer.role == "admin"
            and "admin" in ARCHIVE_RULES[("archive", action)])


def may_create_archive(viewer) -> bool:
    return signed_in(viewer) and viewer.is_active and viewer.role == "admin"


def may_manage_peers(viewer) -> bool:
    """The nodes this node trusts (/admin/peers): the network admin's alone, like creating an archive."""
    return may_create_archive(viewer)


def archives_where(viewer, action: str, column=None) -> list:
    """`may` as SQL, for lists: the conditions on `column` (an archive id column, Archive.id by
    default) that keep the archives where `viewer` may do `action`. The network admin: none (all)."""
    column = Archive.id if column is None else column
    rule = ARCHIVE_RULES[("archive", action)]
    if not signed_in(viewer) or not viewer.is_active:
        return [false()]
    if viewer.role == "admin":
        return [] if "admin" in rule else [false()]
    if viewer.role in rule and viewer.archive_id is not None:
        return [column == viewer.archive_id]
    return [false()]


def may_apply(user) -> bool:
    """Applying (`submit`, the applicant's rule) takes a citizen's own account, registered with a
    resident ID number, whose email address is confirmed (the progress of a request goes there)."""
    return (signed_in(user) and user.role == "citizen" and bool(user.id_number_hash)
            and user.email_confirmed_at is not None)


def may_apply_at_counter(user) -> bool:
    """A walk-in a clerk registers at the counter (portal/admin/counter.py): a citizen's active
    account whose identity the clerk checked (verified); no email needed (a walk-in may have none,
    and follows the request with the receipt)."""
    return (signed_in(user) and user.role == "citizen" and user.is_active and user.is_verified)


def may_verify_identity(user) -> bool:
    """Checking a citizen's ID card at the counter (and so verifying their account): a clerk of any
    reading room, or an admin."""
    return signed_in(user) and user.role in ("clerk", "admin")


def may_work_on(user, obj) -> bool:
    """An active member of staff who could claim it themselves: for a request, staff of the issuing
    archive; for a task, a clerk of the holding archive (reviewers do not verify). Whom an admin
    may hand work to."""
    if user is None or user.role not in ("clerk", "reviewer") or not user.is_active:
        return False
    return can(user, "claim", obj)


# ---- seeing requests and tasks ------------------------------------------------------------------

def can_view(viewer, request: UtilizationRequest) -> bool:
    """The applicant, administrators, and staff of every archive involved. Everyone else gets a
    404, so that request numbers reveal nothing."""
    if signed_in(viewer) and viewer.id == request.applicant_id:
        return True
    return staff_role(viewer, involved_archive_ids(request)) is not None


def files_for(viewer, request: UtilizationRequest) -> list[RequestFile]:
    """The files of a request `viewer` may open (they may open the request): staff all of them,
    the applicant their own uploads (a holding archive's certified copy reaches them on the
    certificate, not before)."""
    return [f for f in request.files if viewer.id != request.applicant_id or f.kind in FILE_KINDS]


def can_view_task(viewer, task: VerificationTask) -> bool:
    """Staff of its holding archive and of the request's issuing archive, and admins."""
    return staff_role(viewer, {task.holding_archive_id, task.request.issuing_archive_id}) is not None


def sees_staff_side(viewer, request: UtilizationRequest) -> bool:
    """Internal notes, claims, tasks: staff of the archives involved and admins, never the applicant."""
    return staff_role(viewer, involved_archive_ids(request)) is not None and viewer.id != request.applicant_id


def sees_applicant_identity(viewer, request: UtilizationRequest) -> bool:
    """The applicant's full identity: the issuing archive's staff (who check it) and admins."""
    return staff_role(viewer, {request.issuing_archive_id}) is not None and viewer.id != request.applicant_id


def queue_archive(viewer, chosen: int | None = None) -> int | None:
    """Whose queue a staff member works: their own archive's; an admin's choice, or None (all)."""
    if viewer.role in ("clerk", "reviewer"):
        return viewer.archive_id
    if viewer.role == "admin":
        return chosen
    raise PermissionError("the queue is for staff")


def work_of(entity, archive_id: int | None) -> list:
    """The conditions for the rows of `entity` that are `archive_id`'s work (None: every archive's):
    the requests it issues, the verification tasks routed to it."""
    if archive_id is None:
        return []
    column = VerificationTask.holding_archive_id if entity is VerificationTask else UtilizationRequest.issuing_archive_id
    return [column == archive_id]


def visible(viewer, query: Select, entity=UtilizationRequest) -> Select:
    """`query` narrowed to the rows of `entity` that `viewer` may open (for requests, `can_view` as
    SQL: a list and a single object answer alike). A citizen their own requests; staff those their
    archive issues or holds records of, and the tasks of their archive or of requests it issues;
    an admin everything; nobody else anything."""
    if not signed_in(viewer):
        return query.where(false())
    if viewer.role == "admin":
        return query
    staff = viewer.role in ("clerk", "reviewer")
    issued_here = select(UtilizationRequest.id).where(UtilizationRequest.issuing_archive_id == viewer.archive_id)
    if entity is VerificationTask:
        if not staff:
            return query.where(false())
        return query.where(or_(VerificationTask.holding_archive_id == viewer.archive_id,
                               VerificationTask.request_id.in_(issued_here)))
    mine = [UtilizationRequest.applicant_id == viewer.id]
    if staff:
        held_here = (select(RequestRecord.request_id).join(Record, Record.id == RequestRecord.record_id)
                     .where(Record.archive_id == viewer.archive_id))
        searched_here = select(RequestSearchArchive.request_id).where(RequestSearchArchive.archive_id == viewer.archive_id)
        mine += [UtilizationRequest.issuing_archive_id == viewer.archive_id, UtilizationRequest.id.in_(held_here),
                 UtilizationRequest.id.in_(searched_here)]
    return query.where(or_(*mine))


# ---- seeing records -------------------------------------------------------------------------------

def is_subject(viewer, record: Record) -> bool:
    """The record is about this citizen: a verified identity (portal.accounts.identity), the same
    ID number and the same name. Verified, because anyone can type another person's name and ID
    number at registration; the name too, because an ID number alone is something others may know."""
    return bool(
        signed_in(viewer) and viewer.role == "citizen" and viewer.is_verified
        and viewer.id_number_hash and record.subject_id_hash == viewer.id_number_hash
        and same_name(viewer.real_name, record.subject_name)
    )


def is_holding_staff(viewer, record: Record) -> bool:
    """Staff whose work needs the record: its own archive's clerks and reviewers, and admins."""
    return staff_role(viewer, {record.archive_id}) is not None


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


def copy_audience(viewer, record: Record) -> str | None:
    """Who `viewer` is to the pages of a record's digitized copies, or None if they may not see
    them: the record's own rules (audience_for, can_see), with the staff who attach copies there
    (its archive admin too) counted as staff."""
    seen_as = "staff" if may(viewer, "attach_copies", record.archive_id) else audience_for(viewer, record)
    return seen_as if can_see(record, seen_as) else None
