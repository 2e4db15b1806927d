"""Open appraisal's pages: an archive's batches, a new batch from the proposal, a batch's items
with each stage's opinions and its buttons (staff who may appraise there: portal.policy), and the
open catalogue every visitor may read. HTTP only: the service and the one dispatcher do the work."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.actions import act, allowed
from portal.admin.sections import section
from portal.admin.views import archive_for
from portal.appraisal import service
from portal.appraisal.stages import undecided_count
from portal.appraisal.labels import ACTION_LABELS, DECISION_LABELS, STAGE_LABELS, STATUS_LABELS
from portal.archives.models import Archive
from portal.accounts.models import User
from portal.audit.service import log
from portal.core.categories import ACCESS_LEVELS, CATEGORIES
from portal.core.errors import Conflict, NotAllowed, UnknownAction, ValidationFailed
from portal.core.i18n import N_
from portal.db import db
from portal.web_util import client_ip, render, see_other

bp = Blueprint("appraisal", __name__)
STAGE_ACTIONS = ("appraise_first", "appraise_second", "appraise_decide", "cancel")
# Items chosen in one post: far more than a page's checkboxes (service.PER_PAGE); a flood of ids
# would exceed the database's bound parameters (PostgreSQL: 65535).
MAX_CHOSEN = 1000
section("appraisal.batches", N_("开放鉴定"), "appraise", order=40)


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 6 else None


def _proposal(form) -> tuple[service.Proposal, dict]:
    """The filter as typed, and what is wrong with it (a year that is not one)."""
    errors = {}
    years = {}
    for name in ("year_from", "year_to"):
        typed = (form.get(name) or "").strip()
        years[name] = _int(typed)
        if typed and years[name] is None:
            errors[name] = _("请填写四位数的年份")
    proposal = service.Proposal(category=(form.get("category") or "").strip(), **years)
    return proposal, {**{k: str(v) for k, v in proposal.problems().items()}, **errors}


def _labels() -> dict:
    return dict(status_labels=STATUS_LABELS, stage_labels=STAGE_LABELS, decision_labels=DECISION_LABELS,
                action_labels=ACTION_LABELS, categories=CATEGORIES, access_labels=ACCESS_LEVELS)


@bp.get("/admin/<code>/appraisal")
@login_required
def batches(code: str):
    archive = archive_for(code, "appraise")
    return render("appraisal/batches.html", archive=archive, batches=service.batches(db.session, current_user, archive),
                  **_labels())


@bp.route("/admin/<code>/appraisal/new", methods=["GET", "POST"])
@login_required
def new_batch(code: str):
    archive = archive_for(code, "appraise")
    form = request.form if request.method == "POST" else request.args
    proposal, errors = _proposal(form)
    status = 200
    if request.method == "POST" and not errors:
        try:
            batch = service.create_batch(db.session, archive, current_user, proposal, ip=client_ip())
            flash(_("已建立第 %(number)s 批鉴定，共 %(n)s 条档案。", number=batch.number,
                    n=service.item_count(db.session, batch)), "success")
            return see_other(url_for("appraisal.batch_page", code=code, number=batch.number))
        except ValidationFailed as exc:
            errors = {k: str(v) for k, v in exc.errors.items()}
        except Conflict as exc:
            errors = {"category": str(exc.message)}
    if errors:
        status = 422 if request.method == "POST" else 400
        counts, rows = {}, []
    else:
        counts = service.due_by_category(db.session, archive.id, proposal)
        rows = service.preview(db.session, archive.id, proposal)
    return render("appraisal/new.html", "appraisal/partials/_proposal.html", status=status, archive=archive,
                  typed=form, errors=errors, counts=counts, total=sum(counts.values()), rows=rows,
                  max_items=service.MAX_ITEMS, **_labels())


def _batch_or_404(archive: Archive, number: int):
    batch = service.batch_of(db.session, archive, number)
    if batch is None:
        abort(404)
    return batch


def _batch_page(archive, batch, status: int = 200, **extra):
    total = service.item_count(db.session, batch)
    pages = max(1, -(-total // service.PER_PAGE))
    page = min(max(_int(request.args.get("page")) or 1, 1), pages)
    rows = service.items_of(db.session, batch, page)
    undecided = undecided_count(db.session, batch, batch.stage) if batch.stage else 0
    # A stage this person took already: the dispatcher refuses them the others (one_person_per_stage).
    took = [stage for stage in STAGE_LABELS
            if stage != batch.stage and getattr(batch, f"{stage}_reviewer_id") == current_user.id]
    buttons = [name for name in STAGE_ACTIONS if allowed(current_user, name, batch) and (name == "cancel" or not took)]
    ids = {batch.first_reviewer_id, batch.second_reviewer_id, batch.final_reviewer_id} - {None}
    people = {user.id: user.real_name for user in db.session.scalars(select(User).where(User.id.in_(ids)))}
    return render("appraisal/batch.html", "appraisal/partials/_batch.html", status=status, archive=archive,
                  batch=batch, rows=rows, buttons=buttons, people=people, took=took,
                  may_decide=allowed(current_user, "decide", batch) and not took,
                  stage=batch.stage, errors=extra.pop("errors", {}), typed=extra.pop("typed", {}),
                  conflict=extra.pop("conflict", None), in_batch=service.categories_of(db.session, batch),
                  total=total, page=page, pages=pages, undecided=undecided, **_labels())


@bp.get("/admin/<code>/appraisal/<int:number>")
@login_required
def batch_page(code: str, number: int):
    archive = archive_for(code, "appraise")
    batch = _batch_or_404(archive, number)
    # The page shows the records' subjects by name: a staff view of personal data, audited.
    log(db.session, "appraisal.view", actor=current_user, object_type="appraisal_batch", object_id=batch.id,
        ip=client_ip(), archive=archive.code, number=batch.number)
    db.session.commit()
    return _batch_page(archive, batch)


def _take(archive, batch, action: str, data: dict):
    """Through the dispatcher; the page again with what went wrong (403, 409, 422) or a redirect."""
    version = _int(request.form.get("version"))
    if version is None:
        abort(400)  # the page always sends it
    try:
        acting = act(db.session, batch, action, current_user, {**data, "version": version}, ip=client_ip())
    except UnknownAction:
        abort(404)
    except NotAllowed:
        abort(403)
    except Conflict as exc:
        return _batch_page(archive, batch, 409, conflict=str(exc.message))
    except ValidationFailed as exc:
        return _batch_page(archive, batch, 422, errors={k: str(v) for k, v in exc.errors.items()}, typed=request.form)
    if action == "decide":
        flash(_("已对 %(n)s 条档案作出意见。", n=acting.result), "success")
    elif action == "appraise_decide":
        flash(_("已审定：%(n)s 条档案已开放，并已列入开放目录。", n=len(acting.result)), "success")
    else:
        flash(_("已%(action)s。", action=_(ACTION_LABELS[action])), "success")
    page = _int(request.args.get("page"))
    return see_other(url_for("appraisal.batch_page", code=archive.code, number=batch.number, page=page))


@bp.post("/admin/<code>/appraisal/<int:number>/decide")
@login_required
def decide(code: str, number: int):
    archive = archive_for(code, "appraise")
    batch = _batch_or_404(archive, number)
    form = request.form
    scope = form.get("scope", "selected")
    typed_items = form.getlist("items")
    if len(typed_items) > MAX_CHOSEN:
        return _batch_page(archive, batch, 422, errors={"items": _("一次最多选择 %(n)s 条档案", n=MAX_CHOSEN)},
                           typed=form)
    # Item ids grow with every batch: more digits than _int's (a 6-digit id was dropped unsaid).
    items = [int(v) for v in typed_items if v.isascii() and v.isdigit() and len(v) < 10]
    if len(items) < len(typed_items):
        return _batch_page(archive, batch, 422, errors={"items": _("所选档案不在本批次中")}, typed=form)
    data = {"decision": form.get("decision", ""), "reason": form.get("reason", ""),
            "review_on": form.get("review_on") or None,
            "items": items if scope == "selected" else [], "every": scope == "all",
            "category": form.get("category", "") if scope == "category" else ""}
    return _take(archive, batch, "decide", data)


@bp.post("/admin/<code>/appraisal/<int:number>/<action>")
@login_required
def stage_action(code: str, number: int, action: str):
    if action not in STAGE_ACTIONS:
        abort(404)
    archive = archive_for(code, "appraise")
    batch = _batch_or_404(archive, number)
    return _take(archive, batch, action, {"note": request.form.get("note", "")} if action == "cancel" else {})


# ---- the open catalogue (开放目录): every visitor ----------------------------------------------

def _public_archive(code: str) -> Archive:
    archive = db.session.scalar(select(Archive).where(Archive.code == code))
    if archive is None:
        abort(404)
    return archive


@bp.get("/archives/<code>/open-catalogue")
def catalogue(code: str):
    archive = _public_archive(code)
    return render("appraisal/catalogue.html", archive=archive, published=service.published(db.session, archive))


@bp.get("/archives/<code>/open-catalogue/<int:number>")
def catalogue_batch(code: str, number: int):
    archive = _public_archive(code)
    batch = service.published_batch(db.session, archive, number)
    if batch is None:
        abort(404)
    return render("appraisal/catalogue_batch.html", archive=archive, batch=batch,
                  rows=service.opened_records(db.session, batch))


@bp.get("/archives/<code>/open-catalogue/<int:number>.csv")
def catalogue_csv(code: str, number: int):
    archive = _public_archive(code)
    batch = service.published_batch(db.session, archive, number)
    if batch is None:
        abort(404)
    body = service.catalogue_csv(batch, service.opened_records(db.session, batch))
    response = make_response(body)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="open-catalogue-{archive.code}-{batch.number}.csv"'
    return response
