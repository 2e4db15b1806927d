"""Sending the outbox in the background of each serving process: every MAIL_SEND_INTERVAL
seconds, and at once when a transaction that queued mail commits (`kick`)."""
from __future__ import annotations

import logging
import os
import threading

from flask import Flask

from portal.db import db

log = logging.getLogger(__name__)
_workers: set[MailWorker] = set()  # the running workers of this process, for kick()


def kick() -> None:
    """Wake this process's mail workers. Runs right after a request's commit: it only sets events,
    so it never blocks and never raises; without a worker it does nothing (the mail waits for
    the next `portal send-mail` or worker tick)."""
    for worker in tuple(_workers):
        worker.wake()


class MailWorker:
    def __init__(self, app: Flask, interval: float):
        self.app, self.interval = app, interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)

    def start(self) -> None:
        _workers.add(self)
        self._wake.set()  # send at once what waited while no process was running
        self._thread.start()

    def stop(self) -> None:
        _workers.discard(self)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            # Cleared before sending: a kick that arrives during the round wakes the next one.
            self._wake.clear()
            if self._stop.is_set():
                return
            self.send_once()

    def send_once(self) -> None:
        from portal.mail.service import send_pending  # the service imports kick() from here

        with self.app.app_context():
            try:
                send_pending(db.session, self.app.config)
            except Exception:  # noqa: BLE001 — the worker must outlive a bad round; it is logged
                db.session.rollback()
                log.exception("sending mail failed")


def start_mail_worker_in_each_process(app: Flask) -> None:
    """Run a MailWorker in every serving process, started by its first request: gunicorn may
    import the app in its master (--preload) and fork the workers, and threads do not survive a
    fork. Test apps send explicitly, unless they set MAIL_WORKER."""
    started_in: set[int] = set()
    lock = threading.Lock()

    @app.before_request
    def _start_mail_worker() -> None:
        if app.config.get("TESTING") and not app.config.get("MAIL_WORKER"):
            return
        if os.getpid() not in started_in:
            with lock:
                if os.getpid() not in started_in:
                    worker = MailWorker(app, app.config["MAIL_SEND_INTERVAL"])
                    worker.start()
                    app.extensions["mail_worker"] = worker  # so it can be stopped (tests, shutdown)
                    started_in.add(os.getpid())
