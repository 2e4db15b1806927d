"""Certificates (档案证明): issuing one from an approved request, handing out the stored file,
revoking, and the public checks (by serial and code, or of an uploaded file).

Issuing is the state machine's `issue` step with the certificate written in the same
transaction: the serial comes from a gap-free counter (portal.core.sequences), so a refused or
failed issue gives its number back; the signed PDF is stored once, and its SHA-256 is what every
download and every check is compared with."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.audit.service import count_recent, log
from portal.certificates import pdf, renderer, signing
from portal.certificates.document import Attachment, CertificateContent, RecordLine, SearchAnswer
from portal.certificates.models import Certificate
from portal.config import development, points_at_this_machine
from portal.core.categories import CATEGORIES
from portal.core.acting import Acting
from portal.core.errors import Conflict
from portal.core.masking import mask_id_number
from portal.core.sequences import next_value
from portal.core.clock import utcnow
from portal.policy import can_view
from portal.requests.labels import PURPOSE_LABELS
from portal.requests.models import UtilizationRequest
from portal.requests.notifications import email_applicant
from portal.requests.service import get_request, subject_id_number
from portal.core.uploads import store_with, stored_path
from portal.federation.node import this_node
from portal.core.clock import CHINA_TIME, china_today
from portal.review.models import VerificationTask

# Serials: "ZM-NANNING-450100-2026-000001" (ZM, 证明: a certificate, so that it is not taken for a
# request's number, "450100-2026-000123"; then the issuing node's name, so that any node of the
# network knows whom to ask). A node never initialised (`portal node init`) issues
# "ZM-450100-2026-000001"; certificates issued before ZM carry serials shaped like request numbers.
# All stay valid and are looked up by the exact string.
SERIAL_PREFIX = "ZM"
SERIAL_SHAPE = re.compile(rf"{SERIAL_PREFIX}-(?:(?P<node>[A-Z][A-Z0-9]{{1,15}})-)?[0-9A-Z]{{1,12}}-\d{{4}}-\d{{6}}")
MAX_SERIAL_LENGTH = 64  # the column
REQUEST_NUMBER_SHAPE = re.compile(r"[0-9A-Z]{1,12}-\d{4}-\d{6}")  # and the serials issued before ZM
# Verification codes: 8 characters a reader cannot mistake for one another (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
THROTTLE_WINDOW = timedelta(minutes=15)
RETRY_AFTER_SECONDS = int(THROTTLE_WINDOW.total_seconds())


class CertificateUnavailable(Exception):
    """The certificate cannot be made or handed out now (no signing key, the stored file damaged);
    the message says what an administrator must do."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class TooManyChecks(Exception):
    """Too many failed look-ups or file checks from one address: try again later (HTTP 429)."""


# ---- issuing ------------------------------------------------------------------------------------

def write_certificate(acting: Acting) -> None:
    """出具证明, the `issue` step (portal.actions): render, sign and store the certificate in the
    transaction that moves the request to `issued`. The dispatcher has checked the role, the state
    and the version before this costly part; any failure rolls all of it back."""
    session, request, actor = acting.session, acting.request, acting.actor
    archive = request.issuing_archive
    config = current_app.config
    if points_at_this_machine(config["PUBLIC_URL"]) and not development(config):
        # Whoever receives the certificate could never open the link printed and signed on it.
        raise CertificateUnavailable(_l("证明上的核验网址 %(url)s 指向本机，收到证明的人无法打开。请管理员将 "
                                        "PORTAL_PUBLIC_URL 设为平台对外的网址后，再出具证明。",
                                        url=config["PUBLIC_URL"]))
    try:
        signer = signing.load_signer(Path(config["SIGNING_KEYS_DIR"]), archive.code, passphrase())
    except signing.SigningKeyMissing:
        raise CertificateUnavailable(_l("本馆尚未配置证书签名密钥，请管理员运行 portal keys init 或配置正式密钥")) from None
    except (OSError, ValueError):  # unreadable files, a wrong passphrase, a code unfit for a file name
        current_app.logger.exception("certificate signing key of %s", archive.code)
        raise CertificateUnavailable(_l("本馆的证书签名密钥无法读取，请管理员检查密钥文件和口令")) from None
    folder = Path(config["CERTIFICATE_FOLDER"])
    issued_on = china_today()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    # Everything but the serial first (the records, the copies read from disk): from the number
    # on, every other reviewer issuing at this archive waits for this transaction.
    content = certificate_content(request, "", code, issued_on)
    # Drawn inside this transaction: PostgreSQL holds the counter row until commit (SQLite the
    # whole database), so a second reviewer waits and gets the next number; a rollback gives
    # this one back.
    number = next_value(session, f"certificate:{archive.code}", issued_on.year)
    serial = new_serial(archive.code, issued_on.year, number)
    content = replace(content, serial=serial, verify_url=verify_url(serial, code))
    try:
        rendered = renderer.render(content)
    except pdf.FontsMissing:
        raise CertificateUnavailable(_l("服务器缺少证明所用的中文字体（fonts-noto-cjk），请管理员安装")) from None
    signed = signing.sign(rendered, signer, reason=content.title)
    stored = store_with(session, signed, folder)  # the file goes if the transaction rolls back
    # Issuing again after a revocation leaves the status as it was: the row still changes, so its
    # version does, and of two reviewers re-issuing at once the second loses (one valid certificate
    # per request is also the database's rule: uq_certificate_one_valid).
    request.updated_at = utcnow()
    acting.result = Certificate(
        serial=serial, code=code, request=request, kind=content.kind, status="valid",
        sha256=hashlib.sha256(signed).hexdigest(), stored_name=stored, size=len(signed), issued_by_id=actor.id)
    session.add(acting.result)


