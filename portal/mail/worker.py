"""Sending the outbox in the background of each serving process: every MAIL_SEND_INTERVAL
seconds, and at once when a transaction that queued mail commits (`kick`)."""
from __future__ import annotations

from flask import Flask

from portal.core.background import Worker, in_each_process
from portal.db import db
from portal.mail.service import send_pending
from portal.mail.wake import kick, running  # noqa: F401 (kick: what a commit that queued mail calls)


class MailWorker(Worker):
    name = "mail-sender"
    failure = "sending mail failed"

    def start(self) -> None:
        running.add(self)
        self.wake()  # send at once what waited while no process was running
        super().start()

    def stop(self) -> None:
        running.discard(self)
        super().stop()

    def work(self) -> None:
        send_pending(db.session, self.app.config)


def start_mail_worker_in_each_process(app: Flask) -> None:
    """A MailWorker in every serving process (portal.core.background.in_each_process). Test apps send
    explicitly, unless they set MAIL_WORKER."""
    in_each_process(app, "mail_worker", lambda: MailWorker(app, app.config["MAIL_SEND_INTERVAL"]),
                    enabled=lambda: not app.config.get("TESTING") or bool(app.config.get("MAIL_WORKER")))
