"""The staff side over the JSON API: the approval queue, the verification tasks (协办任务) of holding
archives, claims on requests and tasks, and what a request's answer adds for staff. HTTP only: the
rules are portal.policy, portal.actions and portal.review.queue, the same the staff pages use.

portal.api.requests calls in here for the staff parts of /requests/<number> (the detail's
additions, the claim's answers); this module never imports it."""
from __future__ import annotations

from flask import g, jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.service import id_number_of, normalize_email
from portal.actions import act, allowed
from portal.api.auth import at
from portal.api.bodies import read_action, read_query
from portal.api.errors import BadInput, api_error
from portal.api.fields import clean_text
from portal.api.responses import Error, Queue, TaskAnswer, TaskConflict
from portal.api.routing import Action, Routes
from portal.api.schemas import TASK_ACTION_BODIES, QueueQuery
from portal.archives.models import Archive
from portal.core.errors import Conflict, NotAllowed
from portal.db import db
from portal import policy
from portal.policy import can
from portal.requests.models import UtilizationRequest
from portal.review import service as review
from portal.review.models import VerificationTask
from portal.review.queue import PAGE_SIZE, QueueFilters, QueueItem, queue, staff_scope
from portal.web_util import client_ip

routes = Routes("staff", "审批队列与协办任务 (staff: the approval queue and verification tasks)")
CLAIM_ACTIONS = ("claim", "release", "reassign")
TASK_ACTIONS = ("verify", "not_found") + CLAIM_ACTIONS
_TASK_ID_CHARS = 32  # what the public_id column holds


# ---- presenting -----------------------------------------------------------------------------------

def person(user: User | None) -> dict | None:
    """A staff member as other staff see them: enough to talk to them, or to reassign to them."""
    return None if user is None else {"name": user.real_name, "email": user.email}


def _task_status(task: VerificationTask) -> tuple[str, str | None]:
    """(status, result): "open" and None until the holding archive answers, then "answered" and
    "verified" or "not_found"; "cancelled" and None when the request ended first."""
    if task.status in ("open", "cancelled"):
        return task.status, None
    return "answered", task.status


def _task_actions(viewer, task: VerificationTask) -> list[str]:
    """What the caller may do on this task now (a claim held by someone else still answers 409)."""
    return [a for a in TASK_ACTIONS if allowed(viewer, a, task)]


def _task_json(task: VerificationTask, viewer) -> dict:
    status, result = _task_status(task)
    copy = task.copy_file
    return {
        "task_id": task.public_id,
        "holding_archive": task.holding_archive.code,
        "status": status,
        "result": result,
        "note": task.note,
        "due_date": task.due_date.isoformat(),
        "version": task.version,
        "claimed_by": person(task.claimed_by),
        "answered_by": person(task.answered_by),
        "answered_at": at(task.answered_at),
        "copy": None if copy is None else {"name": copy.original_name, "content_type": copy.content_type,
                                           "size": copy.size},
        "allowed_actions": _task_actions(viewer, task),
        **({"node": task.holding_archive.node} if task.holding_archive.node else {}),
    }


def staff_additions(req: UtilizationRequest, viewer) -> dict:
    """What GET /requests/<number> adds for staff (nothing for the applicant): the request's claim,
    the verification tasks (all of them for the issuing archive and admins, its own for a holding
    archive) and, for the issuing archive and admins, the applicant's full identity. The caller has
    read the request through service.view_request, which wrote the view to the audit log."""
    if not policy.sees_staff_side(viewer, req):
        return {}
    tasks = [t for t in req.tasks if policy.can_view_task(viewer, t)]
    added = {"claimed_by": person(req.claimed_by), "tasks": [_task_json(t, viewer) for t in tasks]}
    if policy.sees_applicant_identity(viewer, req):
        applicant = req.applicant
        added["applicant"] = {"name": applicant.real_name, "id_number": id_number_of(applicant),
                              "email": applicant.email, "phone": applicant.phone}
    return added


def _queue_item(item: QueueItem) -> dict:
    req, task = item.request, item.task
    out = {"kind": item.kind, "number": req.number}
    if task is not None:
        out["task_id"] = task.public_id
        out["status"] = _task_status(task)[0]
    else:
        out["status"] = req.status
    out["issuing_archive"] = req.issuing_archive.code
    if req.issuing_archive.node:  # a task another node sent: its node
        out["issuing_node"] = req.issuing_archive.node
    if task is not None:
        out["holding_archive"] = task.holding_archive.code
    out.update(due_date=item.due_date.isoformat(), submitted_at=at(req.submitted_at),
               claimed_by=person(item.claimed_by))
    return out


def _task_answer(task: VerificationTask) -> dict:
    status, result = _task_status(task)
    return {"task_id": task.public_id, "status": status, "result": result, "version": task.version,
            "holding_archive": task.holding_archive.code, "claimed_by": person(task.claimed_by),
            "request": {"number": task.request.number, "status": task.request.status}}


