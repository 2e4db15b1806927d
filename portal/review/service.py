"""The staff side's guards and steps, which portal.actions declares and runs: verification tasks of
holding archives (created when a request is accepted, answered verified or not found), claims
("I'm handling this") and internal notes; and reading tasks and notes. Nothing here checks who
may act or commits: the dispatcher does both, once, for every action."""
from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.accounts.identity import mark_verified, verified_elsewhere
from portal.archives.models import Archive
from portal.audit.service import log
from portal.certificates.service import certificate_content
from portal.core import clock, workdays
from portal.core.masking import same_name
from portal.core.punctuation import punct
from portal.core.acting import Acting
from portal.core.clock import utcnow
from portal.core.errors import Conflict, ValidationFailed
from portal.core.uploads import store_with
from portal.policy import may_work_on, sees_staff_side, visible
from portal.requests.applying import MAX_SEARCH_ARCHIVES, due_date, file_row
from portal.requests.models import RequestSearchArchive, UtilizationRequest, holding_archives
from portal.review.models import RequestNote, VerificationTask


# ---- the applicant's identity -------------------------------------------------------------------

def identity_checked(acting: Acting) -> None:
    """Guard of `accept`: an applicant whose identity is still self-asserted is accepted only by a
    clerk who says they checked the uploaded ID card against the application."""
    applicant = acting.request.applicant
    if applicant.is_verified:
        return
    if not acting.inputs.identity_checked:
        raise ValidationFailed({"identity_checked": _l("申请人的身份尚未核验：请核对其上传的身份证件与申请信息一致后勾选确认")})
    if verified_elsewhere(acting.session, applicant):
        raise ValidationFailed({"identity_checked": _l(
            "该身份证号码已由另一个账号实名核验：请勿据此受理，请申请人携带身份证到查档大厅核查")})


def verify_applicant(acting: Acting) -> None:
    """Step of `accept`: the clerk checked the ID card, so the account is verified (recorded)."""
    mark_verified(acting.session, acting.request.applicant, method="request", actor=acting.actor, ip=acting.ip)

SUBJECT_CHECKS = {"match": _l("一致"), "no_match": _l("不一致，请核对"), "no_id": _l("档案未载身份证号码，请核对姓名")}


def subject_check(req: UtilizationRequest, record) -> str:
    """Whether a requested record is about the person the request names, for the clerk at
    acceptance: "match" (ID number and name), "no_match", or "no_id" (the record carries no ID
    number: compare the names, shown in full on the staff page). The applicant is never told."""
    if not record.subject_id_hash:
        return "no_id"
    same = record.subject_id_hash == req.subject_id_hash
    if record.subject_name:
        same = same and same_name(req.subject_name, record.subject_name)
    return "match" if same else "no_match"


# ---- verification tasks -------------------------------------------------------------------------

def create_tasks(acting: Acting) -> None:
    """On accept: one task per archive holding the records (the issuing archive's own records
    too: its clerk verifies them the same way), or per archive asked to search."""
    request = acting.request
    today = clock.china_today()
    calendar = workdays.load_calendar(current_app.config["HOLIDAYS_FILE"])
    existing = {task.holding_archive_id for task in request.tasks}
    for archive in holding_archives(request):
        if archive.id in existing:
            continue
        acting.session.add(VerificationTask(
            public_id=secrets.token_urlsafe(12), request=request, holding_archive=archive, status="open",
            due_date=calendar.add_working_days(today, archive.task_due_working_days)))


def cancel_open_tasks(acting: Acting) -> None:
    """On withdraw or reject: the holding archives need not answer any more, so the open tasks leave
    their queues. One UPDATE of the open ones: a task answered at this moment keeps its answer
    rather than failing the citizen's withdrawal."""
    request = acting.request
    acting.session.execute(update(VerificationTask)
                           .where(VerificationTask.request_id == request.id, VerificationTask.status == "open")
                           .values(status="cancelled", claimed_by_id=None, claimed_at=None,
                                   version=VerificationTask.version + 1)
                           .execution_options(synchronize_session=False))
    for task in request.tasks:
        acting.session.expire(task)


