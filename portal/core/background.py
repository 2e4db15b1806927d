"""A background worker of a serving process (search-index sync and mail sending use it), started
once in each process that serves."""
from __future__ import annotations

import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable

from flask import Flask

from portal.db import db

log = logging.getLogger(__name__)


class Worker(ABC):
    """Runs `work()` in an app context every `interval` seconds, and at once when woken. A failing
    round is rolled back and logged (`failure`); the next one runs as usual. Each kind of work
    (portal.catalog.indexing.SyncWorker, portal.mail.worker.MailWorker) says what a round does."""

    name = "worker"
    failure = "background work failed"

    def __init__(self, app: Flask, interval: float):
        self.app, self.interval = app, interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    @abstractmethod
    def work(self) -> None:
        """One round of the work, inside an app context."""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            # Cleared before the round: a wake that arrives during it starts the next one.
            self._wake.clear()
            if self._stop.is_set():
                return
            self.run_once()

    def run_once(self) -> None:
        with self.app.app_context():
            try:
                self.work()
            except Exception:  # noqa: BLE001 — the worker must outlive a bad round; it is logged
                db.session.rollback()
                log.exception(self.failure)


def in_each_process(app: Flask, key: str, make: Callable[[], Worker],
                    enabled: Callable[[], bool] = lambda: True) -> None:
    """Start `make()`'s worker in every serving process, on its first request: gunicorn may import
    the app in its master (--preload) and fork the workers, and threads do not survive a fork.
    The running worker is `app.extensions[key]`, so it can be stopped (tests, shutdown).

    Under `portal serve` the work runs once, in a process of its own beside the web workers
    (portal.server): there the app says BACKGROUND_WORKERS = "elsewhere", and `start_now` starts
    every worker registered here at once."""
    started_in: set[int] = set()
    lock = threading.Lock()
    app.extensions.setdefault(_REGISTERED, {})[key] = (make, enabled)

    @app.before_request
    def _start_worker() -> None:
        if os.getpid() in started_in or not enabled() or app.config.get("BACKGROUND_WORKERS") == "elsewhere":
            return
        with lock:
            if os.getpid() not in started_in:
                worker = make()
                worker.start()
                app.extensions[key] = worker
                started_in.add(os.getpid())


_REGISTERED = "background_workers"


def start_now(app: Flask) -> list[str]:
    """Start every registered (and enabled) worker now, in this process; their keys."""
    started = []
    for key, (make, enabled) in app.extensions.get(_REGISTERED, {}).items():
        if enabled():
            worker = make()
            worker.start()
            app.extensions[key] = worker
            started.append(key)
    return started


def stop_all(app: Flask) -> None:
    """Stop the workers `start_now` started, each after the round it is in (its work is one
    transaction: a round cut short would be rolled back and done again, never half done)."""
    for key in app.extensions.get(_REGISTERED, {}):
        worker = app.extensions.get(key)
        if isinstance(worker, Worker):
            worker.stop()
