"""The staff side's steps: verification tasks of holding archives (created when a request is
accepted, answered verified or not found), claims ("I'm handling this") and internal notes.
Every step checks portal.review.permissions, commits, and tells a late second actor who was first."""
from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.archives.models import Archive
from portal.audit.service import log
from portal.core.i18n import N_
from portal.core.errors import ValidationFailed
from portal.core.clock import utcnow
from portal.core import workdays
from portal.core import clock
from portal.requests import workflow
from portal.requests.labels import TASK_ACTION_LABELS
from portal.requests.access import involved_archive_ids, staff_role
from portal.requests.applying import MAX_SEARCH_ARCHIVES, Upload, due_date, file_row
from portal.requests.models import RequestEvent, RequestSearchArchive, UtilizationRequest
from portal.requests.service import holding_archives
from portal.core.uploads import UploadRejected, check_upload, store_with
from portal.requests.workflow import Conflict, NotAllowed
from portal.review.models import RequestNote, VerificationTask
from portal.review.permissions import can

REJECT_REASONS = {
    "proof": N_("证明材料不足或无效"),
    "no_right": N_("申请人无权利用该档案"),
    "closed": N_("档案尚在控制使用期内"),
    "not_held": N_("各馆均未保存所申请的档案"),
    "other": N_("其他原因"),
}


# ---- verification tasks -------------------------------------------------------------------------

def create_tasks(session: Session, request: UtilizationRequest, _event: RequestEvent) -> None:
    """On accept: one task per archive holding the records (the issuing archive's own records
    too: its clerk verifies them the same way), or per archive asked to search."""
    today = clock.china_today()
    calendar = workdays.load_calendar(current_app.config["HOLIDAYS_FILE"])
    existing = {task.holding_archive_id for task in request.tasks}
    for archive in holding_archives(request):
        if archive.id in existing:
            continue
        session.add(VerificationTask(
            public_id=secrets.token_urlsafe(12), request=request, holding_archive=archive, status="open",
            due_date=calendar.add_working_days(today, archive.task_due_working_days)))


def cancel_open_tasks(session: Session, request: UtilizationRequest, _event: RequestEvent) -> None:
    """On withdraw or reject: the holding archives need not answer any more, so the open tasks leave
    their queues. One UPDATE of the open ones: a task answered at this moment keeps its answer
    rather than failing the citizen's withdrawal."""
    session.execute(update(VerificationTask)
                    .where(VerificationTask.request_id == request.id, VerificationTask.status == "open")
                    .values(status="cancelled", claimed_by_id=None, claimed_at=None,
                            version=VerificationTask.version + 1)
                    .execution_options(synchronize_session=False))
    for task in request.tasks:
        session.expire(task)


def all_tasks_answered(_session: Session, request: UtilizationRequest) -> None:
    """Approval waits until every holding archive has answered."""
    waiting = [task.holding_archive.name for task in request.tasks if task.status == "open"]
    if waiting:
        raise Conflict(_l("还在等待馆藏馆核实：%(archives)s", archives="、".join(waiting)))


def register() -> None:
    """Hook the review steps into the request workflow (called once by create_app)."""
    workflow.on_transition("accept", create_tasks)
    workflow.on_transition("withdraw", cancel_open_tasks)
    workflow.on_transition("reject", cancel_open_tasks)
    workflow.guard("approve", all_tasks_answered)


def accept(session: Session, request: UtilizationRequest, actor, note: str = "", *,
           archives: list[str] | None = None, expected_version: int | None = None) -> RequestEvent:
    """受理. For "please search for me" the clerk decides where to search: `archives` (codes), when
    given, replaces the archives the applicant named, and each of them gets a task."""
    if archives is not None:
        workflow.check(session, request, "accept", actor, expected_version)  # before anything changes
        _choose_search_archives(session, request, archives)
    try:
        return workflow.apply(session, request, "accept", actor, note, expected_version=expected_version)
    except BaseException:
        session.rollback()  # the choice of archives, too, stays unsaved
        raise



