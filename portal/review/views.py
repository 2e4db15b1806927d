"""The staff side's pages: the approval queue (/staff/queue) and the staff view of a request
(/staff/requests/<number>) with the steps staff take on it and on its verification tasks.

HTTP only: parse, call portal.review.service / portal.requests.workflow with the acting user,
render or redirect. Who may do what is portal.review.permissions; templates ask `can()` before
rendering a button. Plain forms work without JavaScript (success → 303 back to the page); htmx
posts get the refreshed page body plus the queue's tab counts as an out-of-band swap."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.service import id_number_of
from portal.archives.service import list_archives
from portal.certificates import service as certificates
from portal.core.i18n import N_
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.requests import service as requests_service
from portal.requests import workflow
from portal.requests.labels import event_labels
from portal.requests.models import UtilizationRequest
from portal.core.clock import CHINA_TIME, china_today
from portal.core.workdays import read_day
from portal.review import queue as review_queue
from portal.review import service
from portal.review.models import VerificationTask
from portal.review.permissions import can
from portal.web_util import client_ip, render, staff_required

bp = Blueprint("review", __name__, url_prefix="/staff")

PAGE_SIZE = review_queue.PAGE_SIZE  # rows per queue page (tests lower it)
REQUEST_STEPS = ("accept", "ask_supplement", "approve", "reject", "issue")  # workflow transitions taken here
CLAIM_STEPS = ("claim", "release", "reassign")
TASK_ANSWERS = ("verify", "not_found")
NO_STORE = {"Cache-Control": "no-store"}  # the pages carry personal data
TASK_STATUS_LABELS = {"open": N_("待核实"), "verified": N_("已核实"), "not_found": N_("未找到"),
                      "cancelled": N_("已取消")}
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


def _htmx() -> bool:
    return bool(getattr(request, "htmx", False))


# ---- the queue ----------------------------------------------------------------------------------

@bp.get("/queue")
@staff_required
def queue_page():
    args = request.args
    tab = args.get("tab") or "to_accept"
    if tab not in review_queue.TABS:
        abort(404)
    scope = review_queue.staff_scope(current_user, args.get("archive", "") if current_user.role == "admin" else "")
    errors: dict[str, str] = {}
    filters = _filters(args, errors)
    page = None
    if not errors:
        try:
            page = review_queue.queue(db.session, scope, tab, filters, after=args.get("after") or None,
                                      limit=PAGE_SIZE)
        except ValidationFailed as exc:
            errors = exc.errors
    counts = page.counts if page is not None else review_queue.counts(db.session, scope)
    headers = dict(NO_STORE)
    status = 400 if errors else 200
    if _htmx():
        status = 200  # htmx swaps only successful answers; the partial carries its own message
        headers["HX-Push-Url"] = queue_url(after=args.get("after") or None)
    return render("review/queue.html", "review/partials/_queue.html", tab=tab, page=page, counts=counts,
                  errors=errors, args=args, archives=list_archives(db.session), today=china_today(),
                  **_shared()), status, headers


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
            "holding_archives": requests_service.holding_archives}


# ---- the staff request page ---------------------------------------------------------------------

@bp.get("/requests/<number>")
@staff_required
def request_page(number: str):
    try:
        req = requests_service.view_request(db.session, current_user, number, ip=client_ip())
    except requests_service.RequestNotFound:
        abort(404)
    return render("review/request.html", "review/partials/_request.html", **_page_context(req)), 200, NO_STORE


def _page_context(req: UtilizationRequest, **extra) -> dict:
    viewer = current_user
    open_tasks = [task for task in req.tasks if task.status == "open"]
    assignable = {}  # whom an admin can hand the request, or a task, to: (user id, label) by form
    if viewer.role == "admin":
        assignable = {"request": _staff_of(req, req.issuing_archive_id),
                      **{task.public_id: _staff_of(task, task.holding_archive_id) for task in req.tasks
                         if task.status == "open"}}
    return {
        "req": req,
        "applicant_id_number": id_number_of(req.applicant) or "",
        "subject_id": requests_service.subject_id_number(req),
        "holding": requests_service.holding_archives(req),
        "notes": service.notes_of(db.session, viewer, req),
        "open_tasks": open_tasks,
        "reject_options": [(code, _(label)) for code, label in service.REJECT_REASONS.items()],
        "network": list_archives(db.session) if req.kind == "search" and can(viewer, "accept", req) else [],
        "assignable": assignable,
        "counts": review_queue.counts(db.session, review_queue.staff_scope(viewer)),
        "can": lambda action, obj: can(viewer, action, obj),
        "step_url": _step_url,
        "acting": None, "errors": {}, "typed": {}, "notice": None, "conflict": None,
        **_shared(),
        **extra,
    }


def _staff_of(obj, archive_id: int) -> list[tuple[int, str]]:
    """Whom an admin can hand `obj` to (portal.review.service.may_work_on), among that archive's staff."""
    users = db.session.scalars(select(User).where(User.archive_id == archive_id).order_by(User.real_name, User.id))
    return [(user.id, f"{user.real_name}（{_(workflow.ROLE_LABELS[user.role])}）") for user in users
            if service.may_work_on(user, obj)]


def _step_url(kind: str, obj, action: str) -> str:
    if kind == "task":
        return url_for("review.task_action", task_id=obj.public_id, action=action)
    return url_for("review.request_action", number=obj.number, action=action)


def _page(req: UtilizationRequest, status: int = 200, **extra):
    """The page again after a step: a plain post gets the whole page (with `status`), htmx gets
    its body and the tab counts out of band (always 200: htmx swaps only successful answers).
    Showing the personal data again is a view like any other, so it is audited again."""
    req = requests_service.view_request(db.session, current_user, req.number, ip=client_ip())
    context = _page_context(req, **extra)
    if _htmx():
        body = (render_template("review/partials/_request.html", **context)
                + render_template("review/partials/_counts.html", oob=True, **context))
        return body, 200, NO_STORE
    return render_template("review/request.html", **context), status, NO_STORE


