"""Utilization requests over the JSON API: apply (multipart with proofs, or plain JSON), list, read
and act. HTTP only: the rules are portal.requests (applying, reading) and portal.actions (every
later step), the same the web pages use. What clients send is read by portal.api.bodies into the
models of portal.api.schemas."""
from __future__ import annotations

from flask import g, jsonify
from flask_babel import gettext as _

from portal.actions import ACTIONS, act, allowed_actions, spec
from portal.api import review as staff_api
from portal.api.auth import at
from portal.api.bodies import read_action, read_idempotency_key, read_submission
from portal.api.certificates import certificate_json
from portal.api.errors import api_error, invalid
from portal.api.fields import FILE_SCHEMA, clean_text
from portal.api.responses import (
    ClaimAnswer,
    ClaimConflict,
    Created,
    Error,
    RequestConflict,
    RequestDetail,
    RequestList,
    StepAnswer,
)
from portal.api.routing import Action, Routes
from portal.api.schemas import REQUEST_ACTION_BODIES, ApplicationDoc
from portal.certificates.service import CertificateUnavailable
from portal.core.errors import Conflict, NotAllowed, UnknownAction, ValidationFailed
from portal.core.masking import mask_id_number
from portal.db import db
from portal.policy import can, files_for
from portal.requests import service
from portal.requests.models import FILE_KINDS, UtilizationRequest
from portal import throttle
from portal.web_util import client_ip, public_url

routes = Routes("requests", "利用申请 (utilization requests)")
_NUMBER_CHARS = 32  # what the number column holds
# The service names its fields after the web form; the API answers with the JSON path.
_SERVICE_FIELDS = {"subject_name": "subject.name", "subject_id_number": "subject.id_number",
                   "search_category": "search.category", "year_from": "search.year_from",
                   "year_to": "search.year_to", "search_place": "search.place",
                   "search_archives": "search.archives"}


def _no_files() -> str:
    return _("只有 resubmit 可以附带文件 (only resubmit takes files)")


def map_fields(errors: dict) -> dict:
    return {_SERVICE_FIELDS.get(field, field): message for field, message in errors.items()}


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
                     "title": item.record.title, **({"node": item.record.archive.node} if item.record.archive.node
                                                    else {})} for item in req.items],
        "search": search,
        "issuing_archive": req.issuing_archive.code,
        "holding_archives": [archive.code for archive in service.holding_archives(req)],
        "delivery": req.delivery,
        "address": req.address,
        "submitted_at": at(req.submitted_at),
        "due_date": req.due_date.isoformat(),
        "events": [_event(e) for e in req.events],
        "files": [{"kind": f.kind, "name": f.original_name, "content_type": f.content_type, "size": f.size}
                  for f in files_for(viewer, req)],
        "allowed_actions": allowed_actions(viewer, req),
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


def _forbidden():
    return api_error(_("您不能对这份申请执行此操作 (you may not take this action on this request)"), 403)


# ---- endpoints ----------------------------------------------------------------------------------

# multipart/form-data: the document as the part `request`, each proof as a part named after its kind.
_APPLICATION_FORM = {
    "type": "object", "required": ["request"], "additionalProperties": False,
    "properties": {"request": {"type": "string", "contentMediaType": "application/json",
                               "description": "the request document (ApplicationDoc) as JSON, at most 256 KB"},
                   **{kind: {"type": "array", "items": FILE_SCHEMA} for kind in FILE_KINDS}},
}


@routes.post("/requests", summary="提交利用申请 (apply)", body=ApplicationDoc, multipart=_APPLICATION_FORM,
             ok=Created, status=201, errors={200: Created, 403: Error, 409: Error, 413: Error, 429: Error},
             headers={"Idempotency-Key": {"type": "string", "maxLength": 80,
                                          "description": "makes retries safe: the same key answers the request "
                                                         "it created first (200, Idempotent-Replayed: true)"}},
             response_headers={201: {"Location": "the request's API address"},
                               200: {"Location": "the request's API address",
                                     "Idempotent-Replayed": "true"},
                               429: {"Retry-After": "seconds"}})
def create_request():
    """Citizens only. Proofs (PDF, JPEG, PNG; at most 10 MB each, 5 per request) are multipart parts
    named after their kind; a request that needs none may be a JSON body. Nothing is stored when the
    answer is an error."""
    user = g.api_user
    if (refused := service.refusal(user)) is not None:  # 403 before reading the body (the service says the same)
        return api_error(str(refused), 403)
    throttle.check("apply")  # before the body is read or any file stored (30 an hour per citizen)
    key = read_idempotency_key()
    doc, uploads = read_submission()
    application = ApplicationDoc.model_validate(doc).application(user)
    try:
        req, created = service.submit(db.session, user, application, uploads, idempotency_key=key, channel="api")
    except service.ApplicationInvalid as exc:
        errors = map_fields(exc.errors)
        if "form" in errors:  # too many open requests: no correction of this body helps
            errors = {"form": errors.pop("form"), **errors}
            return invalid(errors, 409)
        return invalid(errors)
    response = jsonify({"number": req.number, "status": req.status,
                        "url": public_url("requests.detail", number=req.number)})
    response.status_code = 201 if created else 200
    response.headers["Location"] = public_url("api.request_detail", number=req.number)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@routes.get("/requests", summary="我的申请 (the caller's requests)", ok=RequestList)
