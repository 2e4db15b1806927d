"""The outbox: queued in the caller's transaction, sent by SMTP or into a folder, retried with
back-off while the server is down, given up after MAIL_MAX_ATTEMPTS, never sent twice."""
from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes, policy

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.db import db
from portal.core.clock import utcnow
from portal.mail.models import MailOutbox
from portal.mail.service import SendReport, queue_email, send_pending

SUBJECT = "您的档案利用申请已受理（申请编号 LY-2024-000123），请留意后续办理进度通知"
BODY = "韦秀英 您好：\n\n您于今日提交的婚姻登记档案查询申请已由河池市档案馆受理。\n办结后我们将以邮件通知您。\n"


def _queue(session, to="citizen@example.cn", subject=SUBJECT, body=BODY) -> MailOutbox:
    message = queue_email(session, to, subject, body)
    session.commit()
    return message


def _reload(session, message: MailOutbox) -> MailOutbox:
    return session.get(MailOutbox, message.id, populate_existing=True)


def _make_due(session, message: MailOutbox) -> None:
    """Instead of sleeping through the back-off: the retry time has come."""
    session.execute(update(MailOutbox).where(MailOutbox.id == message.id)
                    .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    session.commit()


def test_a_queued_message_is_delivered_by_smtp_with_chinese_intact(smtp_app, session, smtp_server):
    smtp_server.start()
    message = _queue(session)

    assert send_pending(session, smtp_app.config) == SendReport(sent=1)

    [received] = smtp_server.received
    assert received["Subject"] == SUBJECT
    assert received.get_content() == BODY
    assert received["To"] == "citizen@example.cn"
    assert received["From"].addresses[0].display_name == "档案利用服务平台"
    assert received["From"].addresses[0].addr_spec == "noreply@archives.example.cn"
    assert received["Date"].datetime is not None
    assert received["Message-ID"].endswith("@archives.example.cn>")
    assert received.get_content_charset() == "utf-8"
    message = _reload(session, message)
    assert message.sent_at is not None and message.attempts == 0 and message.claimed_until is None
    assert send_pending(session, smtp_app.config) == SendReport()  # sent once, not again


def test_a_rolled_back_transaction_sends_nothing(smtp_app, session, smtp_server):
    smtp_server.start()
    queue_email(session, "citizen@example.cn", SUBJECT, BODY)
    session.rollback()

    assert send_pending(session, smtp_app.config) == SendReport()
    assert session.scalar(select(func.count()).select_from(MailOutbox)) == 0
    assert smtp_server.received == []


def test_server_down_keeps_the_message_queued_and_it_goes_out_once_the_server_is_up(smtp_app, session,
                                                                                    smtp_server):
    message = _queue(session)
    before = utcnow()

    assert send_pending(session, smtp_app.config) == SendReport(retried=1)  # nothing listens on the port

    message = _reload(session, message)
    assert message.attempts == 1 and message.sent_at is None and message.failed_at is None
    assert message.next_attempt_at >= before + timedelta(seconds=30)
    assert "ConnectionRefusedError" in message.last_error and message.claimed_until is None

    smtp_server.start()
    assert send_pending(session, smtp_app.config) == SendReport()  # not due yet: back-off
    assert smtp_server.received == []

    _make_due(session, message)
    assert send_pending(session, smtp_app.config) == SendReport(sent=1)
    [received] = smtp_server.received
    assert received["Subject"] == SUBJECT
    assert _reload(session, message).sent_at is not None


def test_back_off_doubles_and_is_capped(smtp_app, session):
    smtp_app.config["MAIL_MAX_ATTEMPTS"] = 20
    message = _queue(session)
    waits = []
    for _ in range(9):
        _make_due(session, message)
        start = utcnow()
        send_pending(session, smtp_app.config)
        waits.append(round((_reload(session, message).next_attempt_at - start).total_seconds() / 30))
    assert waits == [1, 2, 4, 8, 16, 32, 64, 120, 120]  # × 30 s, at most one hour


def test_gives_up_after_max_attempts(smtp_app, session, smtp_server, caplog):
    smtp_app.config["MAIL_MAX_ATTEMPTS"] = 3
    message = _queue(session)
    reports = []
    for _ in range(3):
        _make_due(session, message)
        reports.append(send_pending(session, smtp_app.config))

    assert reports == [SendReport(retried=1), SendReport(retried=1), SendReport(failed=1)]
    message = _reload(session, message)
    assert message.attempts == 3 and message.failed_at is not None and message.sent_at is None
    assert any(r.levelname == "ERROR" and "given up" in r.getMessage() for r in caplog.records)

    smtp_server.start()
    _make_due(session, message)
    assert send_pending(session, smtp_app.config) == SendReport()  # a given-up message stays given up
    assert smtp_server.received == []


def test_a_refused_recipient_does_not_hold_up_the_others(smtp_app, session, smtp_server):
    smtp_server.handler.refuse.add("nobody@example.cn")
    smtp_server.start()
    refused = _queue(session, to="nobody@example.cn")
    _queue(session, to="citizen@example.cn")

    assert send_pending(session, smtp_app.config) == SendReport(sent=1, retried=1)
    assert [m["To"] for m in smtp_server.received] == ["citizen@example.cn"]
    refused = _reload(session, refused)
    assert refused.attempts == 1 and "SMTPRecipientsRefused" in refused.last_error


def test_server_down_stops_the_round_after_one_attempt(smtp_app, session):
    """The other messages would time out the same way; they keep their attempts for later."""
    first, second = _queue(session), _queue(session)
    assert send_pending(session, smtp_app.config) == SendReport(retried=1)
    assert (_reload(session, first).attempts, _reload(session, second).attempts) == (1, 0)


def test_folder_transport_writes_a_parseable_eml(app, session, tmp_path):
    folder = tmp_path / "outgoing" / "mail"  # does not exist yet
    app.config.update(MAIL_TRANSPORT="folder", MAIL_FOLDER=folder)
    message = _queue(session)

    assert send_pending(session, app.config) == SendReport(sent=1)

    files = list(folder.iterdir())
    assert [f.suffix for f in files] == [".eml"] and files[0].name.endswith(f"-{message.id}.eml")
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == SUBJECT and parsed.get_content() == BODY
    assert parsed["To"] == "citizen@example.cn"


def test_a_message_claimed_by_another_sender_is_not_sent_twice(smtp_app, session, smtp_server):
    smtp_server.start()
    message = _queue(session)
    session.execute(update(MailOutbox).where(MailOutbox.id == message.id)
                    .values(claimed_until=utcnow() + timedelta(minutes=1)))  # another process is sending it
    session.commit()

    assert send_pending(session, smtp_app.config) == SendReport()
    assert smtp_server.received == [] and _reload(session, message).attempts == 0

    # That sender died mid-send: once its claim has lapsed, the message goes out.
    session.execute(update(MailOutbox).where(MailOutbox.id == message.id)
                    .values(claimed_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert send_pending(session, smtp_app.config) == SendReport(sent=1)
    assert len(smtp_server.received) == 1


def test_two_senders_at_once_deliver_each_message_exactly_once(smtp_app, session, smtp_server):
    smtp_server.start()
    for n in range(12):
        _queue(session, to=f"citizen{n}@example.cn")
    engine, config = db.engine, smtp_app.config
    start = threading.Barrier(2)
    reports: list[SendReport] = []

    def sender() -> None:
        with Session(engine, expire_on_commit=False) as own:
            start.wait()
            reports.append(send_pending(own, config))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sum(r.sent for r in reports) == 12
    delivered = sorted(m["To"] for m in smtp_server.received)
    assert delivered == sorted(f"citizen{n}@example.cn" for n in range(12))
    assert session.scalar(select(func.count()).select_from(MailOutbox).where(MailOutbox.sent_at.is_(None))) == 0
