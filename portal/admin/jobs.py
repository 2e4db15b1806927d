"""Background jobs of the administration pages: a handler per kind (registered with `handler`),
queued rows in `admin_job`, and one worker that runs them one at a time.

A handler `run(session, job, progress)` does the job's work, calls `progress(done, total)` as it
goes (each call commits the count, so the page's progress bar moves) and finally sets `job.result`.
It must be safe to run again from the start: a job cut short by a restart goes back to the queue.
Each running job names its runner (host and process id): a worker queues again, at once, the
jobs of a process of its own host that is gone, and any job whose progress has been silent for
STALE_AFTER (a runner on another host that died); a job of a live process, which may be another
gunicorn worker, stays its own. A failing job is marked failed with its error, its own writes
rolled back. So a handler calls `progress` at least every few minutes."""
from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from portal.admin.models import AdminJob
from portal.core.background import Worker, in_each_process
from portal.core.clock import utcnow
from portal.db import db

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Handler = Callable[[Session, AdminJob, Progress], None]
_HANDLERS: dict[str, Handler] = {}
# A running job reports progress at least this often (one page's OCR takes minutes at most): one
# silent for longer was cut short with its process, and is queued again.
STALE_AFTER = timedelta(minutes=15)
DRAFT_LIFETIME = timedelta(days=1)  # a draft nobody confirmed or cancelled (its upload waits on disk)


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind`."""
    def register(run: Handler) -> Handler:
        _HANDLERS[kind] = run
        return run
    return register


def create(session: Session, kind: str, archive_id: int, user, *, status: str = "queued", file_path: str = "",
           file_name: str = "", params: dict | None = None, total: int = 0) -> AdminJob:
    """A new job (flushed, not committed: the caller commits it with what else it wrote)."""
    job = AdminJob(kind=kind, archive_id=archive_id, created_by_id=getattr(user, "id", None), status=status,
                   file_path=file_path, file_name=file_name[:200], total=total)
    job.params = params or {}
    session.add(job)
    session.flush()
    return job


def queue(session: Session, job: AdminJob) -> bool:
    """Confirm a draft job: it is queued once, whoever clicks twice (False: it was not a draft)."""
    moved = session.execute(update(AdminJob).where(AdminJob.id == job.id, AdminJob.status == "draft")
                            .values(status="queued", updated_at=utcnow())).rowcount
    session.commit()
    session.refresh(job)
    wake()
    return bool(moved)


def run_next(session: Session) -> AdminJob | None:
    """Take the oldest queued job (no other worker takes it: the status changes under a condition)
    and run it; None when nothing waits."""
    for job_id in session.scalars(select(AdminJob.id).where(AdminJob.status == "queued").order_by(AdminJob.id).limit(5)):
        taken = session.execute(update(AdminJob).where(AdminJob.id == job_id, AdminJob.status == "queued")
                                .values(status="running", runner=runner(), updated_at=utcnow())).rowcount
        session.commit()
        if taken:
            job = session.get(AdminJob, job_id)
            session.refresh(job)
            run(session, job)
            return job
    return None


def run_pending(session: Session) -> int:
    """Run every queued job now (tests, the CLI); how many ran."""
    count = 0
    while run_next(session) is not None:
        count += 1
    return count


def run(session: Session, job: AdminJob) -> None:
    run_job = _HANDLERS.get(job.kind)
    job_id = job.id

    def progress(done: int, total: int) -> None:
        session.execute(update(AdminJob).where(AdminJob.id == job_id).values(done=done, total=total, updated_at=utcnow()))
        session.commit()

    try:
        if run_job is None:
            raise LookupError(f"no handler for jobs of kind {job.kind!r}")
        run_job(session, job, progress)
        job.status, job.finished_at = "done", utcnow()
        if job.total:
            job.done = job.total
        session.commit()
    except Exception as exc:  # noqa: BLE001 — the job fails, the worker goes on
        session.rollback()
        error = _described(exc)
        # A database error's text quotes the row's values (names, ID numbers): no traceback of it.
        log.error("admin job %s (%s) failed: %s", job_id, job.kind, error, exc_info=not isinstance(exc, StatementError))
        session.execute(update(AdminJob).where(AdminJob.id == job_id)
                        .values(status="failed", error=error[:500], finished_at=utcnow(),
                                updated_at=utcnow()))
        session.commit()


def _described(exc: Exception) -> str:
    """What a failed job shows: the error, but of a database error only its kind and the database's
    own words (never the statement's parameters)."""
    if isinstance(exc, StatementError):
        return f"{type(exc).__name__}: {type(exc.orig).__name__}: {str(exc.orig).splitlines()[0][:200]}"
    return f"{type(exc).__name__}: {exc}"


def runner() -> str:
    """Who runs a job: this host and process."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def requeue_interrupted(session: Session) -> int:
    """Jobs left "running" by a process that stopped, queued again (handlers may run again): at
    once when it was a process of this host that is gone, else after STALE_AFTER without progress.
    A job another live process runs is left to it."""
    host = runner().rsplit(":", 1)[0] + ":"
    running = session.execute(select(AdminJob.id, AdminJob.runner).where(AdminJob.status == "running")).all()
    gone = [job_id for job_id, name in running
            if name.startswith(host) and name[len(host):].isdigit() and not _alive(int(name[len(host):]))]
    stale = AdminJob.updated_at < utcnow() - STALE_AFTER
    condition = stale if not gone else (stale | AdminJob.id.in_(gone))
    moved = session.execute(update(AdminJob).where(AdminJob.status == "running", condition)
                            .values(status="queued", runner="", updated_at=utcnow())).rowcount
    session.commit()
    return moved


def expire_drafts(session: Session) -> int:
    """Drafts left unconfirmed for DRAFT_LIFETIME (an import whose report nobody answered):
    cancelled, and the file they kept removed once that is committed. How many."""
    old = session.execute(select(AdminJob.id, AdminJob.file_path).where(
        AdminJob.status == "draft", AdminJob.updated_at < utcnow() - DRAFT_LIFETIME)).all()
    gone = []
    for job_id, path in old:
        if session.execute(update(AdminJob).where(AdminJob.id == job_id, AdminJob.status == "draft")
                           .values(status="cancelled", finished_at=utcnow(), updated_at=utcnow())).rowcount:
            gone.append(path)
    session.commit()
    for path in gone:
        if path:
            Path(path).unlink(missing_ok=True)
    return len(gone)


class JobWorker(Worker):
    name = "admin-jobs"
    failure = "an admin job round failed"

    _requeued_at = 0.0

    def start(self) -> None:
        with self.app.app_context():
            requeue_interrupted(db.session)
            self._requeued_at = time.monotonic()
        _running.add(self)
        self.wake()
        super().start()

    def stop(self) -> None:
        _running.discard(self)
        super().stop()

    def work(self) -> None:
        if time.monotonic() - self._requeued_at > 60:  # a job whose process died meanwhile, old drafts
            self._requeued_at = time.monotonic()
            requeue_interrupted(db.session)
            expire_drafts(db.session)
        while not self._stop.is_set() and run_next(db.session) is not None:
            pass


_running: set[JobWorker] = set()


def wake() -> None:
    """Start a round now in this process's worker, if it runs one (else within its interval)."""
    for worker in list(_running):
        worker.wake()


def start_job_worker_in_each_process(app: Flask) -> None:
    """The job worker runs where the other background work runs (portal.core.background); test
    apps run jobs explicitly (`run_pending`) unless they set ADMIN_JOB_WORKER."""
    in_each_process(app, "admin_job_worker", lambda: JobWorker(app, app.config.get("ADMIN_JOB_INTERVAL", 2.0)),
                    enabled=lambda: not app.config.get("TESTING") or bool(app.config.get("ADMIN_JOB_WORKER")))
