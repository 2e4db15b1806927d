"""The staff side's pages: the approval queue (/staff/queue) and the staff view of a request
(/staff/requests/<number>) with the steps staff take on it and on its verification tasks.

HTTP only: parse the form, call portal.actions.act with the acting user, render or redirect. Who
may do what is portal.policy; templates ask `can()` (portal.actions.allowed) before rendering a
button. Plain forms work without JavaScript (success → 303 back to the page); htmx posts get the
refreshed page body plus the queue's tab counts as an out-of-band swap, with the real status."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.federation.messages_worker import messages_of as peer_messages
from portal.accounts.models import User
from portal.accounts.service import id_number_of
from portal.actions import act, allowed, check, spec
from portal.archives.service import list_archives
from portal.catalog.copies import certified_copy_file, copies_for_task
from portal.certificates.service import CertificateUnavailable, NoCertificate
from portal.core.errors import Conflict, NotAllowed, UnknownAction, ValidationFailed
from portal.db import db
from portal.policy import can, may_work_on, sees_applicant_identity
from portal.requests import service as requests_service
from portal.requests.labels import (ACTION_LABELS, PEER_MESSAGE_KINDS, PEER_MESSAGE_LABELS, REJECT_REASONS, ROLE_LABELS,
                                   TASK_STATUS_LABELS)
from portal.requests.models import UtilizationRequest, holding_archives
from portal.core.clock import CHINA_TIME, china_today
from portal.core.punctuation import paren
from portal.core.workdays import read_day
from portal.review import queue as review_queue
from portal.review import service
from portal.review.models import VerificationTask
from portal.accounts.sessions import PasswordNeeded
from portal.web_util import client_ip, is_htmx, render, see_other, staff_required

bp = Blueprint("review", __name__, url_prefix="/staff")

PAGE_SIZE = review_queue.PAGE_SIZE  # rows per queue page (tests lower it)
REQUEST_STEPS = ("accept", "ask_supplement", "approve", "reject", "issue", "claim", "release", "reassign", "note",
                 "revoke")  # the actions of portal.actions taken on this page
TASK_STEPS = ("verify", "not_found", "claim", "release", "reassign")
STEP_ACTIONS = {"revoke": "revoke_certificate"}  # the page's short address for an action of portal.actions
VERSIONLESS = ("note", "revoke_certificate")  # forms that change no state of the request carry no version
DONE_MESSAGES = {
    "accept": _l("已受理，核实任务已发给保存档案的档案馆。"),
    "ask_supplement": _l("已通知申请人补充材料。"),
    "approve": _l("已审核通过。"),
    "issue": _l("证明已出具并签名，申请人会收到通知。"),
    "revoke": _l("证明已撤销，申请人会收到通知；核验时将显示“已撤销”。"),
    "reject": _l("已作出不予通过的决定，申请人将看到原因。"),
    "claim": _l("已认领：其他工作人员会看到由您办理。"),
    "release": _l("已释放认领。"),
    "reassign": _l("已重新指派。"),
    "note": _l("内部备注已保存。"),
    "verify": _l("核实结果和复制件已提交。"),
    "not_found": _l("已报告未找到档案。"),
}
_QUEUE_PARAMS = ("tab", "archive", "category", "relation", "other", "date_from", "date_to", "find")


# ---- the queue ----------------------------------------------------------------------------------

@bp.get("/queue")
@staff_required
def queue_page():
    args = request.args
    tab = args.get("tab") or None
    if tab is not None and tab not in review_queue.TABS:
        abort(404)
    scope = review_queue.staff_scope(current_user, args.get("archive", ""))  # only an admin's choice counts
    counts = review_queue.counts(db.session, scope)
    tab = tab or review_queue.first_with_work(counts)  # none chosen: the first tab with work in it
    errors: dict[str, str] = {}
    filters = _filters(args, errors)
    page = None
    if not errors:
        try:
            page = review_queue.queue(db.session, scope, tab, filters, after=args.get("after") or None,
                                      limit=PAGE_SIZE, tab_counts=counts)
        except ValidationFailed as exc:
            errors = exc.errors
    headers = {}
    if is_htmx():
        headers["HX-Push-Url"] = queue_url(after=args.get("after") or None)
    return render("review/queue.html", "review/partials/_queue.html", status=400 if errors else 200,
                  headers=headers, tab=tab, page=page, counts=counts, errors=errors, args=args,
                  archives=list_archives(db.session), today=china_today(), **_shared())


def _filters(args, errors: dict) -> review_queue.QueueFilters:
    return review_queue.QueueFilters(
        category=(args.get("category") or "").strip(), relation=(args.get("relation") or "").strip(),
        archive=(args.get("other") or "").strip(), date_from=read_day(args, "date_from", errors),
        date_to=read_day(args, "date_to", errors),
        find=(args.get("find") or "").strip()[:50])


@bp.app_template_global()
def queue_url(**changes) -> str:
    """The queue with some parameters changed (None removes one); on the queue page the current
    tab and filters carry over, and any change starts from the first page."""
    params = {}
    if request.endpoint == "review.queue_page":
        params = {key: value for key in _QUEUE_PARAMS if (value := request.args.get(key))}
    params.update(changes)
    return url_for("review.queue_page", **{k: v for k, v in params.items() if v not in (None, "")})


def _shared() -> dict:
    """What the queue, the request page and the out-of-band counts all use."""
    return {"TABS": review_queue.TABS, "TASK_STATUS_LABELS": TASK_STATUS_LABELS,
            "PEER_MESSAGE_LABELS": PEER_MESSAGE_LABELS, "PEER_MESSAGE_KINDS": PEER_MESSAGE_KINDS,
            "holding_archives": holding_archives, "copies_for_task": copies_for_task}


# ---- the staff request page ---------------------------------------------------------------------

@bp.app_template_global()
def subject_check(req: UtilizationRequest, record) -> tuple[str, str]:
    """The staff page's column: (the check, its words) — see service.subject_check."""
    check = service.subject_check(req, record)
    return check, str(service.SUBJECT_CHECKS[check])