def all_tasks_answered(acting: Acting) -> None:
    """Approval waits until every holding archive has answered."""
    waiting = [task.holding_archive.name for task in acting.request.tasks if task.status == "open"]
    if waiting:
        raise Conflict(_l("还在等待馆藏馆核实：%(archives)s", archives=punct("list").join(waiting)))


def choose_search_archives(acting: Acting) -> None:
    """For "please search for me" the clerk decides where to search: the archives chosen on accept
    replace those the applicant named, and each gets a task."""
    codes = acting.inputs.archives
    if codes is None:
        return
    request = acting.request
    if request.kind != "search":
        raise ValidationFailed({"archives": _l("只有“请档案馆代为查找”的申请可以选择查找的档案馆")})
    codes = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    if not codes:
        raise ValidationFailed({"archives": _l("请至少选择一个档案馆")})
    if len(codes) > MAX_SEARCH_ARCHIVES:
        raise ValidationFailed({"archives": _l("最多选择 %(n)s 个档案馆", n=MAX_SEARCH_ARCHIVES)})
    found = {a.code: a for a in acting.session.scalars(select(Archive).where(Archive.code.in_(codes)))}
    if unknown := [code for code in codes if code not in found]:
        raise ValidationFailed({"archives": _l("未知的档案馆代码：%(codes)s", codes=punct("list").join(unknown)[:200])})
    # Keep the rows of archives still chosen: a delete and an insert of the same key in one flush
    # would run in the wrong order for the primary key.
    request.search_archives[:] = [entry for entry in request.search_archives if entry.archive.code in found]
    kept = {entry.archive.code for entry in request.search_archives}
    request.search_archives.extend(RequestSearchArchive(archive=found[code]) for code in codes if code not in kept)
    # Other archives searching means the longer promise, counted from the submission as before.
    request.due_date = due_date(request, request.submitted_at.astimezone(clock.CHINA_TIME).date())


def task_is_open(acting: Acting) -> None:
    """A task is answered once, while its request is in review."""
    task = acting.target
    if task.status != "open":
        raise task_conflict(acting)
    if task.request.status != "in_review":
        raise Conflict(_l("申请当前不在审核中，无需核实"))


def answer_task(acting: Acting) -> None:
    """The holding archive's answer: "verify" (the certified copy attached) or "not_found" (a note
    says what was searched). The dispatcher puts it on the request's timeline too."""
    session, task, actor = acting.session, acting.target, acting.actor
    # Hold the request's row until commit (PostgreSQL), so that a withdrawal or rejection at the
    # same moment either came first and is seen here, or waits for this answer.
    if session.scalar(select(UtilizationRequest.status).where(UtilizationRequest.id == task.request_id)
                      .with_for_update()) != "in_review":
        raise Conflict(_l("申请当前不在审核中，无需核实"))
    checked = acting.inputs.checked
    if checked is not None:
        folder = current_app.config["UPLOAD_FOLDER"]
        task.copy_file = file_row(actor, "certified_copy", checked, store_with(session, checked.data, folder),
                                  request=task.request)
    task.status = "verified" if acting.action == "verify" else "not_found"
    task.note, task.answered_by_id, task.answered_at = acting.inputs.note, actor.id, utcnow()
    task.claimed_by_id = task.claimed_at = None


def answer_note(acting: Acting) -> str:
    """The timeline line of an answer: which archive, and what it said."""
    name, note = acting.target.holding_archive.name, acting.inputs.note
    return f"{name}：{note}" if note else name


def task_conflict(acting: Acting, stale: bool = False) -> Conflict:
    task = acting.target
    if task.status == "cancelled":
        return Conflict(_l("申请已撤回或不予通过，这项协办任务已取消"))
    if task.answered_by is not None:
        return Conflict(_l("这项协办任务已由%(name)s处理", name=task.answered_by.real_name))
    return Conflict(_l("这项协办任务刚刚有了变化，请查看最新状态后再操作"))


