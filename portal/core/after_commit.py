"""Work that must run only once a transaction has committed (send mail, update the index, render
a PDF), never when it rolls back — and its mirror, undoing outside the database (a file written
for a change that was refused) only when it rolls back. Callers queue it in the session; the
session runs it."""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_KEY = "after_commit"
_UNDO = "on_rollback"


def after_commit(session: Session, work: Callable[[], None]) -> None:
    """Run `work` after the session's current transaction commits; forget it on rollback.
    The same callable queued twice runs once."""
    queued = session.info.setdefault(_KEY, [])
    if work not in queued:
        queued.append(work)


def on_rollback(session: Session, work: Callable[[], None]) -> None:
    """Run `work` if the session's current transaction rolls back; forget it on commit."""
    session.info.setdefault(_UNDO, []).append(work)


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    session.info.pop(_UNDO, None)
    for work in session.info.pop(_KEY, []):
        try:
            work()
        except Exception:  # noqa: BLE001 — the change is committed; a failed follow-up is retried by its worker
            log.exception("after-commit work failed: %r", work)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
    for work in session.info.pop(_UNDO, []):
        try:
            work()
        except Exception:  # noqa: BLE001 — the rollback stands; what could not be undone is logged
            log.exception("undo after rollback failed: %r", work)
