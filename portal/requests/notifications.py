"""Emails telling applicants what happened to their request. Written to the mail outbox in the
transition's own transaction; the mail worker sends them afterwards, with retries."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.mail.service import letter, queue_email
from portal.web_util import public_url
from portal.requests.models import RequestEvent, UtilizationRequest

# Emails are in Chinese whatever language the page was in: they are read later, often forwarded
# to family members, and are what the archive's own notices look like.
_SUBJECTS = {
    "submitted": "您的档案利用申请 {number} 已提交",
    "in_review": "您的档案利用申请 {number} 已受理",
    "needs_supplement": "您的档案利用申请 {number} 需要补充材料",
    "approved": "您的档案利用申请 {number} 已审核通过",
    "rejected": "您的档案利用申请 {number} 未获通过",
    "issued": "您申请的档案证明已出具（{number}）",
    "withdrawn": "您的档案利用申请 {number} 已撤回",
}
_LINES = {
    "submitted": "我们已收到您的申请，{archive}将在 {due} 前办结（承诺时限，按工作日计算）。",
    "in_review": "{archive}已受理您的申请，正在调阅和核实档案，预计 {due} 前办结。",
    "needs_supplement": "{archive}需要您补充以下内容：\n\n{note}\n\n请登录平台，在申请详情页提交补充材料。",
    "approved": "您的申请已审核通过，{archive}将尽快出具档案证明。",
    "rejected": "很遗憾，您的申请未获通过。原因：\n\n{note}\n\n如有疑问，请联系{archive}（电话 {phone}）。",
    "issued": "{archive}已出具档案证明，请登录平台下载，或按您选择的方式领取。",
    "withdrawn": "您已撤回这份申请。如果不是您本人操作，请立即修改密码并联系{archive}。",
}


def notify_applicant(session: Session, request: UtilizationRequest, event: RequestEvent) -> None:
    state = event.to_status
    if state not in _SUBJECTS:
        return
    archive = request.issuing_archive
    email_applicant(session, request, _SUBJECTS[state].format(number=request.number),
                    _LINES[state].format(archive=archive.name, due=request.due_date.isoformat(),
                                         note=event.note or "—", phone=archive.phone or "—"))


def email_applicant(session: Session, request: UtilizationRequest, subject: str, text: str) -> None:
    """An email to the applicant about `request`, in the portal's usual frame: greeting, `text`,
    the request number and its link."""
    if request.applicant.role == "peer":  # a peer node's system account: the peer hears through its messages
        return
    body = letter(request.applicant.real_name, text, "", f"申请编号：{request.number}",
                  f"查看进度：{public_url('requests.detail', number=request.number)}")
    queue_email(session, request.applicant.email, subject, body)
