"""Sending the outbox in the background of each serving process: every MAIL_SEND_INTERVAL
seconds, and at once when a transaction that queued mail commits (`kick`)."""
from __future__ import annotations

from flask import Flask

from portal.db import db
from portal.workers import Worker, in_each_process

_workers: set[MailWorker] = set()  # the running workers of this process, for kick()


def kick() -> None:
    """Wake this process's mail workers. Runs right after a request's commit: it only sets events,
    so it never blocks and never raises; without a worker it does nothing (the mail waits for
    the next `portal send-mail` or worker tick)."""
    for worker in tuple(_workers):
        worker.wake()


class MailWorker(Worker):
    name = "mail-sender"
    failure = "sending mail failed"

    def start(self) -> None:
        _workers.add(self)
        self.wake()  # send at once what waited while no process was running
        super().start()

    def stop(self) -> None:
        _workers.discard(self)
        super().stop()

    def work(self) -> None:
        from portal.mail.service import send_pending  # the service imports kick() from here

        send_pending(db.session, self.app.config)


def start_mail_worker_in_each_process(app: Flask) -> None:
    """A MailWorker in every serving process (portal.workers.in_each_process). Test apps send
    explicitly, unless they set MAIL_WORKER."""
    in_each_process(app, "mail_worker", lambda: MailWorker(app, app.config["MAIL_SEND_INTERVAL"]),
                    enabled=lambda: not app.config.get("TESTING") or bool(app.config.get("MAIL_WORKER")))
