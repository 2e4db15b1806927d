"""The background sender of a serving process, and `portal send-mail`."""
from __future__ import annotations

import threading
import time

from portal.mail.cli import send_mail_command
from portal.mail.service import queue_email
from portal.mail.worker import MailWorker, kick, start_mail_worker_in_each_process


def _wait_for(condition, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _mail_threads() -> int:
    return sum(t.name == "mail-sender" for t in threading.enumerate())


def test_worker_sends_on_start_and_at_once_after_a_kick(smtp_app, session, smtp_server):
    smtp_server.start()
    queue_email(session, "first@example.cn", "第一封", "启动时发送。")
    session.commit()
    worker = MailWorker(smtp_app, interval=3600)  # the timer never fires during the test
    worker.start()
    try:
        assert _wait_for(lambda: len(smtp_server.received) == 1)  # what waited is sent on start
        queue_email(session, "second@example.cn", "第二封", "提交后立即发送。")
        session.commit()  # after_commit → kick() → the worker wakes
        assert _wait_for(lambda: len(smtp_server.received) == 2)
    finally:
        worker.stop()
    assert [m["Subject"] for m in smtp_server.received] == ["第一封", "第二封"]
    assert _mail_threads() == 0


def test_worker_survives_a_failing_round(app, session, smtp_server, caplog):
    app.config["MAIL_TRANSPORT"] = "pigeon"  # send_pending raises on every round
    worker = MailWorker(app, interval=3600)
    worker.start()
    try:
        assert _wait_for(lambda: any("sending mail failed" in r.getMessage() for r in caplog.records))
        caplog.clear()
        kick()
        assert _wait_for(lambda: any("sending mail failed" in r.getMessage() for r in caplog.records))
    finally:
        worker.stop()


def test_kick_without_a_worker_does_nothing(app, session):
    kick()
    queue_email(session, "citizen@example.cn", "主题", "正文")
    session.commit()  # the kick finds no worker and returns


def test_test_apps_start_no_worker_unless_asked(app, client):
    start_mail_worker_in_each_process(app)
    client.get("/healthz")
    assert "mail_worker" not in app.extensions and _mail_threads() == 0


def test_serving_process_starts_one_worker_on_its_first_request(app, client):
    app.config.update(MAIL_WORKER=True, MAIL_SEND_INTERVAL=3600)
    start_mail_worker_in_each_process(app)
    try:
        client.get("/healthz")
        client.get("/healthz")
        assert _mail_threads() == 1
    finally:
        app.extensions["mail_worker"].stop()
    assert _mail_threads() == 0


def test_send_mail_command_prints_a_summary(smtp_app, session, smtp_server):
    smtp_server.handler.refuse.add("nobody@example.cn")
    smtp_server.start()
    for to in ("a@example.cn", "nobody@example.cn", "b@example.cn"):
        queue_email(session, to, "档案证明已出具", "请登录平台下载。")
    session.commit()

    result = smtp_app.test_cli_runner().invoke(send_mail_command)

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "已发送 2 封，失败 0 封，稍后重试 1 封 (sent 2, failed 0, retry later 1)"
    assert len(smtp_server.received) == 2


def test_send_mail_command_refuses_an_unknown_transport(app):
    app.config["MAIL_TRANSPORT"] = "pigeon"
    result = app.test_cli_runner().invoke(send_mail_command)
    assert result.exit_code == 2 and "MAIL_TRANSPORT" in result.output
