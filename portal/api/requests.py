"""Utilization requests over the JSON API: apply (multipart with proofs, or plain JSON), list, read
and act. HTTP only: the rules are portal.requests.service and portal.requests.workflow, the same
the web pages use. Routes live on the API blueprint of portal.api.views.

What clients send is read by portal.api.request_input."""
from __future__ import annotations

from flask import g, jsonify, url_for
from flask_babel import gettext as _

from portal.api import review as staff_api
from portal.api.auth import api_error, at, invalid, token_required
from portal.api.certificates import certificate_json
from portal.api.review_input import read_accept, read_reject
from portal.api.request_input import (BadInput, clean_text, map_fields, read_action, read_application,
                                      read_idempotency_key, read_submission)
from portal.api.views import bp
from portal.core.errors import ValidationFailed
from portal.core.masking import mask_id_number
from portal.db import db
from portal.web_util import client_ip
from portal.requests import service, workflow
from portal.requests.access import roles_on
from portal.requests.models import UtilizationRequest
from portal.certificates import service as certificates
from portal.review import service as review

_NUMBER_CHARS = 32  # what the number column holds




# ---- presenting ---------------------------------------------------------------------------------



def _event(event) -> dict:
    return {"at": at(event.at), "actor_role": event.actor_role, "action": event.action,
            "from": event.from_status, "to": event.to_status, "note": event.note}


def _detail(req: UtilizationRequest) -> dict:
    viewer = g.api_user
    search = None
    if req.kind == "search":
        search = {"name": req.subject_name, "category": req.search_category, "year_from": req.search_year_from,
                  "year_to": req.search_year_to, "place": req.search_place,
                  "archives": sorted(entry.archive.code for entry in req.search_archives)}
    return {
        "number": req.number,
        "status": req.status,
        "version": req.version,
        "kind": req.kind,
        "relation": req.relation,
        "purpose": req.purpose,
        "purpose_note": req.purpose_note,
        "subject": {"name": req.subject_name, "id_number": mask_id_number(service.subject_id_number(req))},
        "records": [{"archive_code": item.record.archive.code, "reference_code": item.record.reference_code,
                     "title": item.record.title} for item in req.items],
        "search": search,
        "issuing_archive": req.issuing_archive.code,
        "holding_archives": [archive.code for archive in service.holding_archives(req)],
        "delivery": req.delivery,
        "address": req.address,
        "submitted_at": at(req.submitted_at),
        "due_date": req.due_date.isoformat(),
        "events": [_event(e) for e in req.events],
        "files": [{"kind": f.kind, "name": f.original_name, "content_type": f.content_type, "size": f.size}
                  for f in service.files_for(viewer, req)],
        "allowed_actions": workflow.allowed_actions(viewer, req),
        "certificate": certificate_json(req),
        # Staff only: the claim, the verification tasks, the applicant's identity (see portal.api.review).
        **staff_api.staff_additions(req, viewer),
    }


def _load(number: str, view: bool = False) -> UtilizationRequest:
    """The request; `view`: its personal data will be shown (staff views are audited)."""
    if len(number) > _NUMBER_CHARS or not clean_text(number):
        raise service.RequestNotFound(number)
    if view:
        return service.view_request(db.session, g.api_user, number, ip=client_ip())
    return service.get_request(db.session, g.api_user, number)


def _not_found():
    return api_error(_("申请不存在，或者您无权查看 (no such request, or not yours to see)"), 404)


# ---- endpoints ----------------------------------------------------------------------------------

@bp.post("/requests")
@token_required
def create_request():
    user = g.api_user
    if user.role != "citizen" or not user.id_number_hash:
        return api_error(_("利用申请需要用实名注册的个人账号提交"), 403)
    try:
        key = read_idempotency_key()
        doc, uploads = read_submission()
        application = read_application(doc, user)
    except BadInput as exc:
        return invalid(exc.errors, exc.status)
    try:
        req, created = service.submit(db.session, user, application, uploads, idempotency_key=key)
    except service.ApplicationInvalid as exc:
        errors = map_fields(exc.errors)
        if "form" in errors:  # too many open requests: no correction of this body helps
            errors = {"form": errors.pop("form"), **errors}
            return invalid(errors, 409)
        return invalid(errors)
    response = jsonify({"number": req.number, "status": req.status,
                        "url": url_for("requests.detail", number=req.number, _external=True)})
    response.status_code = 201 if created else 200
    response.headers["Location"] = url_for("api.request_detail", number=req.number, _external=True)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/requests")
@token_required
def list_requests():
    return jsonify({"requests": [
        {"number": r.number, "status": r.status, "issuing_archive": r.issuing_archive.code,
         "due_date": r.due_date.isoformat(), "submitted_at": at(r.submitted_at)}
        for r in service.requests_of(db.session, g.api_user)
    ]})


@bp.get("/requests/<number>")
@token_required
def request_detail(number: str):
    try:
        req = _load(number, view=True)
    except service.RequestNotFound:
        return _not_found()
    return jsonify(_detail(req))


@bp.post("/requests/<number>/actions/<action>")
@token_required
def request_action(number: str, action: str):
    user = g.api_user
    try:
        req = _load(number)
    except service.RequestNotFound:
        return _not_found()
    if action in staff_api.CLAIM_ACTIONS:  # "I'm handling this": portal.review, not the state machine
        return staff_api.request_claim(req, action)
    transition = workflow.TRANSITIONS.get(action)
    if transition is None or action == "submit":  # submit is POST /requests
        return api_error(_("未知的操作 %(action)s (unknown action %(action)s)", action=action), 404)
    if not roles_on(user, req).intersection(transition.roles):
        return api_error(_("您不能对这份申请执行此操作 (you may not take this action on this request)"), 403)
    try:
        archives = None
        if action == "reject":  # may name a reason from a list (portal.review.service.REJECT_REASONS)
            note, version = read_reject()
            uploads = []
        elif action == "accept":  # may name the archives to search (portal.review.service.accept)
            note, version, archives = read_accept()
            uploads = []
        else:
            note, version, uploads = read_action(action)
    except BadInput as exc:
        return invalid(exc.errors, exc.status)
    try:
        if action == "withdraw":
            service.withdraw(db.session, req, user, note, expected_version=version)
        elif action == "resubmit":
            service.resubmit(db.session, req, user, note, uploads, expected_version=version)
        elif action == "accept":
            review.accept(db.session, req, user, note, archives=archives, expected_version=version)
        elif action == "issue":
            certificates.issue(db.session, req, user, note, expected_version=version)
        else:
            workflow.apply(db.session, req, action, user, note, expected_version=version)
    except workflow.NotAllowed:
        return api_error(_("您不能对这份申请执行此操作 (you may not take this action on this request)"), 403)
    except workflow.Conflict as exc:
        latest = exc.latest
        return api_error(exc.message, 409, status=req.status, version=req.version, latest=None if latest is None else {
            "at": at(latest.at), "actor_role": latest.actor_role, "action": latest.action, "to": latest.to_status})
    except ValidationFailed as exc:
        return invalid(map_fields(exc.errors))
    except certificates.CertificateUnavailable as exc:
        return api_error(exc.message, 503)
    answer = {"number": req.number, "status": req.status, "version": req.version}
    if action == "issue":
        answer["certificate"] = certificate_json(req)
    return jsonify(answer)