@bp.get("/requests/<number>")
@staff_required
def request_page(number: str):
    try:
        req = requests_service.view_request(db.session, current_user, number, ip=client_ip())
    except requests_service.RequestNotFound:
        abort(404)
    return render("review/request.html", "review/partials/_request.html", **_page_context(req))


def _page_context(req: UtilizationRequest, **extra) -> dict:
    viewer = current_user
    open_tasks = [task for task in req.tasks if task.status == "open"]
    # Whom the request, or an open task, can be handed to, for those who may reassign (admins).
    assignable = {key: _staff_of(obj, archive_id) for key, obj, archive_id in (
        ("request", req, req.issuing_archive_id),
        *((task.public_id, task, task.holding_archive_id) for task in open_tasks)) if allowed(viewer, "reassign", obj)}
    identity = sees_applicant_identity(viewer, req)
    return {
        "req": req,
        "applicant_identity": identity,
        "applicant_id_number": (id_number_of(req.applicant) or "") if identity else "",
        "subject_id": requests_service.subject_id_number(req),
        "holding": holding_archives(req),
        "replaced": service.replaced_certificate(req),
        "awaits_certificate": service.awaits_certificate(req),
        "notes": service.notes_of(db.session, viewer, req),
        "peer_messages": peer_messages(db.session, req),  # tasks sent to other nodes: delivered, waiting, failed
        "open_tasks": open_tasks,
        "reject_options": [(code, _(label)) for code, label in REJECT_REASONS.items()],
        "network": list_archives(db.session) if req.kind == "search" and allowed(viewer, "accept", req) else [],
        "assignable": assignable,
        "counts": review_queue.counts(db.session, review_queue.staff_scope(viewer)),
        "can": lambda action, obj: allowed(viewer, action, obj),
        "step_url": _step_url,
        "acting": None, "errors": {}, "typed": {}, "notice": None, "conflict": None,
        **_shared(),
        **extra,
    }


def _staff_of(obj, archive_id: int) -> list[tuple[int, str]]:
    """Whom an admin can hand `obj` to (portal.policy.may_work_on), among that archive's staff."""
    users = db.session.scalars(select(User).where(User.archive_id == archive_id).order_by(User.real_name, User.id))
    return [(user.id, user.real_name + paren(_(ROLE_LABELS[user.role]))) for user in users
            if may_work_on(user, obj)]


def _step_url(kind: str, obj, action: str) -> str:
    if kind == "task":
        return url_for("review.task_action", task_id=obj.public_id, action=action)
    return url_for("review.request_action", number=obj.number, action=action)


def _page(req: UtilizationRequest, status: int = 200, **extra):
    """The page again after a step: a plain post gets the whole page, htmx its body and the tab
    counts out of band, both with `status`. Showing the personal data again is a view like any
    other, so it is audited again."""
    req = requests_service.view_request(db.session, current_user, req.number, ip=client_ip())
    return render("review/request.html", "review/partials/_request.html", status=status,
                  oob_partials=("review/partials/_counts.html",), **_page_context(req, **extra))


def _done(req: UtilizationRequest, step: str):
    message = str(DONE_MESSAGES[step])
    if is_htmx():
        return _page(req, notice=message)
    flash(message, "success")
    return redirect(url_for("review.request_page", number=req.number), 303)


