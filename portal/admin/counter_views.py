"""Counter intake pages (/admin/<code>/counter): HTTP only; the rules are portal.admin.counter.
The ID number travels in form bodies only (never a URL); the chosen citizen in a hidden field."""
from __future__ import annotations

import secrets

from flask import abort, flash, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.accounts.models import User
from portal.accounts.notice import NOTICE
from portal.actions import act, allowed
from portal.admin import counter
from portal.admin.sections import section
from portal.admin.views import archive_for, bp
from portal.core.categories import CATEGORIES
from portal.core.errors import Conflict, NotAllowed, ValidationFailed
from portal.db import db
from portal.requests import labels
from portal.requests.applying import REQUIRED_PROOFS, Application, SearchSpec, Upload
from portal.requests.models import FILE_KINDS
from portal.web_util import client_ip, render, see_other

section("admin.counter_page", _l("现场接待"), "counter_intake", order=30)

INTAKE_FIELDS = ("relation", "subject_name", "subject_id_number", "records", "kind", "search_category", "year_from",
                 "year_to", "search_place", "purpose", "purpose_note", "delivery", "address")


def _context(archive, **extra) -> dict:
    return {"archive": archive, "errors": {}, "typed": {}, "found": None, "citizen": None, "results": [],
            "labels": labels, "categories": CATEGORIES, "required_proofs": REQUIRED_PROOFS, "notice": NOTICE,
            "mask_email": counter.masked_email, "walk_in_domain": counter.WALK_IN_DOMAIN, **extra}


def _page(archive, status: int = 200, **extra):
    return render("admin/counter.html", status=status, **_context(archive, **extra))


@bp.get("/<code>/counter")
@login_required
def counter_page(code: str):
    archive = archive_for(code, "counter_intake")
    return _page(archive)


@bp.post("/<code>/counter/lookup")
@login_required
def counter_lookup(code: str):
    archive = archive_for(code, "counter_intake")
    typed = request.form
    try:
        found = counter.look_up(db.session, current_user, archive, typed.get("id_number", ""), ip=client_ip())
    except ValidationFailed as exc:
        return _page(archive, 422, errors={k: str(v) for k, v in exc.errors.items()}, typed=typed)
    if found.account is not None and found.account.is_verified:
        return _intake(archive, found.account)
    if found.account is not None:
        _vouch(archive, found.account)
    return _page(archive, found=found, typed=typed)


@bp.post("/<code>/counter/citizen")
@login_required
def counter_citizen(code: str):
    """Create the walk-in's account, or verify the unverified one found: then the intake form."""
    archive = archive_for(code, "counter_intake")
    typed = request.form
    try:
        if typed.get("account"):
            account = _vouched(archive, typed.get("account", ""))
            citizen = counter.verify_found(db.session, current_user, archive, account, typed.get("id_number", ""),
                                           typed.get("name", ""), ip=client_ip())
        else:
            citizen = counter.create_walk_in(db.session, current_user, archive, name=typed.get("name", ""),
                                             id_number=typed.get("id_number", ""), phone=typed.get("phone", ""),
                                             email=typed.get("email", ""), ip=client_ip())
    except ValidationFailed as exc:
        found = counter.Found(_vouched(archive, typed["account"]) if typed.get("account") else None, "")
        return _page(archive, 422, errors={k: str(v) for k, v in exc.errors.items()}, typed=typed, found=found)
    return _intake(archive, citizen)


