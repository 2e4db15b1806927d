"""The guards and steps of an appraisal batch's actions, declared in portal.actions.table: each
stage is one person (never the same person twice in a batch), every item has that stage's opinion
before the stage ends, and the decision opens records in the same transaction as it is taken."""
from __future__ import annotations

from collections import Counter

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.appraisal.labels import STAGE_LABELS
from portal.appraisal.models import STAGES, AppraisalItem, AppraisalOpinion
from portal.audit.service import log
from portal.catalog.models import Record
from portal.catalog.outbox import queue_index
from portal.core.acting import Acting
from portal.core.clock import china_today, utcnow
from portal.core.errors import Conflict, ValidationFailed

PREVIOUS = {"second": "first", "final": "second"}
CHUNK = 500  # ids per IN (...): well under every database's limit of bound parameters


def _reviewer(batch, stage: str) -> int | None:
    return getattr(batch, f"{stage}_reviewer_id")


def one_person_per_stage(acting: Acting) -> None:
    """The actor has taken no other stage of this batch, and nobody else has begun this one."""
    batch, me = acting.target, acting.actor.id
    stage = batch.stage
    if stage is None:
        return  # the state check refuses first
    for other in STAGES.values():
        if other != stage and _reviewer(batch, other) == me:
            raise Conflict(_l("同一人不能参加同一批次的两个阶段：您已进行本批次的%(done)s，%(now)s须由另一人进行",
                              done=_l(STAGE_LABELS[other]), now=_l(STAGE_LABELS[stage])))
    holder = _reviewer(batch, stage)
    if holder is not None and holder != me:
        raise Conflict(_l("本批次的%(stage)s已由另一人开始进行", stage=_l(STAGE_LABELS[stage])))


def undecided_count(session, batch, stage: str) -> int:
    items = session.scalar(select(func.count()).select_from(AppraisalItem).where(AppraisalItem.batch_id == batch.id))
    decided = session.scalar(select(func.count()).select_from(AppraisalOpinion)
                             .join(AppraisalItem, AppraisalItem.id == AppraisalOpinion.item_id)
                             .where(AppraisalItem.batch_id == batch.id, AppraisalOpinion.stage == stage))
    return items - decided


def every_item_decided(acting: Acting) -> None:
    stage = acting.target.stage
    if stage is not None and (left := undecided_count(acting.session, acting.target, stage)):
        raise Conflict(_l("还有 %(n)s 条档案没有%(stage)s意见，请先逐条或批量作出意见",
                          n=left, stage=_l(STAGE_LABELS[stage])))


def _chosen_items(acting: Acting) -> list[AppraisalItem]:
    batch, chosen = acting.target, acting.inputs
    query = select(AppraisalItem).where(AppraisalItem.batch_id == batch.id)
    if not chosen.every:
        if chosen.category:
            query = query.where(AppraisalItem.category == chosen.category)
        if chosen.items:
            query = query.where(AppraisalItem.id.in_(set(chosen.items)))
    items = list(acting.session.scalars(query.order_by(AppraisalItem.id)))
    if not items or (chosen.items and not chosen.every and not chosen.category and len(items) < len(set(chosen.items))):
        raise ValidationFailed({"items": _l("所选档案不在本批次中")})
    return items


def _opinions(session, item_ids: list[int], stage: str) -> dict[int, AppraisalOpinion]:
    found: dict[int, AppraisalOpinion] = {}
    for start in range(0, len(item_ids), CHUNK):
        part = item_ids[start:start + CHUNK]
        found.update((o.item_id, o) for o in session.scalars(
            select(AppraisalOpinion).where(AppraisalOpinion.item_id.in_(part), AppraisalOpinion.stage == stage)))
    return found


def write_opinions(acting: Acting) -> None:
    """The stage's opinion on the chosen items (a second call changes it); the actor becomes the
    stage's reviewer. `acting.result`: how many items."""
    batch, chosen, session = acting.target, acting.inputs, acting.session
    stage = STAGES[acting.from_status]
    items = _chosen_items(acting)
    ids = [item.id for item in items]
    previous = {}
    if chosen.decision == "follow":
        if stage not in PREVIOUS:
            raise ValidationFailed({"decision": _l("初审没有上一阶段的意见可以沿用")})
        previous = _opinions(session, ids, PREVIOUS[stage])
    existing = _opinions(session, ids, stage)
    now = utcnow()
    for item_id in ids:
        source = previous.get(item_id)
        if chosen.decision == "follow" and source is None:
            continue  # nothing to follow: left for the reviewer to decide
        decision, reason, review_on = ((source.decision, source.reason, source.review_on) if source
                                       else (chosen.decision, chosen.reason, chosen.review_on))
        opinion = existing.get(item_id) or AppraisalOpinion(item_id=item_id, stage=stage)
        opinion.decision, opinion.reason = decision, reason
        opinion.review_on = review_on if decision == "postponed" else None
        opinion.actor_id, opinion.decided_at = acting.actor.id, now
        session.add(opinion)
    setattr(batch, f"{stage}_reviewer_id", acting.actor.id)
    batch.updated_at = now  # the batch's row changes: its version is checked (two reviewers at once)
    acting.result = len(ids)


def _tally(session, batch, stage: str) -> dict[str, int]:
    rows = session.scalars(select(AppraisalOpinion.decision)
                           .join(AppraisalItem, AppraisalItem.id == AppraisalOpinion.item_id)
                           .where(AppraisalItem.batch_id == batch.id, AppraisalOpinion.stage == stage))
    return dict(Counter(rows))


def close_stage(acting: Acting) -> None:
    """The stage ends: in the audit log, with how many items it would open, postpone or keep."""
    batch = acting.target
    stage = STAGES[acting.from_status]
    batch.updated_at = utcnow()
    log(acting.session, f"appraisal.{acting.action}", actor=acting.actor, object_type="appraisal_batch",
        object_id=batch.id, ip=acting.ip, archive=batch.archive.code, number=batch.number,
        **_tally(acting.session, batch, stage))


def apply_decision(acting: Acting) -> None:
    """The decision's "open" records become open, in this transaction: queued for the search
    index and each in the audit log. `acting.result`: the ids of the records opened."""
    batch, session = acting.target, acting.session
    record_ids = list(session.scalars(
        select(AppraisalItem.record_id).join(AppraisalOpinion, AppraisalOpinion.item_id == AppraisalItem.id)
        .where(AppraisalItem.batch_id == batch.id, AppraisalOpinion.stage == "final",
               AppraisalOpinion.decision == "open")
        .order_by(AppraisalItem.record_id)))
    opened: list[int] = []
    for start in range(0, len(record_ids), CHUNK):
        for record in session.scalars(select(Record).where(Record.id.in_(record_ids[start:start + CHUNK]))):
            if record.access_level != "open":
                log(session, "record.open", actor=acting.actor, object_type="record", object_id=record.id,
                    ip=acting.ip, access_before=record.access_level, appraisal_batch=batch.number)
                record.access_level = "open"
                opened.append(record.id)
    queue_index(session, opened)
    batch.decided_on = china_today()
    acting.result = opened


def cancelled(acting: Acting) -> None:
    acting.target.updated_at = utcnow()
    log(acting.session, "appraisal.cancel", actor=acting.actor, object_type="appraisal_batch",
        object_id=acting.target.id, ip=acting.ip, note=acting.inputs.note)


def batch_conflict(acting: Acting, stale: bool) -> Conflict:
    return Conflict(_l("鉴定批次刚刚已有新的进展（另一人同时操作），请刷新页面后再操作"))