def _staff_member(email: str) -> User | None:
    email = normalize_email(email)
    return db.session.scalar(select(User).where(User.email == email)) if email else None


def action_inputs(body) -> dict:
    """An action's body as the dispatcher's input (portal.actions.inputs): reassign names its
    staff member by email, the dispatcher wants the user."""
    inputs = body.inputs()
    if "to" in inputs:
        inputs["to"] = _staff_member(inputs["to"])
        if inputs["to"] is None:
            raise BadInput({"to": _("只能指派给该档案馆的工作人员")})
    return inputs


# ---- verification tasks ---------------------------------------------------------------------------

def _task_forbidden():
    return api_error(_("您不能对这项协办任务执行此操作 (you may not take this action on this task)"), 403)


def _task_step(action: str, summary: str, description: str = "") -> Action:
    return Action(body=TASK_ACTION_BODIES[action], ok=TaskAnswer, conflict=TaskConflict, summary=summary,
                  description=description, errors={403: Error, 404: Error})


DECLARED_TASK_ACTIONS = {
    "verify": _task_step("verify", "核实 (verify; a clerk of the holding archive)",
                         "The certified copy as the file part `copy` (required; one PDF, JPEG or PNG, at most "
                         "10 MB, checked by content). Only while the request is in review."),
    "not_found": _task_step("not_found", "未找到 (not found; a clerk of the holding archive)",
                            "The note (what was searched) is required. Only while the request is in review."),
    "claim": _task_step("claim", "认领 (claim; a clerk of the holding archive)"),
    "release": _task_step("release", "释放认领 (release; the holder or an admin)"),
    "reassign": _task_step("reassign", "指派 (reassign; an admin)",
                           "`to`: the email of a clerk of the holding archive."),
}
assert tuple(DECLARED_TASK_ACTIONS) == TASK_ACTIONS == tuple(TASK_ACTION_BODIES)


@routes.post("/tasks/<task_id>/actions/<action>", summary="协办任务的一步 (a step on a task)",
             actions=DECLARED_TASK_ACTIONS)
def task_action(task_id: str, action: str):
    """The holding archive's answer to a verification task, and claims on tasks."""
    user = g.api_user
    try:
        if len(task_id) > _TASK_ID_CHARS or not clean_text(task_id):
            raise LookupError(task_id)
        task = review.get_task(db.session, user, task_id)
    except LookupError:
        return api_error(_("协办任务不存在，或者您无权查看 (no such task, or not yours to see)"), 404)
    if action not in TASK_ACTIONS:
        return api_error(_("未知的操作 %(action)s (unknown action %(action)s)", action=action), 404)
    if not can(user, action, task):
        return _task_forbidden()
    body = read_action(TASK_ACTION_BODIES, action, _("只有 verify 可以附带复制件 (only verify takes a copy)"))
    try:
        act(db.session, task, action, user, action_inputs(body), ip=client_ip())
    except NotAllowed:
        return _task_forbidden()
    except Conflict as exc:
        return api_error(exc.message, 409, **_task_answer(task))
    return jsonify(_task_answer(task))


@routes.get("/queue", summary="审批队列 (the approval queue)", query=QueueQuery, ok=Queue, errors=(403,))
def staff_queue():
    """One tab of the queue, most urgent first (the finished ones newest first), with the live counts
    of every tab. Staff only; admins choose an archive, or see all of them at once."""
    user = g.api_user
    if not user.is_staff:
        return api_error(_("工作队列仅供档案馆工作人员使用 (the queue is for archive staff)"), 403)
    args = read_query(QueueQuery)
    archive_id, filters = _scope(user, args), _filters(args)
    page = queue(db.session, archive_id, args.tab or "to_accept", filters, args.after or None, args.limit or PAGE_SIZE)
    return jsonify({"items": [_queue_item(item) for item in page.items], "counts": page.counts,
                    "next": page.next_cursor})


def _scope(user, args: QueueQuery) -> int | None:
    """Whose queue: staff their own archive's; admins any archive's, or every archive's at once."""
    if user.role == "admin":
        archive_id = staff_scope(user, args.archive)
        if archive_id == -1:
            raise BadInput({"archive": _("未知的档案馆 %(code)s (unknown archive %(code)s)", code=args.archive[:40])})
        return archive_id
    if args.archive and args.archive != user.archive.code:
        raise BadInput({"archive": _("只能查看本馆的工作队列 (staff see their own archive's queue only)")}, 403)
    return staff_scope(user)


def _filters(args: QueueQuery) -> QueueFilters:
    other = args.other_archive
    if other and db.session.scalar(select(Archive.id).where(Archive.code == other)) is None:
        raise BadInput({"other_archive": _("未知的档案馆 %(code)s (unknown archive %(code)s)", code=other[:40])})
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise BadInput({"date_from": _("date_from 不能晚于 date_to (date_from must not be after date_to)")})
    return QueueFilters(category=args.category, relation=args.relation, archive=other, date_from=args.date_from,
                        date_to=args.date_to, find=args.find)
