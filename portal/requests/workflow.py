"""The request state machine, written as data: which action moves a request from which states
to which state, and who may take it. Every side (citizen pages, staff queue, API) goes through
`apply()`, which checks the role and the state, writes the timeline, bumps the version and queues
what must happen after commit.

    submitted ──accept──▶ in_review ──approve──▶ approved ──issue──▶ issued
        │                   │   ▲
        │                   │   └──resubmit── needs_supplement ◀──ask_supplement── in_review
        │                   └──reject──▶ rejected
        └──withdraw (applicant, until approved) ──▶ withdrawn
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.core.i18n import N_
from portal.core.errors import ValidationFailed
from portal.requests.access import roles_on
from portal.requests.models import RequestEvent, UtilizationRequest

STATUS_LABELS = {
    "submitted": N_("已提交"),
    "in_review": N_("审核中"),
    "needs_supplement": N_("待补充材料"),
    "approved": N_("已通过"),
    "issued": N_("已出证"),
    "rejected": N_("未通过"),
    "withdrawn": N_("已撤回"),
}
ROLE_LABELS = {"applicant": N_("申请人"), "clerk": N_("查档接待员"), "reviewer": N_("审核员"),
               "admin": N_("管理员"), "system": N_("系统")}


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    from_states: tuple[str, ...]
    to_state: str
    roles: tuple[str, ...]
    note_required: bool = False
    notify: bool = True  # tell the applicant by email


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    # `submit` creates the request; no existing request can take it again.
    Transition("submit", N_("提交申请"), (), "submitted", ("applicant",)),
    Transition("withdraw", N_("撤回申请"), ("submitted", "in_review", "needs_supplement"), "withdrawn",
               ("applicant",)),
    Transition("resubmit", N_("补充材料"), ("needs_supplement",), "in_review", ("applicant",), notify=False),
    Transition("accept", N_("受理"), ("submitted",), "in_review", ("clerk",)),
    Transition("ask_supplement", N_("要求补充材料"), ("in_review",), "needs_supplement", ("clerk", "reviewer"),
               note_required=True),
    Transition("reject", N_("不予通过"), ("in_review",), "rejected", ("reviewer",), note_required=True),
    Transition("approve", N_("审核通过"), ("in_review",), "approved", ("reviewer",)),
    Transition("issue", N_("出具证明"), ("approved",), "issued", ("reviewer",)),
)}


class UnknownAction(LookupError):
    pass


class NotAllowed(PermissionError):
    """This person may not take this action on this request (HTTP 403)."""


class Conflict(Exception):
    """The request is not in a state that allows the action, often because someone else acted
    first (HTTP 409). `latest` is the newest timeline event, to say who."""

    def __init__(self, message, latest: RequestEvent | None = None):
        super().__init__(str(message))
        self.message = message
        self.latest = latest


def allowed_actions(viewer, request: UtilizationRequest) -> list[str]:
    """The actions this person may take now: what pages render as buttons."""
    roles = roles_on(viewer, request)
    return [t.action for t in TRANSITIONS.values()
            if request.status in t.from_states and roles.intersection(t.roles)]


# Side effects by action, run after commit (notifications are built in; later steps such as the
# certificate register here).
_effects: dict[str, list[Callable[[Session, UtilizationRequest, RequestEvent], None]]] = {}


def on_transition(action: str, effect: Callable[[Session, UtilizationRequest, RequestEvent], None]) -> None:
    """Register `effect(session, request, event)`, called inside the transaction of `action`; it
    writes outbox rows or queues after-commit work, so it happens only if the transition commits."""
    if effect not in _effects.setdefault(action, []):
        _effects[action].append(effect)


# Conditions an action needs besides the state, by action (approval waits for every verification
# task); each raises Conflict when the request is not ready.
_guards: dict[str, list[Callable[[Session, UtilizationRequest], None]]] = {}


def guard(action: str, check: Callable[[Session, UtilizationRequest], None]) -> None:
    if check not in _guards.setdefault(action, []):
        _guards[action].append(check)


def record_event(session: Session, request: UtilizationRequest, transition: Transition, actor, role: str,
                 from_status: str | None, note: str) -> RequestEvent:
    event = RequestEvent(request=request, actor_id=getattr(actor, "id", None), actor_role=role,
                         action=transition.action, from_status=from_status, to_status=transition.to_state,
                         note=note)
    session.add(event)
    if transition.notify:
        from portal.requests.notifications import notify_applicant

        notify_applicant(session, request, event)
    for effect in _effects.get(transition.action, []):
        effect(session, request, event)
    return event


def check(session: Session, request: UtilizationRequest, action: str, actor,
          expected_version: int | None = None) -> tuple[Transition, set[str]]:
    """Whether `actor` may take `action` now (role, version, state, guards), raising as apply()
    does: a step with costly work before it (rendering a certificate) asks first."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise UnknownAction(action)
    roles = roles_on(actor, request).intersection(transition.roles)
    if not roles:
        raise NotAllowed(action)
    if expected_version is not None and expected_version != request.version:
        raise Conflict(_l("申请刚刚已有新的办理进展，请查看最新状态后再操作"), _latest_event(session, request))
    if request.status not in transition.from_states:
        raise Conflict(_l("申请当前状态为“%(status)s”，不能%(action)s",
                          status=_l(STATUS_LABELS[request.status]), action=_l(transition.label)),
                       _latest_event(session, request))
    for condition in _guards.get(action, []):
        condition(session, request)
    return transition, roles


def apply(session: Session, request: UtilizationRequest, action: str, actor, note: str = "", *,
          expected_version: int | None = None, before_commit: Callable[[RequestEvent], None] | None = None
          ) -> RequestEvent:
    """Take `action` on `request` as `actor` and commit. Raises UnknownAction, NotAllowed,
    Conflict (wrong state, stale version, or another person acted at the same moment) or
    ValidationFailed (a required note is missing). `before_commit` adds to the same transaction
    (files of a resubmission)."""
    transition, roles = check(session, request, action, actor, expected_version)
    note = (note or "").strip()
    if transition.note_required and not note:
        raise ValidationFailed({"note": _l("请填写说明")})
    if len(note) > 2000:
        raise ValidationFailed({"note": _l("说明不能超过 2000 字")})

    from_status = request.status
    try:
        # Effects may load related rows, and with them flush the status change early: the stale
        # version can surface anywhere from here to the commit.
        request.status = transition.to_state
        event = record_event(session, request, transition, actor, roles.pop(), from_status, note)
        if before_commit is not None:
            before_commit(event)
        session.commit()  # the UPDATE checks the version: a concurrent change makes it match no row
    except StaleDataError:
        session.rollback()
        session.refresh(request)
        raise Conflict(_l("申请刚刚已有新的办理进展，请查看最新状态后再操作"), _latest_event(session, request)) from None
    except BaseException:
        session.rollback()
        raise
    return event


def _latest_event(session: Session, request: UtilizationRequest) -> RequestEvent | None:
    return session.scalar(select(RequestEvent).where(RequestEvent.request_id == request.id)
                          .order_by(RequestEvent.id.desc()).limit(1))
