"""Who may do what on the staff side, in one table. The workflow's transition table says which
role of the issuing archive takes each state change; this table adds the steps around it. The
services check it, the queue lists only what it allows, and templates render only the buttons
`can()` allows."""
from __future__ import annotations

from portal.requests.access import roles_on, staff_role
from portal.requests.models import UtilizationRequest
from portal.requests.workflow import TRANSITIONS, allowed_actions
from portal.review.models import VerificationTask

# (object, action) → roles. For requests the role is held in the issuing archive (roles_on), for
# tasks in the task's holding archive (task_roles).
PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("request", "claim"): ("clerk", "reviewer"),
    ("request", "release"): ("clerk", "reviewer", "admin"),  # one's own claim; admins any
    ("request", "reassign"): ("admin",),
    ("request", "note"): ("clerk", "reviewer"),
    ("request", "revoke_certificate"): ("reviewer",),
    ("task", "verify"): ("clerk",),
    ("task", "not_found"): ("clerk",),
    ("task", "claim"): ("clerk",),
    ("task", "release"): ("clerk", "admin"),
    ("task", "reassign"): ("admin",),
}


def task_roles(viewer, task: VerificationTask) -> set[str]:
    role = staff_role(viewer, {task.holding_archive_id})
    return {role} if role else set()


def can(viewer, action: str, obj) -> bool:
    """May `viewer` take `action` on a request or a task, as far as roles go (the state is checked
    when acting; the workflow's actions also need the right state here, to hide useless buttons)."""
    if isinstance(obj, VerificationTask):
        return bool(task_roles(viewer, obj).intersection(PERMISSIONS.get(("task", action), ())))
    if isinstance(obj, UtilizationRequest):
        if action in TRANSITIONS:
            return action in allowed_actions(viewer, obj)
        return bool(roles_on(viewer, obj).intersection(PERMISSIONS.get(("request", action), ())))
    return False