def get_task(session: Session, viewer, public_id: str) -> VerificationTask:
    """A task for the staff of its holding archive, of the issuing archive, and admins; else LookupError."""
    task = session.scalar(visible(viewer, select(VerificationTask), VerificationTask)
                          .where(VerificationTask.public_id == public_id))
    if task is None:
        raise LookupError(public_id)
    return task


# ---- claims ---------------------------------------------------------------------------------------

def claimable(acting: Acting) -> None:
    """A claim held by someone else is never taken over silently; finished work is not claimed."""
    obj, actor, action = acting.target, acting.actor, acting.action
    request = acting.request
    finished = not request.is_open or (isinstance(obj, VerificationTask) and obj.status != "open")
    if finished and action != "release":
        raise Conflict(_l("已经办结，无需认领"))
    holder = obj.claimed_by
    if action == "claim" and holder is not None and holder.id != actor.id:
        raise Conflict(_l("已由%(name)s认领", name=holder.real_name))
    if action == "release" and holder is not None and holder.id != actor.id and actor.role != "admin":
        raise Conflict(_l("已由%(name)s认领，只有本人或管理员可以释放", name=holder.real_name))


def assignee_works_there(acting: Acting) -> None:
    to_user = acting.inputs.to
    if to_user is None:
        raise ValidationFailed({"to": _l("请选择工作人员")})
    if not may_work_on(to_user, acting.target):
        raise ValidationFailed({"to": _l("只能指派给该档案馆的工作人员")})


def set_claim(acting: Acting) -> None:
    obj, action = acting.target, acting.action
    new_holder = acting.inputs.to if action == "reassign" else (acting.actor if action == "claim" else None)
    obj.claimed_by_id, obj.claimed_at = (new_holder.id, utcnow()) if new_holder else (None, None)
    kind = "task" if isinstance(obj, VerificationTask) else "request"
    log(acting.session, action, actor=acting.actor, object_type=kind, ip=acting.ip,
        object_id=obj.public_id if kind == "task" else obj.number, to=new_holder.id if new_holder else None)


def claim_conflict(acting: Acting, stale: bool) -> Conflict:
    """A version the page did not show: something changed. Lost at commit: say who holds it now."""
    holder = acting.target.claimed_by
    return Conflict(_l("已由%(name)s认领", name=holder.real_name) if holder and stale else
                    _l("已有新的变化，请查看最新状态后再操作"))


# ---- internal notes -------------------------------------------------------------------------------

def add_note(acting: Acting) -> None:
    note = RequestNote(request_id=acting.target.id, author_id=acting.actor.id, text=acting.inputs.text)
    acting.session.add(note)
    acting.result = note


def notes_of(session: Session, viewer, request: UtilizationRequest) -> list[RequestNote]:
    """Internal notes, for staff of the issuing and holding archives and admins; never the citizen."""
    if not sees_staff_side(viewer, request):
        return []
    return list(session.scalars(select(RequestNote).where(RequestNote.request_id == request.id)
                                .order_by(RequestNote.id)))


# ---- issuing: the certificate due, what it will say ------------------------------------------------

PREVIEW_SERIAL = "—"  # the serial and code are drawn when it is signed


def awaits_certificate(request: UtilizationRequest) -> bool:
    """`issue`'s state beyond its status: approved, or issued with its certificate revoked and no
    valid one left (a new one, with a new serial, replaces it). The queue's 待出证 tab asks the
    same in SQL (portal.review.queue._reissue)."""
    if request.status == "approved":
        return True
    statuses = {c.status for c in request.certificates}
    return request.status == "issued" and "revoked" in statuses and "valid" not in statuses


def replaced_certificate(request: UtilizationRequest):
    """The certificate a re-issued one replaces: the request's latest revoked certificate (None: none was)."""
    return next((c for c in reversed(request.certificates) if c.status == "revoked"), None)


def certificate_preview(request: UtilizationRequest):
    """What the certificate will say if it is issued today: the content the PDF is printed from
    (portal.certificates.service.certificate_content), without a serial or code."""
    return certificate_content(request, PREVIEW_SERIAL, PREVIEW_SERIAL, clock.china_today())
