from __future__ import annotations

import secrets
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.archives.models import Archive
from portal.archives.service import list_archives
from portal.catalog.service import present, records_of
from portal.db import db
from portal.actions import act, allowed_actions
from portal.core.errors import Conflict, NotAllowed, ValidationFailed
from portal.requests import basket, service
from portal.requests.forms import ApplyForm, ActionForm
from portal.requests.models import FILE_KINDS
from portal.core.uploads import send_stored
from portal.core.clock import CHINA_TIME
from portal import throttle
from portal.throttle import Throttled
from portal.web_util import client_ip, is_htmx, render, safe_next

bp = Blueprint("requests", __name__)


def citizen_required(view):
    """Applying is for citizens' own accounts; staff act from the queue."""
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if current_user.role != "citizen":
            abort(403)
        return view(*args, **kwargs)
    return wrapper


@bp.get("/me/records")
@citizen_required
def my_records():
    records = [present(r, "subject") for r in records_of(db.session, current_user)]
    return render("requests/my_records.html", records=records)


@bp.post("/basket/add")
@citizen_required
def basket_add():
    code, reference = request.form.get("archive_code", ""), request.form.get("reference_code", "")
    added = basket.add(session, code, reference)
    full = None if added else _("申请清单已满（最多 %(n)d 条），请先提交申请。", n=basket.MAX_ITEMS)
    if is_htmx():
        # The message goes into the swapped button, not into a flash that would appear pages later.
        return render("requests/partials/_basket_button.html", archive_code=code, reference_code=reference,
                      in_basket=(code, reference) in basket.items(session), oob=True, error=full)
    if full:
        flash(full, "error")
    elif not request.form.get("quiet"):
        flash(_("已加入申请清单。"), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("requests.apply"))


@bp.post("/basket/remove")
@citizen_required
def basket_remove():
    basket.remove(session, request.form.get("archive_code", ""), request.form.get("reference_code", ""))
    return redirect(url_for("requests.apply"))


def _application(form: ApplyForm) -> service.Application:
    search = None
    if form.kind.data == "search":
        search = service.SearchSpec(category=form.search_category.data or "", year_from=form.year_from.data,
                                    year_to=form.year_to.data, place=form.search_place.data or "",
                                    archives=form.search_archives.data or [])
    return service.Application(
        relation=form.relation.data or "", subject_name=form.subject_name.data or "",
        subject_id_number=form.subject_id_number.data or "",
        records=basket.items(session) if form.kind.data != "search" else [], search=search,
        purpose=form.purpose.data or "", purpose_note=form.purpose_note.data or "",
        issuing_archive=form.issuing_archive.data or "", delivery=form.delivery.data or "",
        address=form.address.data or "", consent=bool(form.consent.data))


def _uploads() -> list[service.Upload]:
    return [service.Upload(kind, f.filename or "", f.stream)
            for kind in FILE_KINDS for f in request.files.getlist(kind) if f and (f.filename or f.content_length)]


@bp.route("/apply", methods=["GET", "POST"])
@citizen_required
def apply():
    form = ApplyForm()
    archives = list_archives(db.session)
    form.set_archives(archives)
    if request.method == "GET":
        form.kind.data = "search" if request.args.get("kind") == "search" else "records"
        form.submission_key.data = secrets.token_urlsafe(16)
        if request.args.get("relation"):
            form.relation.data = request.args["relation"]
    kept, status = [], 200
    if request.method == "POST":
        if not form.validate():  # only the CSRF token: the rules are the service's
            abort(400)
        try:
            throttle.check("apply")  # counted before any file is stored
            created, _new = service.submit(
                db.session, current_user, _application(form), _uploads(),
                idempotency_key=form.submission_key.data, kept_file_ids=request.form.getlist("kept_file"),
                keep_drafts=True)
        except Throttled as exc:
            form.form_errors, status = [exc.text()], 429
        except service.ApplicationInvalid as exc:
            kept, status = exc.kept, 422
            _show_errors(form, exc.errors)
        else:
            if created.kind == "records":
                basket.clear(session)
            flash(_("申请已提交，申请编号 %(number)s。办理进度会通过邮件通知您。", number=created.number), "success")
            return redirect(url_for("requests.detail", number=created.number), 303)
    items = basket.contents(db.session, current_user, session)
    return render_template("requests/apply.html", form=form, items=items, kept=kept, peer_nodes=_peer_nodes(items),
                           form_errors=getattr(form, "form_errors", [])), status


def _peer_nodes(items) -> dict[str, str]:
    """Archive code → node name, for the basket's records another node holds (mirrors: they have no
    page on this node, and applying for them sends a task to that node)."""
    ids = {r.archive_id for r in items}
    if not ids:
        return {}
    rows = db.session.scalars(select(Archive).where(Archive.id.in_(ids), Archive.node.is_not(None)))
    return {archive.code: archive.node for archive in rows}


