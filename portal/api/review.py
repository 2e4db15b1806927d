"""The staff side over the JSON API: the approval queue, the verification tasks (协办任务) of holding
archives, claims on requests and tasks, and what a request's answer adds for staff. HTTP only: the
rules are portal.review (permissions, service, queue), the same the staff pages use.

Routes live on the API blueprint of portal.api.views. portal.api.requests calls in here for the
staff parts of /requests/<number> (the detail's additions, claim/release/reassign, reject's reason);
this module never imports it, so the two can be imported in either order."""
from __future__ import annotations

from flask import g, jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.service import id_number_of, normalize_email
from portal.api.auth import api_error, at, invalid, token_required
from portal.api.request_input import BadInput, clean_text
from portal.api.review_input import read_body, read_queue_args
from portal.api.views import bp
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.requests.models import UtilizationRequest
from portal.requests.workflow import Conflict, NotAllowed
from portal.review import service as review
from portal.review.models import VerificationTask
from portal.review.permissions import can
from portal.review.queue import QueueItem, queue
from portal.web_util import client_ip

STAFF_ROLES = ("clerk", "reviewer", "admin")
CLAIM_ACTIONS = ("claim", "release", "reassign")
TASK_ACTIONS = ("verify", "not_found") + CLAIM_ACTIONS
_TASK_ID_CHARS = 32  # what the public_id column holds




# ---- presenting -----------------------------------------------------------------------------------



def _person(user: User | None) -> dict | None:
    """A staff member as other staff see them: enough to talk to them, or to reassign to them."""
    return None if user is None else {"name": user.real_name, "email": user.email}


def _task_status(task: VerificationTask) -> tuple[str, str | None]:
    """(status, result): "open" and None until the holding archive answers, then "answered" and
    "verified" or "not_found"; "cancelled" and None when the request ended first."""
    if task.status in ("open", "cancelled"):
        return task.status, None
    return "answered", task.status


def _task_actions(viewer, task: VerificationTask) -> list[str]:
    """What the caller's role allows on this task now (a claim held by someone else still answers 409)."""
    if task.status != "open":
        return []
    actions = [a for a in TASK_ACTIONS if can(viewer, a, task)]
    if task.request.status != "in_review":
        actions = [a for a in actions if a not in ("verify", "not_found")]
    return actions


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
        "claimed_by": _person(task.claimed_by),
        "answered_by": _person(task.answered_by),
        "answered_at": at(task.answered_at),
        "copy": None if copy is None else {"name": copy.original_name, "content_type": copy.content_type,
                                           "size": copy.size},
        "allowed_actions": _task_actions(viewer, task),
    }


def staff_additions(req: UtilizationRequest, viewer) -> dict:
    """What GET /requests/<number> adds for staff (nothing for the applicant): the request's claim,
    the verification tasks (all of them for the issuing archive and admins, its own for a holding
    archive) and, for the issuing archive and admins, the applicant's full identity. The caller has
    read the request through service.view_request, which wrote the view to the audit log."""
    if viewer.id == req.applicant_id or viewer.role not in STAFF_ROLES:
        return {}
    issuing = viewer.role == "admin" or viewer.archive_id == req.issuing_archive_id
    tasks = [t for t in req.tasks if issuing or t.holding_archive_id == viewer.archive_id]
    added = {"claimed_by": _person(req.claimed_by), "tasks": [_task_json(t, viewer) for t in tasks]}
    if issuing:
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
    if task is not None:
        out["holding_archive"] = task.holding_archive.code
    out.update(due_date=item.due_date.isoformat(), submitted_at=at(req.submitted_at),
               claimed_by=_person(item.claimed_by))
    return out


def _task_answer(task: VerificationTask) -> dict:
    status, result = _task_status(task)
    return {"task_id": task.public_id, "status": status, "result": result, "version": task.version,
            "holding_archive": task.holding_archive.code, "claimed_by": _person(task.claimed_by),
            "request": {"number": task.request.number, "status": task.request.status}}


def _staff_member(email: str) -> User | None:
    email = normalize_email(email)
    return db.session.scalar(select(User).where(User.email == email)) if email else None


def _claim(obj: UtilizationRequest | VerificationTask, action: str, no_files_message: str) -> None:
    """claim / release / reassign (`{"to": email}`) of a request or a task; the service's errors pass through."""
    body = read_body(("version", "to") if action == "reassign" else ("version",), no_files_message=no_files_message)
    to_user = None
    if action == "reassign":
        if not body.to.strip():
            raise BadInput({"to": _("缺少字段 %(field)s (%(field)s is required)", field="to")})
        to_user = _staff_member(body.to)
        if to_user is None:
            raise ValidationFailed({"to": _("只能指派给该档案馆的工作人员")})
    review.claim(db.session, obj, g.api_user, release=action == "release", to_user=to_user, ip=client_ip(),
                 expected_version=body.version)


# ---- the request's claim: POST /requests/<number>/actions/claim|release|reassign --------------------

def _request_forbidden():
    return api_error(_("您不能对这份申请执行此操作 (you may not take this action on this request)"), 403)


def request_claim(req: UtilizationRequest, action: str):
    """The answer to a claim, release or reassign of a request the caller may see."""
    if not can(g.api_user, action, req):
        return _request_forbidden()
    try:
        _claim(req, action, _("只有 resubmit 可以附带文件 (only resubmit takes files)"))
    except BadInput as exc:
        return invalid(exc.errors, exc.status)
    except ValidationFailed as exc:
        return invalid(exc.errors)
    except NotAllowed:
        return _request_forbidden()
    except Conflict as exc:
        return api_error(exc.message, 409, status=req.status, version=req.version, claimed_by=_person(req.claimed_by))
    return jsonify({"number": req.number, "status": req.status, "version": req.version,
                    "claimed_by": _person(req.claimed_by)})


# ---- verification tasks ---------------------------------------------------------------------------

def _task_forbidden():
    return api_error(_("您不能对这项协办任务执行此操作 (you may not take this action on this task)"), 403)


@bp.post("/tasks/<task_id>/actions/<action>")
@token_required
def task_action(task_id: str, action: str):
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
    no_files = _("只有 verify 可以附带复制件 (only verify takes a copy)")
    try:
        if action in ("verify", "not_found"):
            body = read_body(("note", "version"), takes_copy=action == "verify", no_files_message=no_files)
            review.answer_task(db.session, task, action, user, body.note, copy=body.copy,
                               expected_version=body.version)
        else:
            _claim(task, action, no_files)
    except BadInput as exc:
        return invalid(exc.errors, exc.status)
    except ValidationFailed as exc:
        return invalid(exc.errors)
    except NotAllowed:
        return _task_forbidden()
    except Conflict as exc:
        return api_error(exc.message, 409, **_task_answer(task))
    return jsonify(_task_answer(task))


@bp.get("/queue")
@token_required
def staff_queue():
    user = g.api_user
    if user.role not in STAFF_ROLES:
        return api_error(_("工作队列仅供档案馆工作人员使用 (the queue is for archive staff)"), 403)
    try:
        args = read_queue_args(user)
        page = queue(db.session, args.archive_id, args.tab, args.filters, args.after, args.limit)
    except BadInput as exc:
        return invalid(exc.errors, exc.status)
    except ValidationFailed as exc:
        return invalid(exc.errors)
    return jsonify({"items": [_queue_item(item) for item in page.items], "counts": page.counts,
                    "next": page.next_cursor})
