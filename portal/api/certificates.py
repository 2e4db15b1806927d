"""Certificates over the JSON API: the public check by serial and code, the PDF of a request's
certificate, and revocation by the issuing archive's reviewer. Issuing is the request action
`issue` (portal.api.requests)."""
from __future__ import annotations

from flask import g, jsonify, request, url_for
from flask_babel import gettext as _

from portal.api.auth import api_error, at, invalid, token_required
from portal.api.request_input import BadInput, clean_text
from portal.api.review_input import read_body
from portal.api.views import bp
from portal.certificates import service
from portal.certificates.views import pdf_response
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.web_util import client_ip
from portal.requests import workflow



def _not_found():
    """The one answer for an unknown serial and a wrong code alike."""
    return api_error(_("证明不存在，或验证码不符 (no such certificate, or a wrong code)"), 404)




def certificate_json(req) -> dict | None:
    """What GET /requests/<number> shows of its certificate, to the applicant and staff involved."""
    cert = req.certificate
    if cert is None:
        return None
    return {"serial": cert.serial, "code": cert.code, "kind": cert.kind, "status": cert.status,
            "issued_at": at(cert.issued_at), "sha256": cert.sha256, "revoked_at": at(cert.revoked_at),
            "revoke_reason": cert.revoke_reason or None,
            "url": url_for("api.request_certificate", number=req.number, _external=True)}


@bp.get("/certificates/<serial>")
def check_certificate(serial: str):
    """Public, no token: a wrong code answers exactly as a serial that does not exist."""
    code = request.args.get("code", "")
    if not clean_text(serial) or not clean_text(code):
        return _not_found()
    try:
        cert = service.lookup(db.session, serial, code, ip=client_ip())
    except service.TooManyChecks:
        response = api_error(_("核验次数过多，请 15 分钟后再试 (too many failed checks, try again in 15 minutes)"), 429)
        response.headers["Retry-After"] = str(service.RETRY_AFTER_SECONDS)
        return response
    if cert is None:
        return _not_found()
    response = jsonify({"valid": cert.status == "valid", "status": cert.status, "kind": cert.kind,
                        "serial": cert.serial, "issued_at": at(cert.issued_at),
                        "issuing_archive": cert.issuing_archive.code,
                        "holding_archives": cert.holding_archive_codes, "sha256": cert.sha256,
                        "revoked_at": at(cert.revoked_at)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/requests/<number>/certificate")
@token_required
def request_certificate(number: str):
    if not clean_text(number):
        return api_error(_("证明不存在，或者您无权查看 (no such certificate, or not yours to see)"), 404)
    try:
        cert, data = service.certificate_file(db.session, g.api_user, number, ip=client_ip())
    except LookupError:  # RequestNotFound too
        return api_error(_("证明不存在，或者您无权查看 (no such certificate, or not yours to see)"), 404)
    except service.CertificateUnavailable as exc:
        return api_error(exc.message, 503)
    return pdf_response(cert, data)


@bp.post("/certificates/<serial>/revoke")
@token_required
def revoke_certificate(serial: str):
    user = g.api_user
    try:
        cert = service.get_by_serial(db.session, user, serial) if clean_text(serial) else None
    except LookupError:  # RequestNotFound too
        cert = None
    if cert is None:  # someone else's certificates do not exist for this caller
        return api_error(_("证明不存在，或者您无权查看 (no such certificate, or not yours to see)"), 404)
    try:
        body = read_body(("reason",), no_files_message=_("撤销证明不附带文件 (revoke takes no files)"))
        service.revoke(db.session, cert.request, user, body.reason, ip=client_ip())
    except BadInput as exc:
        return invalid(exc.errors, exc.status)
    except ValidationFailed as exc:
        return invalid(exc.errors)
    except workflow.NotAllowed:
        return api_error(_("只有出证档案馆的审核员可以撤销证明 (only a reviewer of the issuing archive may revoke)"), 403)
    except workflow.Conflict as exc:
        return api_error(exc.message, 409, status=cert.status)
    return jsonify(certificate_json(cert.request))