def _choose_search_archives(session: Session, request: UtilizationRequest, codes: list[str]) -> None:
    if request.kind != "search":
        raise ValidationFailed({"archives": _l("只有“请档案馆代为查找”的申请可以选择查找的档案馆")})
    codes = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    if not codes:
        raise ValidationFailed({"archives": _l("请至少选择一个档案馆")})
    if len(codes) > MAX_SEARCH_ARCHIVES:
        raise ValidationFailed({"archives": _l("最多选择 %(n)s 个档案馆", n=MAX_SEARCH_ARCHIVES)})
    found = {a.code: a for a in session.scalars(select(Archive).where(Archive.code.in_(codes)))}
    if unknown := [code for code in codes if code not in found]:
        raise ValidationFailed({"archives": _l("未知的档案馆代码：%(codes)s", codes="、".join(unknown)[:200])})
    # Keep the rows of archives still chosen: a delete and an insert of the same key in one flush
    # would run in the wrong order for the primary key.
    request.search_archives[:] = [entry for entry in request.search_archives if entry.archive.code in found]
    kept = {entry.archive.code for entry in request.search_archives}
    request.search_archives.extend(RequestSearchArchive(archive=found[code]) for code in codes if code not in kept)
    # Other archives searching means the longer promise, counted from the submission as before.
    request.due_date = due_date(request, request.submitted_at.astimezone(clock.CHINA_TIME).date())


def get_task(session: Session, viewer, public_id: str) -> VerificationTask:
    """A task for the staff of its holding archive, of the issuing archive, and admins; else LookupError."""
    task = session.scalar(select(VerificationTask).where(VerificationTask.public_id == public_id))
    if task is None:
        raise LookupError(public_id)
    if staff_role(viewer, {task.holding_archive_id, task.request.issuing_archive_id}) is None:
        raise LookupError(public_id)
    return task


def answer_task(session: Session, task: VerificationTask, action: str, actor, note: str = "",
                copy: Upload | None = None, expected_version: int | None = None) -> VerificationTask:
    """The holding archive's answer: "verify" (the certified copy attached) or "not_found" (a note
    says what was searched). It goes on the request's timeline too."""
    if action not in TASK_ACTION_LABELS:
        raise workflow.UnknownAction(action)
    if not can(actor, action, task):
        raise NotAllowed(action)
    if expected_version is not None and expected_version != task.version:
        raise _task_conflict(task)
    if task.status != "open" or task.request.status != "in_review":
        raise _task_conflict(task) if task.status != "open" else Conflict(
            _l("申请当前不在审核中，无需核实"))
    note = (note or "").strip()
    errors: dict[str, str] = {}
    checked = None
    if copy is not None:
        try:
            checked = check_upload(copy.filename, copy.stream)
        except UploadRejected as exc:
            errors["copy"] = exc.message
    if action == "verify" and checked is None and "copy" not in errors:
        errors["copy"] = _l("请上传核实后的档案复制件（PDF、JPG 或 PNG）")
    if action == "not_found" and copy is not None:
        errors["copy"] = _l("报告未找到时不附复制件")
    if action == "not_found" and not note:
        errors["note"] = _l("请说明查找了哪些范围")
    if len(note) > 2000:
        errors["note"] = _l("说明不能超过 2000 字")
    if errors:
        raise ValidationFailed(errors)

    folder = current_app.config["UPLOAD_FOLDER"]
    try:
        # Hold the request's row until commit (PostgreSQL), so that a withdrawal or rejection at
        # the same moment either came first and is seen here, or waits for this answer.
        if session.scalar(select(UtilizationRequest.status).where(UtilizationRequest.id == task.request_id)
                          .with_for_update()) != "in_review":
            raise Conflict(_l("申请当前不在审核中，无需核实"))
        if checked is not None:
            task.copy_file = file_row(actor, "certified_copy", checked, store_with(session, checked.data, folder),
                                      request=task.request)
        task.status = "verified" if action == "verify" else "not_found"
        task.note, task.answered_by_id, task.answered_at = note, actor.id, utcnow()
        task.claimed_by_id = task.claimed_at = None
        session.add(RequestEvent(request=task.request, actor_id=actor.id, actor_role=actor.role, action=action,
                                 from_status=task.request.status, to_status=task.request.status,
                                 note=f"{task.holding_archive.name}：{note}" if note else task.holding_archive.name))
        session.commit()
    except StaleDataError:
        session.rollback()  # the copy's file goes with it (store_with)
        session.refresh(task)
        raise _task_conflict(task) from None
    except BaseException:
        session.rollback()
        raise
    # Only ids were set: the loaded relationships would still show the task unanswered and claimed.
    session.expire(task, ["answered_by", "claimed_by"])
    return task


