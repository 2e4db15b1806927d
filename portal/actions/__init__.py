"""The one way anything changes state: `act(session, target, action, actor, inputs)`, from web
forms, HTMX, the JSON API and the CLI alike. The declared actions are portal.actions.table.

    policy.can? ─▶ inputs typed ─▶ version and state ─▶ guards ─▶ rules of the inputs
        ─▶ steps, status, timeline event, email (one transaction, optimistic lock) ─▶ commit
        ─▶ after-commit work the steps queued (index, mail, files: portal.core.after_commit)

Refusals are exceptions the adapters turn into answers: UnknownAction (404), NotAllowed (403),
Conflict (409: the state, a newer version, or someone acting at the same moment),
ValidationFailed (400/422, one message per field), PasswordNeeded (an action marked
`recent_password` by someone who typed their password too long ago: the web asks for it again,
the API answers 401)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal import policy
from portal.accounts.sessions import check_recent_password
from portal.actions.table import ACTIONS, TRANSITIONS, Action
from portal.appraisal.labels import ACTION_LABELS as BATCH_ACTION_LABELS, STATUS_LABELS as BATCH_STATUS_LABELS
from portal.core.acting import Acting
from portal.core.errors import Conflict, NotAllowed, UnknownAction, ValidationFailed
from portal.core.i18n import N_
from portal.requests.labels import ACTION_LABELS, STATUS_LABELS
from portal.requests.models import RequestEvent, UtilizationRequest
from portal.requests.notifications import notify_applicant
from portal.requests.timeline import record_event

__all__ = ["ACTIONS", "TRANSITIONS", "Action", "act", "allowed", "allowed_actions", "check", "spec"]


def spec(target, action: str) -> Action:
    found = ACTIONS.get((policy.kind_of(target), action))
    if found is None or found.from_states == ():  # `submit` creates requests; nothing takes it again
        raise UnknownAction(action)
    return found


def act(session: Session, target, action: str, actor, inputs: Any = None, *, ip: str = "") -> Acting:
    """Take `action` on `target` (a request, a verification task or an appraisal batch) as `actor`, and commit.
    `inputs` is the action's input model, or a dict read into it. Returns what happened: the
    timeline event, and the step's result (the certificate of `issue`, the note of `note`)."""
    acting = check(session, target, action, actor, inputs, ip=ip)
    declared = spec(target, action)
    try:
        # No autoflush: a step's query must not write the status early, or a later change of the
        # same row would bump its version twice (a step that needs an id flushes once, itself).
        with session.no_autoflush:
            acting.from_status = acting.request.status
            if declared.to_state is not None:
                target.status = declared.to_state
            if declared.timeline is not None:
                acting.event = record_event(session, acting.request, declared.event or action, actor, acting.role,
                                            acting.from_status, declared.timeline(acting))
            for step in declared.steps:
                step(acting)
            if declared.notify and acting.event is not None:  # last: the email shows the new promised date
                notify_applicant(session, acting.request, acting.event)
        session.commit()  # the UPDATE checks the version: a concurrent change makes it match no row
    except StaleDataError:
        session.rollback()  # files the steps wrote go with it (portal.core.uploads.store_with)
        session.refresh(target)
        raise _conflict(declared, acting, stale=True) from None
    except BaseException:
        session.rollback()
        raise
    # Steps set ids: loaded relationships would still show the old holder or answerer.
    for name in ("claimed_by", "answered_by"):
        if hasattr(target, name):
            session.expire(target, [name])
    return acting


def check(session: Session, target, action: str, actor, inputs: Any = None, *, ip: str = "") -> Acting:
    """Everything `act` asks before it changes anything — the role, a recent password, the input,
    the version, the state, the guards, the input's rules — raising as `act` would; nothing is
    written. A page that shows what an action will do before it is confirmed (出具证明's preview)
    asks this first."""
    declared = spec(target, action)
    roles = policy.roles_for(actor, action, target)
    if not roles:
        raise NotAllowed(action)
    if declared.recent_password:
        check_recent_password(actor)
    acting = Acting(session, target, action, actor, declared.input.read(inputs), role=sorted(roles)[0], ip=ip)
    version = acting.inputs.version
    if version is not None and version != target.version:
        raise _conflict(declared, acting, stale=False)
    if not _state_allows(declared, target):
        raise _state_conflict(declared, acting)
    for guard in declared.guards:
        guard(acting)
    if errors := acting.inputs.problems(action):
        raise ValidationFailed(errors)
    return acting


def _state_allows(declared: Action, target) -> bool:
    """The target's status is one the action starts from, and its `when` holds (no states: guards decide)."""
    if declared.from_states is None:
        return True
    return target.status in declared.from_states and (declared.when is None or declared.when(target))


# What a refused state change says, per kind of target: the sentence, its states' and its actions' labels.
STATE_WORDS = {
    "request": (N_("申请当前状态为“%(status)s”，不能%(action)s"), STATUS_LABELS, ACTION_LABELS),
    "batch": (N_("鉴定批次当前状态为“%(status)s”，不能%(action)s"), BATCH_STATUS_LABELS, BATCH_ACTION_LABELS),
}


def _state_conflict(declared: Action, acting: Acting) -> Conflict:
    """The target's state does not allow the action: said in the words of its kind (for a request,
    with its latest timeline event, to say who acted)."""
    sentence, states, actions = STATE_WORDS[declared.kind]
    latest = latest_event(acting.session, acting.request) if isinstance(acting.request, UtilizationRequest) else None
    return Conflict(_l(sentence, status=_l(states[acting.target.status]), action=_l(actions[declared.name])), latest)


def _conflict(declared: Action, acting: Acting, stale: bool) -> Conflict:
    if declared.conflict is not None:
        return declared.conflict(acting, stale)
    return Conflict(_l("申请刚刚已有新的办理进展，请查看最新状态后再操作"),
                    latest_event(acting.session, acting.request))


def latest_event(session: Session, request: UtilizationRequest) -> RequestEvent | None:
    return session.scalar(select(RequestEvent).where(RequestEvent.request_id == request.id)
                          .order_by(RequestEvent.id.desc()).limit(1))


def allowed(viewer, action: str, obj) -> bool:
    """Whether the page should offer `action` on `obj` now: the policy allows it, and for a state
    change the state does (the guards and a claim held by someone else still answer 409)."""
    declared = ACTIONS.get((policy.kind_of(obj), action))
    if declared is None or declared.from_states == () or not policy.can(viewer, action, obj):
        return False
    if declared.from_states is not None:
        return _state_allows(declared, obj)
    if declared.kind == "task":
        return obj.status == "open" and (action not in ("verify", "not_found") or obj.request.status == "in_review")
    return True


def allowed_actions(viewer, request: UtilizationRequest) -> list[str]:
    """The state changes this person may take now: what the request pages render as buttons."""
    return [name for name in TRANSITIONS if allowed(viewer, name, request)]
