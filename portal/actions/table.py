"""Every action, declared once: what it acts on, from which states to which (the policy rule of the
same name, portal.policy.RULES, says who may), what input it takes (portal.actions.inputs), the guards that must
hold, and the steps it takes inside its transaction (tasks, the certificate, files, a claim).
The dispatcher (portal.actions.act) reads this table and nothing else.

    submitted ──accept──▶ in_review ──approve──▶ approved ──issue──▶ issued ◀──issue (its certificate revoked)
        │                   │   ▲
        │                   │   └──resubmit── needs_supplement ◀──ask_supplement── in_review
        │                   └──reject──▶ rejected
        └──withdraw (applicant, until approved) ──▶ withdrawn

An open-appraisal batch (portal.appraisal), each stage by a different person:

    first_review ──appraise_first──▶ second_review ──appraise_second──▶ decision ──appraise_decide──▶ decided
         └──────────────────────────────────┴──cancel──▶ cancelled ◀───────────┘
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portal.actions import inputs
from portal.appraisal import stages as appraisal
from portal.certificates.service import has_certificate, keep_print_choice, revoke_certificate, write_certificate
from portal.core.acting import Acting
from portal.core.errors import Conflict
from portal.federation import messages as peers
from portal.requests.service import attach_supplement
from portal.review import service as review

Guard = Callable[[Acting], None]  # raises Conflict (or ValidationFailed) when the step cannot happen now
Step = Callable[[Acting], None]   # changes rows in the action's transaction


@dataclass(frozen=True)
class Action:
    kind: str                                # "request", "task" or "batch"
    name: str
    input: type[inputs.Input]
    from_states: tuple[str, ...] | None = None  # the target's status it starts from; None: guards decide
    to_state: str | None = None              # the target's status after; None: unchanged
    when: Callable[[object], bool] | None = None  # and what else of the target's state must hold (pages hide it too)
    guards: tuple[Guard, ...] = ()
    steps: tuple[Step, ...] = ()
    timeline: Callable[[Acting], str] | None = None  # writes a timeline event with this note
    event: str = ""                          # the event's action, when it differs from the name
    notify: bool = False                     # the applicant is emailed about the event
    conflict: Callable[[Acting, bool], Conflict] | None = None  # what a late second actor is told
    effects: tuple[str, ...] = ()  # what else happens, in words (docs and the OpenAPI text)
    recent_password: bool = False  # the actor typed their password within REAUTH_MINUTES (signing, revoking)


def _note(acting: Acting) -> str:
    return acting.inputs.timeline_note()


def transition(name: str, from_states: tuple[str, ...], to_state: str, input: type[inputs.Input] = inputs.NoteInput,
               *, notify: bool = True, **more) -> Action:
    """A state change of a request: on the timeline, and (most) emailed to the applicant."""
    return Action("request", name, input, from_states, to_state, timeline=_note, notify=notify, **more)


def stage(name: str, from_state: str, to_state: str, *steps: Step, **more) -> Action:
    """An appraisal batch's stage ends: by the one person who took it, once every item has its opinion."""
    return Action("batch", name, inputs.Input, (from_state,), to_state, conflict=appraisal.batch_conflict,
                  guards=(appraisal.one_person_per_stage, appraisal.every_item_decided),
                  steps=(appraisal.close_stage, *steps), **more)


_OPEN_BATCH = ("first_review", "second_review", "decision")
_claims = dict(guards=(review.claimable,), steps=(review.set_claim,), conflict=review.claim_conflict)
_answer = dict(guards=(review.task_is_open,), steps=(review.answer_task,), timeline=review.answer_note,
               conflict=review.task_conflict, effects=("a task another node sent: the answer goes back (task.answer)",))

