"""Queueing email in the caller's transaction, and sending what is due with retries."""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from portal.core.after_commit import after_commit
from portal.core.clock import utcnow
from portal.mail.models import MailOutbox
from portal.mail.transports import transport_for
from portal.mail.wake import kick

log = logging.getLogger(__name__)

# Long enough for one message's SMTP conversation; a sender that dies mid-send frees it after this.
CLAIM = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
# The server refused this one message; anything else (connection refused, time-out, log-in failed,
# disk full) would fail the rest of the batch the same way, so the rest waits for the next round.
_THIS_MESSAGE_ONLY = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, ValueError)


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    failed: int = 0  # gave up: MAIL_MAX_ATTEMPTS reached
    retried: int = 0  # failed this time, tried again later


def letter(name: str, *lines: str) -> str:
    """An email body in the portal's usual frame: greeting `name`, the lines, the footer."""
    return "\n".join([f"{name}，您好：", "", *lines, "", "此邮件由档案利用服务平台自动发送，请勿直接回复。"])


def queue_email(session: Session, to: str, subject: str, body: str) -> MailOutbox:
    """Add a message to the caller's transaction; it is sent once that commits, never if it rolls back."""
    message = MailOutbox(to_address=to, subject=subject, body=body, attempts=0, next_attempt_at=utcnow(),
                         last_error="")
    if to.endswith(".invalid"):  # reserved (RFC 2606): a walk-in without email (portal/admin/counter.py)
        message.failed_at, message.last_error = utcnow(), "no address (.invalid)"
    session.add(message)
    if message.failed_at is None:
        after_commit(session, kick)  # this process's sender wakes now instead of at its next tick
    return message


def _due(now):
    return (MailOutbox.sent_at.is_(None), MailOutbox.failed_at.is_(None), MailOutbox.next_attempt_at <= now,
            or_(MailOutbox.claimed_until.is_(None), MailOutbox.claimed_until < now))


def _claim(session: Session, outbox_id: int) -> bool:
    """Take the message for CLAIM, if it is still due and no other sender holds it. The condition is
    checked by the UPDATE itself, so of two senders (threads or processes) exactly one gets rowcount 1."""
    now = utcnow()
    result = session.execute(update(MailOutbox).where(MailOutbox.id == outbox_id, *_due(now))
                             .values(claimed_until=now + CLAIM)
                             .execution_options(synchronize_session=False))
    session.commit()
    return result.rowcount == 1


def build_message(outbox: MailOutbox, config: dict) -> EmailMessage:
    """Plain-text UTF-8. The Message-ID is the same on every attempt, so a message sent twice
    (the process died between sending and recording it) is recognisable as one."""
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = outbox.to_address
    message["Subject"] = outbox.subject
    message["Date"] = format_datetime(outbox.created_at)
    domain = parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<outbox-{outbox.id}-{int(outbox.created_at.timestamp() * 1e6)}@{domain}>"
    message.set_content(outbox.body, cte="base64")  # 7-bit safe: any relay passes it unchanged
    return message


def _record_failure(outbox: MailOutbox, exc: Exception, max_attempts: int) -> bool:
    """Count the attempt and schedule the next; returns True when this was the last one."""
    outbox.attempts += 1
    outbox.last_error = f"{type(exc).__name__}: {exc}"[:500]
    outbox.claimed_until = None
    if outbox.attempts >= max_attempts:
        outbox.failed_at = utcnow()
        log.error("mail %s to %s given up after %s attempts: %s",
                  outbox.id, outbox.to_address, outbox.attempts, outbox.last_error)
        return True
    outbox.next_attempt_at = utcnow() + min(FIRST_RETRY * 2 ** (outbox.attempts - 1), LAST_RETRY)
    log.warning("mail %s to %s not sent (attempt %s), retrying at %s: %s",
                outbox.id, outbox.to_address, outbox.attempts, outbox.next_attempt_at, outbox.last_error)
    return False


def send_pending(session: Session, config: dict, limit: int | None = 50) -> SendReport:
    """Send the messages that are due, oldest first (at most `limit`; None: all). Commits on
    `session`, so give it a session of its own (the worker's, the command's). A message is sent at
    least once: if the process dies after the server accepted it, it is sent again after CLAIM."""
    transport = transport_for(config)  # a settings error raises here, before anything is claimed
    ids = session.scalars(select(MailOutbox.id).where(*_due(utcnow()))
                          .order_by(MailOutbox.next_attempt_at, MailOutbox.id).limit(limit)).all()
    session.commit()  # claims run in short transactions of their own
    sent = failed = retried = 0
    for outbox_id in ids:
        if not _claim(session, outbox_id):
            continue  # another sender has it, or sent it meanwhile
        outbox = session.get(MailOutbox, outbox_id, populate_existing=True)
        try:
            transport.send(build_message(outbox, config), outbox_id)
        except Exception as exc:  # noqa: BLE001 — every failure is recorded on the message and retried
            if _record_failure(outbox, exc, config["MAIL_MAX_ATTEMPTS"]):
                failed += 1
            else:
                retried += 1
            session.commit()
            if not isinstance(exc, _THIS_MESSAGE_ONLY):
                break
            continue
        outbox.sent_at = utcnow()
        outbox.claimed_until = None
        session.commit()
        sent += 1
    return SendReport(sent=sent, failed=failed, retried=retried)
