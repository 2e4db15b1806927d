"""Work that must run only once a transaction has committed (send mail, update the index, render
a PDF), never when it rolls back. Callers queue it in the session; the session runs it."""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_KEY = "after_commit"


def after_commit(session: Session, work: Callable[[], None]) -> None:
    """Run `work` after the session's current transaction commits; forget it on rollback.
    The same callable queued twice runs once."""
    queued = session.info.setdefault(_KEY, [])
    if work not in queued:
        queued.append(work)


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    for work in session.info.pop(_KEY, []):
        try:
            work()
        except Exception:  # noqa: BLE001 — the change is committed; a failed follow-up is retried by its worker
            log.exception("after-commit work failed: %r", work)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