ACTIONS: dict[tuple[str, str], Action] = {(a.kind, a.name): a for a in (
    # The request's state changes. `submit` creates a request (portal.requests.applying.submit):
    # no existing request is in a state that allows it.
    transition("submit", (), "submitted"),
    transition("withdraw", ("submitted", "in_review", "needs_supplement"), "withdrawn",
               steps=(peers.send_cancels, review.cancel_open_tasks),
               effects=("open verification tasks are cancelled (another node's: task.cancel is sent)",)),
    transition("resubmit", ("needs_supplement",), "in_review", inputs.ResubmitInput, notify=False,
               steps=(attach_supplement,), effects=("the files are attached; the promised date restarts",)),
    transition("accept", ("submitted",), "in_review", inputs.AcceptInput, guards=(review.identity_checked,),
               steps=(review.verify_applicant, review.choose_search_archives, review.create_tasks, peers.send_tasks),
               effects=("an unverified applicant's account is verified (the clerk checked the ID card: "
                        "identity_checked)", "one verification task per holding archive",
                        "a holding archive of another node is sent its task (task.create)")),
    transition("ask_supplement", ("in_review",), "needs_supplement", inputs.RequiredNoteInput),
    transition("reject", ("in_review",), "rejected", inputs.RejectInput,
               steps=(peers.send_cancels, review.cancel_open_tasks),
               effects=("open verification tasks are cancelled (another node's: task.cancel is sent)",)),
    transition("approve", ("in_review",), "approved", guards=(review.all_tasks_answered,),
               effects=("waits until every holding archive has answered",)),
    transition("issue", ("approved", "issued"), "issued", when=review.awaits_certificate, steps=(write_certificate,),
               recent_password=True,
               effects=("the signed certificate is rendered and stored in the same transaction",
                        "again after its certificate was revoked: a new one, with a new serial, replaces it",
                        "the password must have been typed within the last 30 minutes (else 401)")),
    # The steps around them, on the request.
    Action("request", "claim", inputs.ClaimInput, **_claims),
    Action("request", "release", inputs.ClaimInput, **_claims),
    Action("request", "reassign", inputs.ReassignInput, guards=(review.claimable, review.assignee_works_there),
           steps=(review.set_claim,), conflict=review.claim_conflict),
    Action("request", "note", inputs.StaffNoteInput, steps=(review.add_note,)),
    Action("request", "revoke_certificate", inputs.RevokeInput, guards=(has_certificate,), steps=(revoke_certificate,),
           timeline=_note, event="revoke", recent_password=True,
           effects=("the applicant is emailed the reason",
                    "the password must have been typed within the last 30 minutes (else 401)")),
    # A holding archive's verification task.
    Action("task", "verify", inputs.VerifyInput,
           **{**_answer, "steps": (*_answer["steps"], keep_print_choice, peers.send_answer)}),
    Action("task", "not_found", inputs.AnswerInput, **{**_answer, "steps": (*_answer["steps"], peers.send_answer)}),
    Action("task", "claim", inputs.ClaimInput, **_claims),
    Action("task", "release", inputs.ClaimInput, **_claims),
    Action("task", "reassign", inputs.ReassignInput, guards=(review.claimable, review.assignee_works_there),
           steps=(review.set_claim,), conflict=review.claim_conflict),
    # An open-appraisal batch: opinions per record or in bulk, then each stage closed by its person.
    Action("batch", "decide", inputs.AppraiseInput, _OPEN_BATCH, guards=(appraisal.one_person_per_stage,),
           steps=(appraisal.write_opinions,), conflict=appraisal.batch_conflict,
           effects=("the actor becomes the stage's reviewer; someone who took another stage is refused (409)",)),
    stage("appraise_first", "first_review", "second_review"),
    stage("appraise_second", "second_review", "decision"),
    stage("appraise_decide", "decision", "decided", appraisal.apply_decision,
          effects=("the records decided open become open in the same transaction, queued for the search index, "
                   "each in the audit log; the batch is published in the open catalogue",)),
    Action("batch", "cancel", inputs.RequiredNoteInput, _OPEN_BATCH, "cancelled", steps=(appraisal.cancelled,),
           conflict=appraisal.batch_conflict),
)}
# The request's state changes (a batch's are its own: portal.appraisal).
TRANSITIONS = {name: action for (kind, name), action in ACTIONS.items()
               if kind == "request" and action.to_state is not None}