def _conflict(req: UtilizationRequest, exc: Conflict):
    """Someone acted first: say so, and who did what last, on the refreshed page (409)."""
    lines = [str(exc.message)]
    latest = exc.latest
    if latest is not None:
        role = _(ROLE_LABELS.get(latest.actor_role, latest.actor_role))
        who = latest.actor.real_name if latest.actor is not None else role
        lines.append(_("已由%(name)s（%(role)s）于 %(at)s %(action)s。", name=who, role=role,
                     at=latest.at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M"),
                     action=_(ACTION_LABELS.get(latest.action, latest.action))))
    return _page(req, 409, conflict=lines)


def _inputs(obj, action: str) -> dict:
    """What the form sent, as the action's input (portal.actions.inputs checks and reads it)."""
    form = request.form
    data = {}
    if action not in VERSIONLESS:
        version = form.get("version", "")
        if not (version.isascii() and version.isdigit() and len(version) < 10):
            abort(400)  # the page always sends it
        data["version"] = int(version)
    fields = spec(obj, action).input.model_fields
    for name in ("note", "reason", "text"):
        if name in fields and name in form:
            data[name] = form[name]
    if "identity_checked" in fields:
        data["identity_checked"] = form.get("identity_checked") == "1"
    if "print_note" in fields:
        data["print_note"] = form.get("print_note") == "1"
    if "archives" in fields and form.get("choose_archives"):  # a "please search for me" accept form
        data["archives"] = form.getlist("archives")
    if "certified_copy" in fields and (sent := request.files.get("copy")) is not None and sent.filename:
        data["copy"] = requests_service.Upload("certified_copy", sent.filename, sent.stream)
    elif "certified_copy" in fields and (chosen := form.get("digitized_copy", "")):  # a digitized copy instead
        if (found := certified_copy_file(obj, chosen)) is None:
            abort(400)  # the page offers only the task's own copies
        data["copy"] = requests_service.Upload("certified_copy", found[0], BytesIO(found[1]))
    if "to" in fields:
        data["to"] = _staff_member(form.get("to", "").strip())
    return data


def _staff_member(chosen: str) -> User | None:
    return db.session.get(User, int(chosen)) if chosen.isascii() and chosen.isdigit() and len(chosen) < 10 else None


def _step(req: UtilizationRequest, target, action: str, form_key: str, preview=None):
    """Take the step through the dispatcher, and answer: done (303 or the page), 403, 409, 422, 503.
    `form_key` names the form that was sent (its messages and what was typed go back to it). With
    `preview`, nothing is taken: the dispatcher's checks alone, then `preview(req)` answers."""
    if not can(current_user, action, target):  # 403 before anything sent is read
        abort(403)
    try:
        (check if preview else act)(db.session, target, action, current_user, _inputs(target, action), ip=client_ip())
        if preview:
            return preview(req)
    except (UnknownAction, NoCertificate):
        abort(404)
    except NotAllowed:
        abort(403)
    except Conflict as exc:
        return _conflict(req, exc)
    except ValidationFailed as exc:
        return _page(req, 422, acting=form_key, errors={k: str(v) for k, v in exc.errors.items()},
                     typed=request.form)
    except CertificateUnavailable as exc:
        return _page(req, 503, conflict=[str(exc.message)])
    except PasswordNeeded:
        flash(_("签发或撤销证明前，请再次输入密码。"), "info")
        return see_other(url_for("accounts.reauth", next=url_for("review.request_page", number=req.number)))
    return _done(req, form_key.rpartition(":")[2])


@bp.post("/requests/<number>/<action>")
@staff_required
def request_action(number: str, action: str):
    if action not in REQUEST_STEPS:
        abort(404)
    try:
        req = requests_service.get_request(db.session, current_user, number)
    except requests_service.RequestNotFound:
        abort(404)
    if action in CONFIRM_FIRST and request.form.get("confirm") != "1":
        return _step(req, req, action, action, preview=CONFIRM_FIRST[action])
    return _step(req, req, STEP_ACTIONS.get(action, action), action)


def _issue_preview(req: UtilizationRequest):
    """出具证明, before it is signed: the certificate as it will be printed (the content the PDF is
    made from) and the button that confirms. Its personal data is a view like the page's: audited."""
    req = requests_service.view_request(db.session, current_user, req.number, ip=client_ip())
    content = service.certificate_preview(req)  # CertificateUnavailable: _step answers 503
    return render("review/issue_preview.html", "review/partials/_issue_preview.html", req=req, content=content,
                  replaced=service.replaced_certificate(req), note=request.form.get("note", ""),
                  counts=review_queue.counts(db.session, review_queue.staff_scope(current_user)), **_shared())


CONFIRM_FIRST = {"issue": _issue_preview}  # steps whose form shows what they will do, and a button to confirm


@bp.post("/tasks/<task_id>/<action>")
@staff_required
def task_action(task_id: str, action: str):
    if action not in TASK_STEPS:
        abort(404)
    try:
        task: VerificationTask = service.get_task(db.session, current_user, task_id)
    except LookupError:
        abort(404)
    return _step(task.request, task, action, f"{task.public_id}:{action}")
