"""Certificates over the JSON API: the public check by serial and code, the PDF of a request's
certificate, and revocation by the issuing archive's reviewer. Issuing is the request action
`issue` (portal.api.requests)."""
from __future__ import annotations

from flask import g, jsonify
from flask_babel import gettext as _

from portal.actions import act
from portal.api.auth import at
from portal.api.bodies import read_input, read_query
from portal.api.errors import api_error
from portal.api.fields import clean_text
from portal.api.responses import CertificateCheck, CertificateInfo, Error, StatusConflict
from portal.api.routing import Content, Routes
from portal.api.schemas import CertificateQuery, RevokeBody
from portal.certificates import service
from portal.certificates.views import pdf_response
from portal.core.errors import Conflict, NotAllowed
from portal import throttle
from portal.db import db
from portal.federation import certificates as network
from portal.policy import can
from portal.web_util import client_ip, public_url

routes = Routes("certificates", "档案证明 (certificates)")


def _not_found():
    """The one answer for an unknown serial and a wrong code alike."""
    return api_error(_("证明不存在，或验证码不符 (no such certificate, or a wrong code)"), 404)


def _not_yours():
    return api_error(_("证明不存在，或者您无权查看 (no such certificate, or not yours to see)"), 404)


def _only_reviewers():
    return api_error(_("只有出证档案馆的审核员可以撤销证明 (only a reviewer of the issuing archive may revoke)"), 403)


def certificate_json(req) -> dict | None:
    """What GET /requests/<number> shows of its certificate, to the applicant and staff involved."""
    cert = req.certificate
    if cert is None:
        return None
    return {"serial": cert.serial, "code": cert.code, "kind": cert.kind, "status": cert.status,
            "issued_at": at(cert.issued_at), "sha256": cert.sha256, "revoked_at": at(cert.revoked_at),
            "revoke_reason": cert.revoke_reason or None,
            "url": public_url("api.request_certificate", number=req.number)}


@routes.get("/certificates/<serial>", auth=False, summary="核验证明 (check a certificate)", ok=CertificateCheck,
            query=CertificateQuery, errors=(404, 429, 503),
            response_headers={429: {"Retry-After": "seconds"}, 503: {"Retry-After": "seconds"}})
def check_certificate(serial: str):
    """Public, no token: a wrong code answers exactly as a serial that does not exist. Failed checks
    count per address (20 in 15 minutes, with the web page's); beyond that 429, also for a right code.
    A serial naming another node of the network (ZM-NODE-…) that this node trusts is checked at
    that node, and `node` names the node that answered; 503 when it cannot be reached now."""
    code = read_query(CertificateQuery).code
    if not clean_text(serial) or not clean_text(code):
        return _not_found()
    throttle.check("verify_lookup")  # every look-up, right or wrong (100 in 15 minutes per address)
    try:
        cert = network.check(db.session, serial, code, ip=client_ip())
    except network.IssuerUnreachable as exc:
        response = api_error(_("出证节点 %(node)s 暂时无法连接，请稍后再试 (the issuing node cannot be reached now, "
                               "try again later)", node=exc.node), 503)
        response.headers["Retry-After"] = str(network.RETRY_AFTER_SECONDS)
        return response
    except service.TooManyChecks:
        response = api_error(_("核验次数过多，请 15 分钟后再试 (too many failed checks, try again in 15 minutes)"), 429)
        response.headers["Retry-After"] = str(service.RETRY_AFTER_SECONDS)
        return response
    if cert is None:
        return _not_found()
    response = jsonify({"valid": cert.status == "valid", "status": cert.status, "kind": cert.kind,
                        "serial": cert.serial, "issued_at": at(cert.issued_at),
                        "issuing_archive": cert.issuing_archive["code"],
                        "holding_archives": [archive["code"] for archive in cert.holding_archives],
                        "sha256": cert.sha256, "revoked_at": at(cert.revoked_at), "node": cert.node})
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/requests/<number>/certificate", summary="下载证明 PDF (the certificate's PDF)",
            ok=Content("application/pdf", {"type": "string", "format": "binary"}, "the signed PDF, as stored"),
            errors=(404, 503), response_headers={200: {"ETag": "the SHA-256 of the PDF"}})
def request_certificate(number: str):
    """For the applicant and the staff of the archives involved; every download is in the audit log.
    503 if the stored file no longer matches its SHA-256 (the bytes are never sent)."""
    if not clean_text(number):
        return _not_yours()
    try:
        cert, data = service.certificate_file(db.session, g.api_user, number, ip=client_ip())
    except LookupError:  # RequestNotFound too
        return _not_yours()
    except service.CertificateUnavailable as exc:
        return api_error(exc.message, 503)
    return pdf_response(cert, data)


@routes.post("/certificates/<serial>/revoke", summary="撤销证明 (revoke; a reviewer of the issuing archive)",
             body=RevokeBody, form=True, ok=CertificateInfo, errors={403: Error, 404: Error, 409: StatusConflict})
def revoke_certificate(serial: str):
    """`reason` (required, at most 500 characters): the applicant reads it on their request and in
    an email; the public check shows only that the certificate is revoked."""
    user = g.api_user
    try:
        cert = service.get_by_serial(db.session, user, serial) if clean_text(serial) else None
    except LookupError:  # RequestNotFound too
        cert = None
    if cert is None:  # someone else's certificates do not exist for this caller
        return _not_yours()
    if not can(user, "revoke_certificate", cert.request):  # 403 before the body is read
        return _only_reviewers()
    body = read_input(RevokeBody, no_files_message=_("撤销证明不附带文件 (revoke takes no files)"))
    try:
        act(db.session, cert.request, "revoke_certificate", user, body.inputs(), ip=client_ip())
    except NotAllowed:
        return _only_reviewers()
    except Conflict as exc:
        db.session.refresh(cert)
        return api_error(exc.message, 409, status=cert.status)
    return jsonify(certificate_json(cert.request))