def _account(raw: str) -> User:
    account = db.session.get(User, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    if account is None or account.role != "citizen":
        abort(404)
    return account


# The citizens this clerk reached at this archive by an ID number (look-up, new account): only
# they may be chosen by the form's hidden field (else any account id would show its name, and
# a request could be made in anyone's name). Kept in the signed session cookie, the last few.
_VOUCHED = "counter_citizens"


def _vouch(archive, citizen) -> None:
    entry = [current_user.id, archive.id, citizen.id]
    session[_VOUCHED] = [e for e in session.get(_VOUCHED, []) if e != entry][-9:] + [entry]


def _vouched(archive, raw: str) -> User:
    """The account of the hidden field, if this clerk reached it here; else 404."""
    account = _account(raw)
    if [current_user.id, archive.id, account.id] not in session.get(_VOUCHED, []):
        abort(404)
    return account


def _intake(archive, citizen, status: int = 200, **extra):
    _vouch(archive, citizen)
    typed = extra.pop("typed", {"kind": "records", "relation": "self", "delivery": "pickup"})
    return _page(archive, status, citizen=citizen, typed=typed, key=extra.pop("key", secrets.token_urlsafe(16)),
                 **extra)


def _application(form) -> Application:
    search = None
    if form.get("kind") == "search":
        search = SearchSpec(category=form.get("search_category", ""), year_from=form.get("year_from"),
                            year_to=form.get("year_to"), place=form.get("search_place", ""))
    records = []
    if form.get("kind") != "search":
        for line in form.get("records", "").splitlines():
            code, _sep, reference = line.strip().rpartition("/")
            if reference:
                records.append((code.strip(), reference.strip()))
    return Application(relation=form.get("relation", ""), subject_name=form.get("subject_name", ""),
                       subject_id_number=form.get("subject_id_number", ""), records=records, search=search,
                       purpose=form.get("purpose", ""), purpose_note=form.get("purpose_note", ""),
                       delivery=form.get("delivery", ""), address=form.get("address", ""),
                       consent=form.get("consent") == "1")


@bp.route("/<code>/counter/catalog", methods=["GET", "POST"])
@login_required
def counter_catalog(code: str):
    """Find records by reference code or title (the intake form loads it with htmx). What was
    typed comes in a POST body: titles carry people's names, which go in no URL."""
    archive = archive_for(code, "counter_intake")
    q = request.form.get("q", "") if request.method == "POST" else ""
    rows = counter.find_in_catalog(db.session, current_user, archive, q)
    return render("admin/counter_catalog.html", "admin/partials/_counter_catalog.html", archive=archive, q=q,
                  rows=rows)


@bp.post("/<code>/counter/submit")
@login_required
def counter_submit(code: str):
    archive = archive_for(code, "counter_intake")
    form = request.form
    citizen = _vouched(archive, form.get("citizen", ""))
    uploads = [Upload(kind, f.filename or "", f.stream) for kind in FILE_KINDS
               for f in request.files.getlist(kind) if f and f.filename]
    try:
        req, created = counter.register(db.session, current_user, archive, citizen, _application(form), uploads,
                                        idempotency_key=form.get("key"), ip=client_ip())
    except ValidationFailed as exc:  # ApplicationInvalid too
        errors = {k: str(v) for k, v in exc.errors.items()}
        if uploads:  # a file input cannot be filled again by the page
            errors.setdefault("files", _("请重新选择上传的文件"))
        return _intake(archive, citizen, 422, errors=errors, typed=form, key=form.get("key", ""))
    if created:
        flash(_("已登记，申请编号 %(number)s。", number=req.number), "success")
    return see_other(url_for("admin.counter_request", code=archive.code, number=req.number))


@bp.get("/<code>/counter/requests/<number>")
@login_required
def counter_request(code: str, number: str):
    archive = archive_for(code, "counter_intake")
    return _request_page(archive, number)


def _request_page(archive, number: str, status: int = 200, **extra):
    try:
        req = counter.counter_request(db.session, current_user, archive, number)
    except LookupError:
        abort(404)
    db.session.refresh(req)
    own_tasks = [t for t in req.tasks if t.holding_archive_id == archive.id and t.status == "open"]
    return render("admin/counter_request.html", status=status, archive=archive, req=req,
                  held_here=counter.held_here(req, archive), own_tasks=own_tasks,
                  may_accept=allowed(current_user, "accept", req),
                  may_verify=lambda task: allowed(current_user, "verify", task),
                  ACTION_LABELS=labels.ACTION_LABELS, ROLE_LABELS=labels.ROLE_LABELS, labels=labels,
                  errors=extra.pop("errors", {}), message=extra.pop("message", ""), show_names=True)


@bp.post("/<code>/counter/requests/<number>/<step>")
@login_required
def counter_step(code: str, number: str, step: str):
    """Accept at once (the identity was checked), or verify this archive's task with the copy."""
    archive = archive_for(code, "counter_intake")
    try:
        req = counter.counter_request(db.session, current_user, archive, number)
    except LookupError:
        abort(404)
    form = request.form
    version = form.get("version", "")
    if not (version.isascii() and version.isdigit() and len(version) < 10):
        abort(400)
    if step == "accept":
        target, inputs = req, {"version": int(version), "identity_checked": True}
    elif step == "verify":
        target = next((t for t in req.tasks if t.public_id == form.get("task") and t.holding_archive_id == archive.id),
                      None)
        if target is None:
            abort(404)
        inputs = {"version": int(version), "note": form.get("note", "")}
        if (sent := request.files.get("copy")) is not None and sent.filename:
            inputs["copy"] = Upload("certified_copy", sent.filename, sent.stream)
    else:
        abort(404)
    try:
        act(db.session, target, step, current_user, inputs, ip=client_ip())
    except NotAllowed:
        abort(403)
    except Conflict as exc:
        return _request_page(archive, number, 409, message=str(exc.message))
    except ValidationFailed as exc:
        return _request_page(archive, number, 422, errors={k: str(v) for k, v in exc.errors.items()})
    flash(_("已受理。") if step == "accept" else _("核实结果和复制件已提交。"), "success")
    return see_other(url_for("admin.counter_request", code=archive.code, number=number))
