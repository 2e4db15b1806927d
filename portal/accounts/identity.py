"""Identity assurance: who checked that an account's holder is the person it names, and what
happens when a checked identity meets an account that only claimed it.

An account is `unverified` as registered (its holder typed a name and an ID number) and becomes
`verified` in one of three ways, each recorded in the audit log with how, by whom and when:
- `counter`: a clerk at a reading room saw the ID card (portal/review/identity views);
- `oidc`: an external real-name provider vouched for the ID number (portal/accounts/oidc.py);
- `request`: a clerk accepted a request whose uploaded ID card they checked (the `accept` step).
Only a verified identity matches records by ID number (portal.policy.is_subject).

Anyone may register with any ID number (so an impostor's earlier registration cannot keep the real
person out); only one account holds it verified (a partial unique index). When an account becomes
verified, every unverified account holding the same ID number is frozen (it cannot log in, its
sessions and tokens end, the ID number is released) and its owner told by email why and how to
appeal at a reading room; if another account holds it verified already, nothing changes and
IdentityConflict is raised for a reading room to look into."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts import links, sessions
from portal.accounts.models import VERIFY_METHODS, User
from portal.audit.service import log
from portal.core.clock import utcnow
from portal.core.personal_data import cipher
from portal.mail.service import letter, queue_email


class IdentityConflict(Exception):
    """The ID number is already verified on another account: a reading room must look into it."""


class VerifiedAsSomeoneElse(Exception):
    """The account is verified already, with another ID number: a check of someone else (a relative
    at the provider, another card at the counter) never re-points it; an administrator looks into it."""


def verified_elsewhere(session: Session, user: User, digest: str | None = None) -> bool:
    """Whether another account holds this ID number (the user's own, or `digest`) verified."""
    digest = digest or user.id_number_hash
    return bool(digest) and session.scalar(select(User.id).where(
        User.id_number_hash == digest, User.id != user.id, User.identity_level == "verified").limit(1)) is not None


def _take(session: Session, user: User, digest: str, *, actor: User | None, ip: str) -> None:
    """`user` is about to hold `digest` verified: a verified holder elsewhere is a conflict, the
    unverified ones are frozen."""
    if verified_elsewhere(session, user, digest):
        raise IdentityConflict()
    others = session.scalars(select(User).where(User.id_number_hash == digest, User.id != user.id)).all()
    for other in others:
        freeze(session, other, reason="该身份证号码已由持有人本人实名核验", actor=actor, ip=ip)
    if others:
        session.flush()


def mark_verified(session: Session, user: User, *, method: str, actor: User | None, ip: str = "") -> None:
    """Record that `user`'s identity was checked (`method`, by `actor`); unverified accounts holding
    the same ID number are frozen, a verified one raises IdentityConflict. In the caller's
    transaction; verifying a verified account again records nothing new."""
    if method not in VERIFY_METHODS:
        raise ValueError(f"unknown verification method: {method}")
    if user.is_verified:
        return
    if user.id_number_hash:
        _take(session, user, user.id_number_hash, actor=actor, ip=ip)
    user.identity_level, user.verified_at, user.verified_method = "verified", utcnow(), method
    log(session, "identity_verified", actor=actor or user, object_type="user", object_id=user.id, ip=ip,
        method=method)


def freeze(session: Session, user: User, *, reason: str, actor: User | None, ip: str = "") -> None:
    """Freeze an account whose claim to an ID number lost to a verified identity (or that a clerk
    found to be an impostor's): no log-in, no sessions or tokens, the ID number released for its
    rightful holder. The owner is told why and how to appeal. In the caller's transaction."""
    user.frozen_at, user.frozen_reason = utcnow(), reason[:200]
    user.id_number_enc = user.id_number_hash = None
    user.identity_level = "unverified"
    sessions.revoke(session, user)
    log(session, "account_frozen", actor=actor, object_type="user", object_id=user.id, ip=ip, reason=reason[:200])
    queue_email(session, user.email, "您的档案利用服务平台账号已被冻结", letter(
        user.real_name,
        "您注册账号时填写的身份证号码，已由证件持有人本人通过实名核验。为保护其个人信息，您的账号已被冻结，不能再登录。",
        "", f"原因：{reason}", "",
        "如果您就是该证件的持有人，请携带本人居民身份证到任一档案馆查档大厅申诉，工作人员核实后为您恢复账号。"))


def claim_identity(session: Session, user: User, id_number: str, name: str, *, method: str,
                   actor: User | None, ip: str = "") -> None:
    """A check established that `user`'s holder is the person with `id_number` and `name` (an
    external provider's claims, normalised). The account takes that identity and is verified;
    an unverified account holding the same ID number is frozen; a verified one is a conflict
    (raises IdentityConflict, nothing changed); an account verified with another ID number raises
    VerifiedAsSomeoneElse. In the caller's transaction."""
    digest = cipher().lookup_hash(id_number)
    if user.is_verified and user.id_number_hash != digest:
        raise VerifiedAsSomeoneElse()
    _take(session, user, digest, actor=actor, ip=ip)  # before anything of `user` changes
    if user.id_number_hash != digest or user.real_name != name:
        log(session, "identity_corrected", actor=actor or user, object_type="user", object_id=user.id, ip=ip,
            method=method, name_changed=user.real_name != name, id_number_changed=user.id_number_hash != digest)
        user.identity_level = "unverified"
        user.id_number_enc, user.id_number_hash, user.real_name = cipher().encrypt(id_number), digest, name
    mark_verified(session, user, method=method, actor=actor, ip=ip)


def verify_in_person(session: Session, user: User, id_number: str, name: str, *, actor: User | None,
                     ip: str = "") -> None:
    """A clerk saw the ID card in hand (现场核验): the account takes the card's identity and is
    verified (claim_identity, method "counter"), and whoever else knew its password (it may have
    been registered in this person's name before they came) is shut out: sessions and tokens end,
    the password is void, a link to set it again goes to the account's confirmed address. In the
    caller's transaction; raises as claim_identity. The identity page (portal/review/identity.py)
    and counter intake (portal/admin/counter.py) both verify through here."""
    claim_identity(session, user, id_number, name, method="counter", actor=actor, ip=ip)
    sessions.revoke(session, user)
    user.password_hash = "!reset"  # no password verifies against this
    links.send_password_reset(session, user, verified_at_counter=True)
