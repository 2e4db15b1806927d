"""Counter intake (现场接待): a clerk registers a walk-in's request at their archive's counter.

The clerk finds the citizen by the resident ID number on the card in hand (a POST; every look-up in
the audit log), or creates their account there; either way the account is verified by the same
counter check as the identity page (portal.accounts.identity.verify_in_person / claim_identity).
The request then goes through portal.requests.applying.submit with channel "counter", the citizen
as applicant and the clerk on the timeline's first step, into the same queue and state machine.

A walk-in may have no email address: the account then gets a placeholder on the reserved
`.invalid` domain (RFC 2606), which no mail is ever sent to (portal.mail.service), and no password:
the citizen follows the request with the printed receipt, or comes back to add an address."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import policy
from portal.accounts import links
from portal.accounts.identity import IdentityConflict, VerifiedAsSomeoneElse, claim_identity, verify_in_person
from portal.accounts.models import User
from portal.accounts.notice import NOTICE
from portal.accounts.service import checked_account_fields
from portal.archives.models import Archive
from portal.audit.models import AuditLog
from portal.audit.service import log
from portal.catalog.models import Record
from portal.core.clock import utcnow
from portal.core.errors import NotAllowed, ValidationFailed
from portal.core.idnumber import InvalidIdNumber, normalize_id_number
from portal.core.masking import mask_id_number, mask_name
from portal.core.personal_data import cipher
from portal.requests.applying import Application, Upload, submit
from portal.requests.models import UtilizationRequest

WALK_IN_DOMAIN = "walk-in.invalid"  # no mail goes to .invalid (portal.mail.service.undeliverable)
MAX_LOOKUP_ROWS = 20


def _allowed(clerk, archive: Archive) -> None:
    if not policy.can(clerk, "counter_intake", archive):
        raise NotAllowed()


def id_number_from(raw: str, field: str = "id_number") -> str:
    """The typed ID number, normalised; ValidationFailed naming what is wrong with it."""
    try:
        return normalize_id_number(raw or "")
    except InvalidIdNumber as exc:
        raise ValidationFailed({field: exc.args[0]}) from None


@dataclass
class Found:
    """The account an ID number leads to, as far as the clerk needs to know it."""
    account: User | None
    number: str

    @property
    def is_walk_in_email(self) -> bool:
        return self.account is not None and self.account.email.endswith("@" + WALK_IN_DOMAIN)

    @property
    def may_verify(self) -> bool:
        """An unverified account becomes the citizen's here only through its confirmed address
        (anyone may have registered with this ID number): the same rule as the identity page."""
        return self.account is not None and (self.account.is_verified or self.account.email_confirmed_at is not None)


def masked_email(email: str) -> str:
    """What the clerk reads out so the citizen can recognise their account: z***@example.com."""
    local, _sep, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain and not domain == WALK_IN_DOMAIN else ""


def look_up(session: Session, clerk, archive: Archive, raw_number: str, *, ip: str = "") -> Found:
    """The active citizen account holding this ID number: the verified one, else the latest
    unverified one; None when there is none. Logged (masked) against every account it shows, or
    against the archive when none."""
    _allowed(clerk, archive)
    number = id_number_from(raw_number)
    digest = cipher().lookup_hash(number)
    accounts = [a for a in session.scalars(select(User).where(User.id_number_hash == digest, User.role == "citizen")
                                           .order_by(User.id.desc())) if a.is_active]
    account = next((a for a in accounts if a.is_verified), accounts[0] if accounts else None)
    details = dict(ip=ip, id_number=mask_id_number(number), archive=archive.code, found=account is not None)
    if account is None:
        log(session, "counter_lookup", actor=clerk, object_type="archive", object_id=archive.id, **details)
    for looked_at in accounts:
        log(session, "counter_lookup", actor=clerk, object_type="user", object_id=looked_at.id, **details)
    session.commit()
    return Found(account, number)


def verify_found(session: Session, clerk, archive: Archive, account: User, raw_number: str, name: str, *,
                 ip: str = "") -> User:
    """The citizen in front of the clerk says the unverified account found by their ID number is
    theirs (they recognise its masked address): the same counter check as the identity page."""
    _allowed(clerk, archive)
    number = id_number_from(raw_number)
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise ValidationFailed({"name": _l("请照证件填写姓名（不超过 50 个字）")})
    if account.role != "citizen" or not account.is_active or account.id_number_hash != cipher().lookup_hash(number):
        raise ValidationFailed({"form": _l("这个账号不是按此身份证号码找到的，请重新查找")})
    if account.is_verified:
        return account
    if not Found(account, number).may_verify:
        raise ValidationFailed({"form": _l("这个账号的邮箱尚未确认，不能据此核验；请为当事人新建账号")})
    try:
        verify_in_person(session, account, number, name, actor=clerk, ip=ip)
        session.commit()
    except (IdentityConflict, VerifiedAsSomeoneElse):
        session.rollback()
        raise ValidationFailed({"id_number": _l("这个身份证号码已在另一个账号上核验过，请联系管理员处理")}) from None
    return account


def create_walk_in(session: Session, clerk, archive: Archive, *, name: str, id_number: str, phone: str = "",
                   email: str = "", ip: str = "") -> User:
    """A citizen's account made at the counter, verified at once (the clerk saw the ID card).
    Any unverified account claiming the same ID number is frozen (portal.accounts.identity); one
    that holds it verified already is refused (look it up instead). With an email address, a
    link to set a password goes there (using it confirms the address)."""
    _allowed(clerk, archive)
    email = (email or "").strip()
    placeholder = f"walkin.{secrets.token_hex(8)}@{WALK_IN_DOMAIN}"
    errors: dict[str, str] = {}
    fields = checked_account_fields(session, role="citizen", email=email or placeholder, password=secrets.token_urlsafe(24),
                      name=name, id_number=id_number, phone=phone, archive_code=None, errors=errors)
    if email and "email" not in errors and fields["email"].endswith("." + WALK_IN_DOMAIN.split(".")[-1]):
        errors["email"] = _l("请填写有效的电子邮箱")
    if "email" not in errors and email and session.scalar(select(User.id).where(User.email == fields["email"])):
        errors["email"] = _l("该邮箱已有账号：请按身份证号码查找，或不填邮箱")
    if "id_number" not in errors:
        if session.scalar(select(User.id).where(User.id_number_hash == fields["id_number_hash"],
                                                User.identity_level == "verified").limit(1)) is not None:
            errors["id_number"] = _l("这个身份证号码已有实名核验的账号，请按身份证号码查找")
    if errors:
        if again := _just_made(session, clerk, fields, errors):
            return again
        raise ValidationFailed(errors)
    number = normalize_id_number(id_number)
    fields.pop("archive", None)
    user = User(password_hash="!reset", privacy_notice_version=NOTICE.version, **fields)
    session.add(user)
    try:
        session.flush()
        log(session, "user_created", actor=clerk, object_type="user", object_id=user.id, ip=ip, role="citizen",
            channel="counter", archive=archive.code)
        claim_identity(session, user, number, fields["real_name"], method="counter", actor=clerk, ip=ip)
        if email:
            links.send_password_reset(session, user, verified_at_counter=True)
        session.commit()
    except (IntegrityError, IdentityConflict):
        session.rollback()
        raise ValidationFailed({"id_number": _l("这个身份证号码已有实名核验的账号，请按身份证号码查找")}) from None
    return user


DOUBLE_CLICK = timedelta(minutes=2)


def _just_made(session: Session, clerk, fields: dict, errors: dict) -> User | None:
    """The account this clerk made a moment ago with the same ID number and name: a double click
    on "create" (the browser shows the second answer) gets its intake form, not a refusal."""
    if set(errors) - {"id_number", "email"} or not fields.get("id_number_hash"):
        return None
    user = session.scalar(select(User).where(User.id_number_hash == fields["id_number_hash"],
                                             User.identity_level == "verified", User.role == "citizen"))
    if user is None or user.real_name != fields.get("real_name") or user.created_at < utcnow() - DOUBLE_CLICK:
        return None
    if "email" in errors and user.email != fields.get("email"):
        return None
    made_by = session.scalar(select(AuditLog.actor_id).where(AuditLog.action == "user_created",
                                                              AuditLog.object_type == "user",
                                                              AuditLog.object_id == str(user.id)))
    return user if made_by == clerk.id else None


def register(session: Session, clerk, archive: Archive, citizen: User, application: Application,
             uploads: list[Upload] = (), *, idempotency_key: str | None = None, ip: str = ""
             ) -> tuple[UtilizationRequest, bool]:
    """Submit the walk-in's request: issued by this archive, channel "counter", the citizen the
    applicant, the clerk on the timeline. Consent was given in person (the clerk's tick), recorded
    with the notice's version in the audit log. Raises ApplicationInvalid as the web form does."""
    _allowed(clerk, archive)
    if not policy.may_apply_at_counter(citizen):
        raise ValidationFailed({"form": _l("请先核验当事人的身份")})
    application.issuing_archive = archive.code
    request, created = submit(session, citizen, application, uploads, idempotency_key=idempotency_key,
                              channel="counter", registered_by=clerk)
    if created:
        if citizen.privacy_notice_version is None:
            citizen.privacy_notice_version = NOTICE.version
        log(session, "counter_intake", actor=clerk, object_type="request", object_id=request.id, ip=ip,
            number=request.number, applicant=citizen.id, archive=archive.code, notice_version=NOTICE.version,
            consent="in_person")
        session.commit()
    return request, created


def counter_request(session: Session, clerk, archive: Archive, number: str) -> UtilizationRequest:
    """A walk-in request this archive registered (LookupError otherwise)."""
    _allowed(clerk, archive)
    found = session.scalar(select(UtilizationRequest).where(
        UtilizationRequest.number == number, UtilizationRequest.issuing_archive_id == archive.id,
        UtilizationRequest.channel == "counter"))
    if found is None:
        raise LookupError(number)
    return found


def held_here(request: UtilizationRequest, archive: Archive) -> bool:
    """Whether this archive holds every record asked for (then its clerk verifies them at once
    and the certificate can be printed on the spot)."""
    return request.kind == "records" and all(item.record.archive_id == archive.id for item in request.items)


def find_in_catalog(session: Session, clerk, archive: Archive, text: str) -> list[tuple[Record, str]]:
    """A staff look-up by reference code or title, across the network (the citizen may ask for
    another archive's record: it verifies, this one issues), as far as the clerk may see each
    record (portal.policy: another archive's restricted and closed records are not listed); with
    the subject's name as the clerk may see it (masked for other archives' records)."""
    _allowed(clerk, archive)
    text = (text or "").strip()[:100]
    if not text:
        return []
    rows = []
    for record in _matching(session, text):
        audience = policy.audience_for(clerk, record)
        if policy.can_see(record, audience):
            rows.append((record, record.subject_name if audience == "staff" else mask_name(record.subject_name)))
    return rows


def _matching(session: Session, text: str) -> list[Record]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(session.scalars(select(Record).where(_own_archive(), or_(
        Record.reference_code.ilike(f"{escaped}%", escape="\\"), Record.title.ilike(f"%{escaped}%", escape="\\")))
        .order_by(Record.archive_id, Record.reference_code).limit(MAX_LOOKUP_ROWS)))


def _own_archive():
    """This node's records, not mirrors of another node's (portal.federation.records)."""
    return Record.archive_id.in_(select(Archive.id).where(Archive.node.is_(None)))
