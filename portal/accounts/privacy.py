"""A citizen's rights over their personal information (PIPL arts. 44–47): see what the portal holds
about them, take it away as a file, correct it, and close the account.

What the archive must keep stays, with the reason said: utilization requests and their files are
records of the archive's service (the Archives Law and the archive's utilization rules keep them),
and the audit log is append-only evidence of who saw what. Everything else goes when the account
is closed: sessions, API tokens, one-time links, emails to the address, files never attached to a
request, the phone number, the password, the ID number; the address becomes unusable; the name
goes too unless a kept request needs it to say who applied."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts import sessions
from portal.accounts.models import AccountToken, User
from portal.accounts.passwords import verify_password
from portal.archives.models import Archive
from portal.audit.models import AuditLog
from portal.audit.service import log
from portal.core.clock import utcnow
from portal.core.errors import ValidationFailed
from portal.core.masking import mask_id_number
from portal.core.personal_data import cipher
from portal.mail.models import MailOutbox
from portal.requests.models import RequestFile, UtilizationRequest

# What staff did with this person's data, as the audit log names it.
STAFF_VIEWS = ("view_personal_data", "identity_lookup", "identity_verified", "account_frozen", "view_request_file")
KEEP_REASON = _l("利用申请及其材料是档案馆的服务记录，依《档案法》和本馆档案利用规定保存；审计日志只增不改，用于查明谁查看或处理过您的信息。")


def _at(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def held_about(session: Session, user: User) -> dict:
    """Everything the portal holds about `user`, as plain data (the page and the download)."""
    requests = list(session.scalars(select(UtilizationRequest).where(UtilizationRequest.applicant_id == user.id)
                                    .order_by(UtilizationRequest.submitted_at)))
    files = list(session.scalars(select(RequestFile).options(selectinload(RequestFile.request))
                                 .where(RequestFile.owner_id == user.id).order_by(RequestFile.id)))
    numbers = [r.number for r in requests]
    about_me = or_(AuditLog.object_type == "user", AuditLog.object_type == "request")
    views = session.execute(
        select(AuditLog, User.role, Archive.name).join(User, User.id == AuditLog.actor_id, isouter=True)
        .join(Archive, Archive.id == User.archive_id, isouter=True)
        .where(about_me, AuditLog.action.in_(STAFF_VIEWS), AuditLog.actor_id != user.id,
               or_((AuditLog.object_type == "user") & (AuditLog.object_id == str(user.id)),
                   (AuditLog.object_type == "request") & AuditLog.object_id.in_(numbers or [""])))
        .order_by(AuditLog.at.desc()).limit(500)).all()
    logins = session.scalars(select(AuditLog).where(AuditLog.action == "login", AuditLog.actor_id == user.id)
                             .order_by(AuditLog.at.desc()).limit(20))
    id_number = cipher().decrypt(user.id_number_enc) if user.id_number_enc else None
    return {
        "account": {
            "email": user.email, "email_confirmed_at": _at(user.email_confirmed_at), "name": user.real_name,
            "phone": user.phone or None,
            # In full only to a verified holder: an unverified account may have typed someone else's.
            "id_number": id_number if user.is_verified else (mask_id_number(id_number) if id_number else None),
            "identity_level": user.identity_level, "verified_at": _at(user.verified_at),
            "verified_method": user.verified_method, "created_at": _at(user.created_at),
            "last_login_at": _at(user.last_login_at),
            "privacy_notice_version": user.privacy_notice_version,
        },
        "requests": [{"number": r.number, "status": r.status, "submitted_at": _at(r.submitted_at),
                      "issuing_archive": r.issuing_archive.name, "relation": r.relation,
                      "subject_name": r.subject_name} for r in requests],
        "files": [{"name": f.original_name, "kind": f.kind, "size": f.size, "uploaded_at": _at(f.created_at),
                   "request": f.request.number if f.request else None} for f in files],
        "staff_views": [{"at": _at(entry.at), "action": entry.action, "object": entry.object_id,
                         "by_role": role, "by_archive": archive} for entry, role, archive in views],
        "logins": [{"at": _at(entry.at), "ip": entry.ip} for entry in logins],
        "kept_on_closing": str(KEEP_REASON),
    }


def correct_phone(session: Session, user: User, phone: str, ip: str = "") -> None:
    from portal.accounts.service import PHONE_PATTERN

    phone = (phone or "").strip().replace(" ", "")
    if phone and not PHONE_PATTERN.match(phone):
        raise ValidationFailed({"phone": _l("请填写有效的手机号或固定电话")})
    user.phone = phone
    log(session, "phone_corrected", actor=user, object_type="user", object_id=user.id, ip=ip)
    session.commit()


def close_account(session: Session, user: User, password: str, ip: str = "") -> None:
    """Close the account (the password first). Commits; the caller ends this browser's session."""
    from portal.requests import drafts

    if not verify_password(user.password_hash, password or ""):
        raise ValidationFailed({"password": _l("密码不正确")})
    kept_requests = session.scalar(select(UtilizationRequest.id).where(UtilizationRequest.applicant_id == user.id)
                                   .limit(1)) is not None
    drafts.discard(session, user)
    sessions.revoke(session, user)
    session.execute(delete(AccountToken).where(AccountToken.user_id == user.id))  # confirmation links too
    session.execute(delete(MailOutbox).where(MailOutbox.to_address == user.email))  # sent or not: copies of personal data
    user.email = f"closed-{user.id}@closed.invalid"
    user.password_hash = "!closed"  # no password verifies against this
    user.phone = ""
    user.is_active_account = False
    user.frozen_at, user.frozen_reason = utcnow(), "本人注销账号"
    # The ID number goes in any case (kept requests hold their subject's own copy), so the person
    # can register and be verified again; the name stays only where a kept request shows who applied.
    user.id_number_enc = user.id_number_hash = None
    user.identity_level, user.verified_at, user.verified_method = "unverified", None, None
    if not kept_requests:
        user.real_name = "（已注销）"
    log(session, "account_closed", actor=user, object_type="user", object_id=user.id, ip=ip,
        kept_requests=kept_requests)
    session.commit()