def list_requests():
    """The caller's own requests, newest first (staff have none)."""
    return jsonify({"requests": [
        {"number": r.number, "status": r.status, "issuing_archive": r.issuing_archive.code,
         "due_date": r.due_date.isoformat(), "submitted_at": at(r.submitted_at)}
        for r in service.requests_of(db.session, g.api_user)
    ]})


@routes.get("/requests/<number>", summary="申请详情 (one request)", ok=RequestDetail, errors=(404,))
def request_detail(number: str):
    """For its applicant, the staff of the archives involved, and admins; a read by anyone but the
    applicant is written to the audit log."""
    try:
        req = _load(number, view=True)
    except service.RequestNotFound:
        return _not_found()
    return jsonify(_detail(req))


def _described(name: str, text: str) -> str:
    """The action's own declaration (portal.actions.table) says from where to where, and what else happens."""
    declared = ACTIONS[("request", name)]
    facts = [f"{' / '.join(declared.from_states)} → {declared.to_state}."] if declared.from_states else []
    facts += [effect[:1].upper() + effect[1:] + "." for effect in declared.effects]
    return " ".join([*facts, text]).strip()


def _step(name: str, summary: str, text: str = "", errors: dict | None = None) -> Action:
    return Action(body=REQUEST_ACTION_BODIES[name], ok=StepAnswer, conflict=RequestConflict, summary=summary,
                  description=_described(name, text), errors={403: Error, 404: Error, **(errors or {})})


def _claim_step(name: str, summary: str, text: str = "") -> Action:
    return Action(body=REQUEST_ACTION_BODIES[name], ok=ClaimAnswer, conflict=ClaimConflict, summary=summary,
                  description=_described(name, "No change of status; the version goes up. " + text),
                  errors={403: Error, 404: Error})


DECLARED_ACTIONS = {
    "withdraw": _step("withdraw", "撤回申请 (withdraw; the applicant)", "The note (a reason) is optional."),
    "resubmit": _step("resubmit", "补充材料 (resubmit; the applicant)", "A note, files (multipart parts named "
                      "after a proof; `files` means `supplement`), or both."),
    "accept": _step("accept", "受理 (accept; a clerk of the issuing archive)", "For \"please search for me\", "
                    "`archives` (codes) chooses the archives that search, replacing those the applicant named."),
    "ask_supplement": _step("ask_supplement", "要求补充材料 (ask for more; a clerk or reviewer)",
                            "The note (what is missing) is required."),
    "reject": _step("reject", "不予通过 (reject; a reviewer)", "The note and a `reason` code are required; the "
                    "applicant reads \"<reason label>：<note>\"."),
    "approve": _step("approve", "审批通过 (approve; a reviewer)", "Before that: 409."),
    "issue": _step("issue", "出具证明 (issue; a reviewer)", "The answer adds the certificate. 503 when the "
                   "archive's signing key, the fonts or a certified copy is missing (nothing is issued).",
                   {503: Error}),
    "claim": _claim_step("claim", "认领 (claim; a clerk or reviewer of the issuing archive)", "\"I'm handling this\"."),
    "release": _claim_step("release", "释放认领 (release; the holder, or an admin)"),
    "reassign": _claim_step("reassign", "指派 (reassign; an admin)", "`to`: the email of a clerk or reviewer of "
                            "the issuing archive."),
}
assert DECLARED_ACTIONS.keys() == REQUEST_ACTION_BODIES.keys()


@routes.post("/requests/<number>/actions/<action>", summary="办理一步 (take a step)", actions=DECLARED_ACTIONS)
def request_action(number: str, action: str):
    """The body is optional: JSON, or a form (multipart with files for resubmit)."""
    user = g.api_user
    try:
        req = _load(number)
    except service.RequestNotFound:
        return _not_found()
    try:
        declared = spec(req, action)
    except UnknownAction:
        declared = None
    if declared is None or action not in REQUEST_ACTION_BODIES:  # submit is POST /requests
        return api_error(_("未知的操作 %(action)s (unknown action %(action)s)", action=action), 404)
    if not can(user, action, req):
        return _forbidden()
    body = read_action(REQUEST_ACTION_BODIES, action, _no_files())
    try:
        act(db.session, req, action, user, staff_api.action_inputs(body), ip=client_ip())
    except NotAllowed:
        return _forbidden()
    except Conflict as exc:
        if action in staff_api.CLAIM_ACTIONS:
            return api_error(exc.message, 409, status=req.status, version=req.version,
                             claimed_by=staff_api.person(req.claimed_by))
        latest = exc.latest
        return api_error(exc.message, 409, status=req.status, version=req.version, latest=None if latest is None else {
            "at": at(latest.at), "actor_role": latest.actor_role, "action": latest.action, "to": latest.to_status})
    except ValidationFailed as exc:
        return invalid(map_fields(exc.errors))
    except CertificateUnavailable as exc:
        return api_error(exc.message, 503)
    answer = {"number": req.number, "status": req.status, "version": req.version}
    if action in staff_api.CLAIM_ACTIONS:
        answer["claimed_by"] = staff_api.person(req.claimed_by)
    if action == "issue":
        answer["certificate"] = certificate_json(req)
    return jsonify(answer)