def _show_errors(form, errors: dict) -> None:
    form.form_errors = []
    shown = {f.name for f in form.proof_fields(current_user)}
    for name, message in errors.items():
        target = getattr(form, name, None)
        # Errors of upload fields the chosen relation does not show go to the summary, or nobody would see them.
        if target is None or name in ("records", "files", "form") or (name in FILE_KINDS and name not in shown):
            form.form_errors.append(message)
        else:
            target.errors = [*target.errors, message]


@bp.post("/apply/fields")
@citizen_required
def relation_fields():
    """The fields that depend on the relation (whose records, which proofs), re-rendered by htmx
    when the relation changes; what was typed comes along — POSTed, because it may hold an ID
    number, which never travels in an address (server logs, history, Referer)."""
    form = ApplyForm(formdata=request.form, meta={"csrf": False})  # the app checks the CSRF header
    return render("requests/partials/_relation_fields.html", form=form)


@bp.get("/requests")
@citizen_required
def my_requests():
    return render_template("requests/list.html", requests=service.requests_of(db.session, current_user))


def _load(number: str):
    try:
        return service.get_request(db.session, current_user, number)
    except service.RequestNotFound:
        abort(404)


@bp.get("/requests/<number>")
@login_required
def detail(number: str):
    try:
        req = service.view_request(db.session, current_user, number, ip=client_ip())
    except service.RequestNotFound:
        abort(404)
    return render("requests/detail.html", req=req, **_detail_context(req))


def _detail_context(req, form: ActionForm | None = None) -> dict:
    form = form or ActionForm(version=req.version)
    return {"form": form, "actions": allowed_actions(current_user, req),
            "holding": service.holding_archives(req), "asked": service.supplement_asked(req),
            "subject_id": service.subject_id_number(req)}


@bp.post("/requests/<number>/<action>")
@login_required
def step(number: str, action: str):
    req = _load(number)
    form = ActionForm()
    if action not in ("withdraw", "resubmit"):
        abort(404)
    if not form.validate():
        abort(400)
    uploads = [service.Upload("supplement", f.filename or "", f.stream)
               for f in request.files.getlist("files") if f and f.filename]
    inputs = {"note": form.note.data or "", "version": form.version.data}
    try:
        act(db.session, req, action, current_user, {**inputs, "files": uploads} if uploads else inputs,
                    ip=client_ip())
    except NotAllowed:
        abort(403)
    except Conflict as exc:
        flash(str(exc.message), "error")
    except ValidationFailed as exc:
        for name, message in exc.errors.items():
            target = form.note if name == "note" else form.files
            target.errors = [*target.errors, message]
        return render("requests/detail.html", status=422, req=req, acting=action,
                      **_detail_context(req, form))
    else:
        flash(_("申请已撤回。") if action == "withdraw" else _("补充材料已提交，档案馆将继续办理。"), "success")
    return redirect(url_for("requests.detail", number=number), 303)


@bp.get("/requests/<number>/files/<public_id>")
@login_required
def file(number: str, public_id: str):
    try:
        found = service.get_file(db.session, current_user, number, public_id, ip=client_ip())
    except service.RequestNotFound:
        abort(404)
    return send_stored(current_app.config["UPLOAD_FOLDER"], found.stored_name, download_name=found.original_name,
                       content_type=found.content_type, inline=request.args.get("download") != "1")


@bp.get("/requests/<number>/progress")
@login_required
def progress(number: str):
    """Polled by the detail page while the request is open: nothing (204) until the request
    changes, then a full reload, so a half-typed supplement is never swapped away for nothing."""
    req = _load(number)
    if str(req.version) == request.args.get("version"):
        return "", 204
    return "", 200, {"HX-Refresh": "true"}


@bp.app_context_processor
def _labels() -> dict:
    from portal.requests.forms import ACCEPT
    from portal.requests import labels

    return {"STATUS_LABELS": labels.STATUS_LABELS, "ROLE_LABELS": labels.ROLE_LABELS, "FILE_LABELS": labels.FILE_LABELS,
            "RELATION_LABELS": labels.RELATION_LABELS, "PURPOSE_LABELS": labels.PURPOSE_LABELS,
            "DELIVERY_LABELS": labels.DELIVERY_LABELS, "ACCEPT_UPLOADS": ACCEPT,
            "ACTION_LABELS": labels.ACTION_LABELS,
            "basket_items": set(basket.items(session)) if current_user.is_authenticated else set()}


@bp.app_template_filter("local_datetime")
def local_datetime(value) -> str:
    return value.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") if value else ""


@bp.app_template_filter("local_date")
def local_date(value) -> str:
    return value.astimezone(CHINA_TIME).strftime("%Y-%m-%d") if value else ""


@bp.app_template_filter("mask_id")
def mask_id(value: str) -> str:
    from portal.core.masking import mask_id_number

    return mask_id_number(value) if value else ""
