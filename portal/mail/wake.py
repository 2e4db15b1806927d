"""Waking this process's mail workers when a transaction that queued mail commits."""
from __future__ import annotations

running: set = set()  # the mail workers running in this process (portal.mail.worker.MailWorker)


def kick() -> None:
    """Wake this process's mail workers. Runs right after a request's commit: it only sets events,
    so it never blocks and never raises; without a worker it does nothing (the mail waits for
    the next `portal send-mail` or worker tick)."""
    for worker in tuple(running):
        worker.wake()