def _done(req: UtilizationRequest, step: str):
    message = str(DONE_MESSAGES[step])
    if _htmx():
        return _page(req, notice=message)
    flash(message, "success")
    return redirect(url_for("review.request_page", number=req.number), 303)


def _conflict(req: UtilizationRequest, exc: workflow.Conflict):
    """Someone acted first: say so, and who did what last, on the refreshed page (409)."""
    lines = [str(exc.message)]
    latest = exc.latest
    if latest is not None:
        labels = event_labels()
        who = latest.actor.real_name if latest.actor is not None else _(workflow.ROLE_LABELS.get(
            latest.actor_role, latest.actor_role))
        lines.append(_("已由%(name)s（%(role)s）于 %(at)s %(action)s。", name=who,
                     role=_(workflow.ROLE_LABELS.get(latest.actor_role, latest.actor_role)),
                     at=latest.at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M"),
                     action=_(labels.get(latest.action, latest.action))))
    return _page(req, 409, conflict=lines)


def _invalid(req: UtilizationRequest, acting: str, exc: ValidationFailed):
    """The page with each message next to its field and what was typed kept (422)."""
    return _page(req, 422, acting=acting, errors={k: str(v) for k, v in exc.errors.items()},
                 typed=request.form)


def _version() -> int:
    try:
        return int(request.form["version"])
    except (KeyError, ValueError):
        abort(400)


def _handover_to(obj) -> User:
    """The staff member an admin hands a request or task to (the service checks they work there)."""
    if not can(current_user, "reassign", obj):
        raise workflow.NotAllowed("reassign")
    chosen = request.form.get("to", "").strip()
    user = db.session.get(User, int(chosen)) if chosen.isascii() and chosen.isdigit() and len(chosen) < 10 else None
    if user is None:
        raise ValidationFailed({"to": _("请选择工作人员")})
    return user


def _claim_step(obj, action: str, version: int) -> None:
    to_user = _handover_to(obj) if action == "reassign" else None
    service.claim(db.session, obj, current_user, release=action == "release", to_user=to_user, ip=client_ip(),
                  expected_version=version)


def _reject(req: UtilizationRequest, version: int) -> None:
    """Not approved: a reason from the list and a note, kept together as the timeline note the
    citizen reads ("<reason>：<note>", in the archive's language)."""
    reason = service.REJECT_REASONS.get(request.form.get("reason", ""))
    text = (request.form.get("note") or "").strip()
    composed = f"{reason}：{text}" if reason and text else ""
    try:
        workflow.apply(db.session, req, "reject", current_user, composed, expected_version=version)
    except ValidationFailed as exc:
        errors = dict(exc.errors) if composed else {}
        if not reason:
            errors["reason"] = _("请选择不予通过的原因")
        if not text:
            errors["note"] = _("请填写说明：申请人会看到原因和说明")
        raise ValidationFailed(errors) from None


@bp.post("/requests/<number>/<action>")
@staff_required
def request_action(number: str, action: str):
    if action not in (*REQUEST_STEPS, *CLAIM_STEPS, "note", "revoke"):
        abort(404)
    try:
        req = requests_service.get_request(db.session, current_user, number)
    except requests_service.RequestNotFound:
        abort(404)
    try:
        if action == "note":
            service.add_note(db.session, req, current_user, request.form.get("text", ""))
        elif action == "revoke":
            certificates.revoke(db.session, req, current_user, request.form.get("reason", ""), ip=client_ip())
        elif action in REQUEST_STEPS:
            version = _version()
            if action == "reject":
                _reject(req, version)
            elif action == "issue":
                certificates.issue(db.session, req, current_user, request.form.get("note", ""),
                                   expected_version=version)
            elif action == "accept":
                # A "please search for me" form lists the archives to search, checked or not.
                chosen = request.form.getlist("archives") if request.form.get("choose_archives") else None
                service.accept(db.session, req, current_user, request.form.get("note", ""), archives=chosen,
                               expected_version=version)
            else:
                workflow.apply(db.session, req, action, current_user, request.form.get("note", ""),
                               expected_version=version)
        else:
            _claim_step(req, action, _version())
    except workflow.NotAllowed:
        abort(403)
    except workflow.Conflict as exc:
        return _conflict(req, exc)
    except ValidationFailed as exc:
        return _invalid(req, action, exc)
    except certificates.CertificateUnavailable as exc:
        return _page(req, 503, conflict=[str(exc.message)])
    except LookupError:  # revoking where no certificate was issued
        abort(404)
    return _done(req, action)


@bp.post("/tasks/<task_id>/<action>")
@staff_required
def task_action(task_id: str, action: str):
    if action not in (*TASK_ANSWERS, *CLAIM_STEPS):
        abort(404)
    try:
        task: VerificationTask = service.get_task(db.session, current_user, task_id)
    except LookupError:
        abort(404)
    req = task.request
    version = _version()
    try:
        if action in TASK_ANSWERS:
            sent = request.files.get("copy")
            copy = requests_service.Upload("certified_copy", sent.filename or "", sent.stream) \
                if sent is not None and sent.filename else None
            service.answer_task(db.session, task, action, current_user, request.form.get("note", ""), copy,
                                expected_version=version)
        else:
            _claim_step(task, action, version)
    except workflow.NotAllowed:
        abort(403)
    except workflow.Conflict as exc:
        return _conflict(req, exc)
    except ValidationFailed as exc:
        return _invalid(req, f"{task.public_id}:{action}", exc)
    return _done(req, action)
