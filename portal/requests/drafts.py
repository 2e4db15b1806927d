"""Drafts: the good files of an application form that failed its checks, kept so the corrected form
need not ask for them again (a RequestFile with no request yet). Bounded: at most DRAFT_QUOTA_BYTES
per person, and removed, rows and files, once older than DRAFT_LIFETIME — by the submit of their
owner's next application, by a background worker of every serving process (`make run`, gunicorn)
and by `portal purge-drafts`."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import lock_account
from portal.core.after_commit import after_commit
from portal.core.background import Worker, in_each_process
from portal.core.clock import utcnow
from portal.core.uploads import CheckedUpload, delete_stored
from portal.db import db
from portal.requests.models import RequestFile

# Settings (app.config, read with these defaults): DRAFT_QUOTA_BYTES, DRAFT_LIFETIME_DAYS,
# DRAFT_PURGE_INTERVAL (seconds between two rounds of the worker), DRAFT_PURGE_WORKER (run the
# worker in a test app too).
DRAFT_QUOTA_BYTES = 50 * 1024 * 1024
DRAFT_LIFETIME = timedelta(days=7)
DRAFT_PURGE_INTERVAL = 3600.0
_BATCH = 500


def quota_bytes() -> int:
    return int(current_app.config.get("DRAFT_QUOTA_BYTES", DRAFT_QUOTA_BYTES))


def lifetime() -> timedelta:
    days = current_app.config.get("DRAFT_LIFETIME_DAYS")
    return DRAFT_LIFETIME if days is None else timedelta(days=float(days))


def draft_bytes(session: Session, owner) -> int:
    """What the owner's drafts take now."""
    return session.scalar(select(func.coalesce(func.sum(RequestFile.size), 0)).where(
        RequestFile.owner_id == owner.id, RequestFile.request_id.is_(None)))


def within_quota(session: Session, owner, checked: list[tuple[str, CheckedUpload]]
                 ) -> tuple[list[tuple[str, CheckedUpload]], list[tuple[str, CheckedUpload]]]:
    """(the uploads that fit in the owner's draft quota, in order; those that do not). Takes the
    owner's row lock first, so two forms sent at once cannot both fill the same room: the caller
    stores the ones that fit and commits, which releases it."""
    lock_account(session, owner)
    room = quota_bytes() - draft_bytes(session, owner)
    fits, refused = [], []
    for kind, upload in checked:
        if upload.size <= room:
            fits.append((kind, upload))
            room -= upload.size
        else:
            refused.append((kind, upload))
    return fits, refused


def discard(session: Session, owner) -> int:
    """Delete all of the owner's drafts now, rows and (once committed) files: closing an account.
    In the caller's transaction."""
    return purge_drafts(session, owner=owner, now=utcnow() + lifetime(), commit=False)


def purge_drafts(session: Session, *, owner=None, now: datetime | None = None, commit: bool = True) -> int:
    """Delete drafts older than the lifetime (of `owner` only, if given) and, once committed, their
    stored files; returns how many. A draft attached to a request meanwhile is left alone: the
    DELETE itself asks that it still has none."""
    cutoff = (now or utcnow()) - lifetime()
    folder = current_app.config["UPLOAD_FOLDER"]
    old = select(RequestFile.id).where(RequestFile.request_id.is_(None), RequestFile.created_at < cutoff)
    if owner is not None:
        old = old.where(RequestFile.owner_id == owner.id)
    removed = 0
    while ids := list(session.scalars(old.order_by(RequestFile.id).limit(_BATCH))):
        names = list(session.scalars(
            delete(RequestFile).where(RequestFile.id.in_(ids), RequestFile.request_id.is_(None))
            .returning(RequestFile.stored_name).execution_options(synchronize_session="fetch")))
        for name in names:
            after_commit(session, lambda name=name: delete_stored(folder, name))
        removed += len(names)
        if commit:
            session.commit()
        if len(ids) < _BATCH:
            break
    return removed


class DraftPurgeWorker(Worker):
    """Purges old drafts in the background of a serving process: at start, then every interval."""

    name = "draft-purge"
    failure = "purging old drafts failed"

    def start(self) -> None:
        self.wake()  # what grew old while no process was running
        super().start()

    def work(self) -> None:
        purge_drafts(db.session)


def purge_in_each_process(app: Flask) -> None:
    """A DraftPurgeWorker in every serving process (portal.core.background.in_each_process); test
    apps purge explicitly, unless they set DRAFT_PURGE_WORKER."""
    in_each_process(app, "draft_purge",
                    lambda: DraftPurgeWorker(app, float(app.config.get("DRAFT_PURGE_INTERVAL", DRAFT_PURGE_INTERVAL))),
                    enabled=lambda: not app.config.get("TESTING") or bool(app.config.get("DRAFT_PURGE_WORKER")))
