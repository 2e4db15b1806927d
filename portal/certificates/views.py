"""Certificate pages: the download of an issued certificate (applicant and staff involved), and the
public verification page (/verify) — by serial and code, or by uploading the PDF.

HTTP only: portal.certificates.service decides who gets what and counts failed checks."""
from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.certificates import service
from portal.certificates.document import TITLES
from portal.core.i18n import N_
from portal.core.masking import mask_name
from portal.db import db
from portal.federation import certificates as network
from portal.requests.service import RequestNotFound
from portal import throttle
from portal.throttle import Throttled
from portal.web_util import client_ip

bp = Blueprint("certificates", __name__)

STATUS_LABELS = {"valid": N_("有效"), "revoked": N_("已撤销")}
EXAMPLE_SERIAL = f"{service.SERIAL_PREFIX}-450100-2026-000001"  # a node of a network names itself: ZM-NANNING-450100-…
# A certificate carries a copy (up to 10 MB) from each archive that found a record.
MAX_CHECK_BYTES = 50 * 1024 * 1024


@bp.app_context_processor
def _labels() -> dict:
    return {"CERTIFICATE_KINDS": TITLES, "CERTIFICATE_STATUSES": STATUS_LABELS}


def pdf_response(certificate, data: bytes):
    """The stored bytes as they are: same bytes, same ETag, every time."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{certificate.serial}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"  # personal data
    response.headers["ETag"] = f'"{certificate.sha256}"'
    return response


@bp.get("/requests/<number>/certificate")
@login_required
def download(number: str):
    try:
        certificate, data = service.certificate_file(db.session, current_user, number, ip=client_ip())
    except (RequestNotFound, LookupError):
        abort(404)
    except service.CertificateUnavailable as exc:
        return render_template("errors/error.html", code=503, message=str(exc.message)), 503
    return pdf_response(certificate, data)


def public_facts(certificate) -> dict:
    """What anyone holding the certificate may confirm: less personal data than it prints."""
    return {"serial": certificate.serial, "status": certificate.status, "kind": certificate.kind,
            "issued_at": certificate.issued_at, "issuing_archive": certificate.issuing_archive.name,
            "holding_archives": [archive.name for archive in certificate.holding_archives],
            "subject": mask_name(certificate.request.subject_name), "sha256": certificate.sha256,
            "revoked_at": certificate.revoked_at}  # not the reason: it was written for the applicant


def network_facts(facts: network.Facts) -> dict:
    """public_facts of a certificate checked by serial and code, here or at the node that issued it."""
    return {"serial": facts.serial, "status": facts.status, "kind": facts.kind, "issued_at": facts.issued_at,
            "issuing_archive": facts.issuing_archive["name"],
            "holding_archives": [archive["name"] for archive in facts.holding_archives], "subject": facts.subject,
            "sha256": facts.sha256, "revoked_at": facts.revoked_at, "node": facts.node, "remote": facts.remote}


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """GET with serial and code (the QR code's link) looks up; POST with a file checks the file."""
    serial, code = request.values.get("serial", "").strip(), request.values.get("code", "").strip()
    context = {"serial": serial, "code": code, "result": None, "file_result": None, "errors": {}, "shape": None,
               "example": EXAMPLE_SERIAL, "unreachable": None}
    status = 200
    try:
        if request.method == "POST":
            status = _check_upload(context)
        elif serial or code:
            if not serial or not code:
                context["errors"]["serial" if not serial else "code"] = _("请同时填写证明编号和验证码")
                status = 400
                if serial:  # a request's number typed with no code: say so now, not after a code is found
                    context["shape"] = shape if (shape := service.number_shape(serial)) != "certificate" else None
            else:
                throttle.check("verify_lookup")
                found = network.check(db.session, serial, code, ip=client_ip())
                context["result"] = network_facts(found) if found else "not_found"
                if not found:  # from the typed characters alone: nothing said of what exists
                    context["shape"] = service.number_shape(serial)
    except network.IssuerUnreachable as exc:
        context["unreachable"] = exc.node
        status = 503
    except service.TooManyChecks:
        context["errors"]["form"] = _("核验次数过多，请 15 分钟后再试")
        status = 429
    except Throttled as exc:
        context["errors"]["form"] = exc.text()
        return exc.headers_on(make_response(render_template("certificates/verify.html", **context), 429))
    response = make_response(render_template("certificates/verify.html", **context), status)
    response.headers["Cache-Control"] = "no-store"
    if status == 429:
        response.headers["Retry-After"] = str(service.RETRY_AFTER_SECONDS)
    elif status == 503:
        response.headers["Retry-After"] = str(network.RETRY_AFTER_SECONDS)
    return response


def _check_upload(context: dict) -> int:
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        context["errors"]["file"] = _("请选择要核验的 PDF 文件")
        return 400
    throttle.check("verify_file")  # counted before the file is read: parallel uploads cannot pass it
    data = sent.stream.read(MAX_CHECK_BYTES + 1)
    if len(data) > MAX_CHECK_BYTES:
        context["errors"]["file"] = _("文件超过 50 MB，无法在线核验；请按证明编号和验证码核验")
        return 400
    if not data.startswith(b"%PDF-"):
        context["errors"]["file"] = _("这不是 PDF 文件")
        return 400
    result = service.check_file(db.session, data, ip=client_ip())
    context["file_result"] = {"name": sent.filename, "signature": result.signature,
                              "certificate": public_facts(result.certificate) if result.certificate else None}
    return 200