def new_serial(archive_code: str, year: int, number: int) -> str:
    """ZM-{NODE}-{code}-{year}-{n} on a node of a network, ZM-{code}-{year}-{n} otherwise."""
    node = this_node()
    named = f"{node.name.upper()}-" if node is not None else ""
    return f"{SERIAL_PREFIX}-{named}{archive_code}-{year}-{number:06d}"


def serial_node(serial: str) -> str | None:
    """The node a serial names (lower case, as nodes are named), or None: an older shape, issued
    by whichever node it is typed on."""
    match = SERIAL_SHAPE.fullmatch(normalize_serial(serial))
    return match["node"].lower() if match and match["node"] else None


def passphrase() -> bytes | None:
    value = current_app.config.get("SIGNING_KEY_PASSPHRASE")
    return value.encode() if value else None


def verify_url(serial: str, code: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/verify?{urlencode({'serial': serial, 'code': code})}"


def certificate_content(request: UtilizationRequest, serial: str, code: str, issued_on) -> CertificateContent:
    """build_content for issuing and for the preview before it: a certified copy missing from the
    upload folder is CertificateUnavailable (a message for the clerk, the details in the log)."""
    try:
        return build_content(request, serial, code, issued_on)
    except OSError:
        current_app.logger.exception("certified copies of %s", request.number)
        raise CertificateUnavailable(_l("馆藏馆提交的核实复制件文件缺失，请管理员检查上传目录")) from None


def build_content(request: UtilizationRequest, serial: str, code: str, issued_on) -> CertificateContent:
    """What the certificate says: the records the holding archives verified (with their certified
    copies), or — when none was found — exactly what was searched and what each archive answered."""
    tasks = [t for t in request.tasks if t.answered]
    verified = {t.holding_archive_id: t for t in tasks if t.status == "verified"}
    records: list[RecordLine] = []
    if request.kind == "search":
        category = CATEGORIES.get(request.search_category, "")
        for task in verified.values():
            records.append(RecordLine(task.holding_archive.name, "—", f"{category or '档案'}（代为查找）",
                                      _years(request), **_verified_facts(task)))
        categories = (category,) if category else ()
    else:
        for item in request.items:
            task = verified.get(item.record.archive_id)
            if task is not None:
                records.append(RecordLine(item.record.archive.name, item.record.reference_code, item.record.title,
                                          item.record.event_date_text, **_verified_facts(task)))
        categories = tuple(dict.fromkeys(CATEGORIES.get(i.record.category, i.record.category) for i in request.items))
    answers = tuple(SearchAnswer(t.holding_archive.name, "已找到并核实" if t.status == "verified" else
                                 f"未找到（{t.note}）" if t.note else "未找到") for t in tasks)
    purpose = PURPOSE_LABELS.get(request.purpose, request.purpose)
    if request.purpose == "other" and request.purpose_note:
        purpose = request.purpose_note
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    attachments = tuple(Attachment(t.copy_file.original_name, stored_path(folder, t.copy_file.stored_name).read_bytes())
                        for t in verified.values() if t.copy_file is not None)
    return CertificateContent(
        kind="found" if records else "not_found", serial=serial, code=code, verify_url=verify_url(serial, code),
        issuing_archive=request.issuing_archive.name, issued_on=issued_on, subject_name=request.subject_name,
        subject_id_masked=mask_id_number(subject_id_number(request)), purpose=purpose, records=tuple(records),
        searched_categories=categories, searched_years=_years(request), searched_place=request.search_place or "",
        answers=answers, seal_png=request.issuing_archive.seal_png, attachments=attachments)


def _verified_facts(task: VerificationTask) -> dict:
    """What the certificate states of a verified record: the day, the result, and the clerk's note
    only when they chose to print it (otherwise it stays on the request, for staff and applicant)."""
    return {"verified_on": task.answered_at.astimezone(CHINA_TIME).date() if task.answered_at else None,
            "found": task.status == "verified", "note": task.note if task.print_note else ""}


def keep_print_choice(acting: Acting) -> None:
    """A step of `verify`: whether the clerk's note is printed on the certificate, kept on the task."""
    acting.target.print_note = bool(acting.inputs.print_note and acting.inputs.note)


def _years(request: UtilizationRequest) -> str:
    if request.kind == "search":
        low, high = request.search_year_from, request.search_year_to
    else:
        years = [item.record.event_year for item in request.items]
        low, high = (min(years), max(years)) if years else (None, None)
    if low and high:
        return f"{low}—{high}" if low != high else str(low)
    return str(low or high or "")


# ---- the stored file ----------------------------------------------------------------------------

def certificate_file(session: Session, viewer, number: str, ip: str = "") -> tuple[Certificate, bytes]:
    """The issued PDF, byte for byte, for those who may see the request (the applicant, staff of
    the archives involved, admins); RequestNotFound for everyone else. Every download is logged."""
    request = get_request(session, viewer, number)
    certificate = request.certificate
    if certificate is None:
        raise LookupError(number)
    try:
        data = stored_path(Path(current_app.config["CERTIFICATE_FOLDER"]), certificate.stored_name).read_bytes()
    except FileNotFoundError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != certificate.sha256:
        current_app.logger.error("certificate %s: the stored file is missing or does not match its SHA-256",
                                 certificate.serial)
        raise CertificateUnavailable(_l("证明文件校验失败，请联系出证档案馆"))
    log(session, "certificate_downloaded", actor=viewer, object_type="certificate", object_id=certificate.serial,
        ip=ip, request=request.number)
    session.commit()
    return certificate, data


def get_by_serial(session: Session, viewer, serial: str) -> Certificate:
    """A certificate of a request the viewer may see (RequestNotFound or LookupError otherwise)."""
    certificate = session.scalar(select(Certificate).where(Certificate.serial == serial))
    if certificate is None or not can_view(viewer, certificate.request):
        raise LookupError(serial)
    return certificate


# ---- revoking -----------------------------------------------------------------------------------

class NoCertificate(Exception):
    """Revoking where no certificate was issued (HTTP 404)."""


def has_certificate(acting: Acting) -> None:
    if acting.request.certificate is None:
        raise NoCertificate(acting.request.number)


def revoke_certificate(acting: Acting) -> None:
    """撤销证明, the `revoke` step: checks say revoked from now on, and the applicant is told why."""
    session, request, actor = acting.session, acting.request, acting.actor
    certificate, reason = request.certificate, acting.inputs.reason
    # Only a valid certificate changes: of two reviewers at once, the second changes nothing.
    changed = session.execute(update(Certificate).where(Certificate.id == certificate.id,
                                                        Certificate.status == "valid")
                              .values(status="revoked", revoked_at=utcnow(), revoked_by_id=actor.id,
                                      revoke_reason=reason)
                              .execution_options(synchronize_session=False)).rowcount
    if not changed:
        session.rollback()
        session.refresh(certificate)
        by = certificate.revoked_by.real_name if certificate.revoked_by else ""
        raise Conflict(_l("这份证明已由%(name)s撤销", name=by))
    request.updated_at = utcnow()  # a page opened before the revocation is stale now (the version moves)
    log(session, "certificate_revoked", actor=actor, object_type="certificate", object_id=certificate.serial,
        ip=acting.ip, request=request.number)
    _tell_applicant(session, request, certificate.serial, reason)
    session.expire(certificate)
    acting.result = certificate


def _tell_applicant(session: Session, request: UtilizationRequest, serial: str, reason: str) -> None:
    archive = request.issuing_archive
    email_applicant(session, request, f"您的档案证明 {serial} 已被撤销",
                    f"{archive.name}已撤销为您出具的档案证明（编号 {serial}）。原因：\n\n{reason}\n\n"
                    f"这份证明从现在起不再有效，核验时会显示“已撤销”。如有疑问，请联系{archive.name}"
                    f"（电话 {archive.phone or '—'}）。")


# ---- public checks ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileCheck:
    certificate: Certificate | None  # the issued certificate these exact bytes are, if any
    signature: signing.SignatureCheck


def normalize_serial(serial: str) -> str:
    """What people type: full-width digits and letters (a Chinese input method's), lower case."""
    return unicodedata.normalize("NFKC", serial or "").strip().upper()


def number_shape(serial: str) -> str:
    """What a number typed on /verify looks like, from its characters alone (the database is not
    asked: the answer says nothing of whether such a request or certificate exists):
    "certificate" (ZM-…), "request" (a request number, or a serial issued before ZM) or "unknown"."""
    serial = normalize_serial(serial)
    if SERIAL_SHAPE.fullmatch(serial):
        return "certificate"
    return "request" if REQUEST_NUMBER_SHAPE.fullmatch(serial) else "unknown"


def normalize_code(code: str) -> str:
    """What people type: lower case, spaces and dashes between groups, full-width letters (a
    Chinese input method's default)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", code or "").upper() if ch not in " -\t")


def lookup(session: Session, serial: str, code: str, ip: str = "", *, peer=None) -> Certificate | None:
    """The certificate with this serial *and* code, or None; a wrong code looks exactly like a
    serial that does not exist. Failures are counted per address (TooManyChecks beyond the limit);
    asked by a `peer` node (for someone at its address, counted there), they are logged as the
    peer's and the peer's calls are throttled as a whole (portal.throttle "peer_certificate")."""
    serial, code = normalize_serial(serial)[:MAX_SERIAL_LENGTH], normalize_code(code)[:20]
    if peer is None:
        check_failures(session, ip)
    found = session.scalar(select(Certificate).where(Certificate.serial == serial)) if serial else None
    if found is not None and hmac.compare_digest(found.code.encode(), code.encode()):
        return found
    lookup_failed(session, serial, ip, actor=peer.account if peer is not None else None)
    return None


def check_failures(session: Session, ip: str) -> None:
    """TooManyChecks once `ip` failed too many look-ups (here, or at other nodes through this one)."""
    _throttle(session, "certificate_lookup_failed", current_app.config["MAX_CERTIFICATE_LOOKUP_FAILURES"], ip)


def lookup_failed(session: Session, serial: str, ip: str, actor=None) -> None:
    log(session, "certificate_lookup_failed", actor=actor, object_type="certificate",
        object_id=normalize_serial(serial)[:MAX_SERIAL_LENGTH], ip=ip)
    session.commit()


def check_file(session: Session, data: bytes, ip: str = "") -> FileCheck:
    """Whether an uploaded PDF is byte for byte an issued certificate, and whether its signature
    is intact and from a key the portal trusts. The caller counted it first (the "verify_file" throttle)."""
    digest = hashlib.sha256(data).hexdigest()
    found = session.scalar(select(Certificate).where(Certificate.sha256 == digest))
    signature = signing.check(data, signing.trust_roots(Path(current_app.config["SIGNING_KEYS_DIR"])))
    log(session, "certificate_file_checked", object_type="certificate", object_id=found.serial if found else "",
        ip=ip, sha256=digest)
    session.commit()
    return FileCheck(found, signature)


def _throttle(session: Session, action: str, limit: int, ip: str) -> None:
    if ip and count_recent(session, action, utcnow() - THROTTLE_WINDOW, ip=ip) >= limit:
        raise TooManyChecks()