def _task_conflict(task: VerificationTask) -> Conflict:
    if task.status == "cancelled":
        return Conflict(_l("申请已撤回或不予通过，这项协办任务已取消"))
    if task.answered_by is not None:
        return Conflict(_l("这项协办任务已由%(name)s处理", name=task.answered_by.real_name))
    return Conflict(_l("这项协办任务刚刚有了变化，请查看最新状态后再操作"))


# ---- claims ---------------------------------------------------------------------------------------

def claim(session: Session, obj: UtilizationRequest | VerificationTask, actor, *, release: bool = False,
          to_user=None, ip: str = "", expected_version: int | None = None) -> None:
    """"I'm handling this" on a request or a task; `release` gives it back; an admin may hand it
    `to_user` (reassign). A claim held by someone else is never taken over silently."""
    action = "reassign" if to_user is not None else "release" if release else "claim"
    if not can(actor, action, obj):
        raise NotAllowed(action)
    if expected_version is not None and expected_version != obj.version:
        raise Conflict(_l("已有新的变化，请查看最新状态后再操作"))
    request = obj.request if isinstance(obj, VerificationTask) else obj
    finished = not request.is_open or (isinstance(obj, VerificationTask) and obj.status != "open")
    if finished and action != "release":
        raise Conflict(_l("已经办结，无需认领"))
    holder = obj.claimed_by
    if action == "claim" and holder is not None and holder.id != actor.id:
        raise Conflict(_l("已由%(name)s认领", name=holder.real_name))
    if action == "release" and holder is not None and holder.id != actor.id and actor.role != "admin":
        raise Conflict(_l("已由%(name)s认领，只有本人或管理员可以释放", name=holder.real_name))
    if action == "reassign" and not may_work_on(to_user, obj):
        raise ValidationFailed({"to": _l("只能指派给该档案馆的工作人员")})
    new_holder = to_user if action == "reassign" else (actor if action == "claim" else None)
    obj.claimed_by_id, obj.claimed_at = (new_holder.id, utcnow()) if new_holder else (None, None)
    kind = "task" if isinstance(obj, VerificationTask) else "request"
    log(session, action, actor=actor, object_type=kind, ip=ip,
        object_id=obj.public_id if kind == "task" else obj.number,
        to=new_holder.id if new_holder else None)
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        session.refresh(obj)
        holder = obj.claimed_by
        raise Conflict(_l("已由%(name)s认领", name=holder.real_name) if holder else
                       _l("已有新的变化，请查看最新状态后再操作")) from None
    # Only the id was set: the loaded `claimed_by` would still name the previous holder.
    session.expire(obj, ["claimed_by"])


def may_work_on(user, obj) -> bool:
    """An active member of staff who could claim it themselves: for a request, staff of the issuing
    archive; for a task, a clerk of the holding archive (reviewers do not verify)."""
    if user is None or user.role not in ("clerk", "reviewer") or not user.is_active:
        return False
    return can(user, "claim", obj)


# ---- internal notes -------------------------------------------------------------------------------

def add_note(session: Session, request: UtilizationRequest, actor, text: str) -> RequestNote:
    if not can(actor, "note", request):
        raise NotAllowed("note")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"text": _l("请填写备注内容")})
    if len(text) > 2000:
        raise ValidationFailed({"text": _l("备注不能超过 2000 字")})
    note = RequestNote(request_id=request.id, author_id=actor.id, text=text)
    session.add(note)
    session.commit()
    return note


def notes_of(session: Session, viewer, request: UtilizationRequest) -> list[RequestNote]:
    """Internal notes, for staff of the issuing and holding archives and admins; never the citizen."""
    if staff_role(viewer, involved_archive_ids(request)) is None:
        return []
    return list(session.scalars(select(RequestNote).where(RequestNote.request_id == request.id)
                                .order_by(RequestNote.id)))
