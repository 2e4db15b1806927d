"""A background job that fails on a database write: what the row held (names, ID numbers) stays
out of the job's error shown on the page and out of the log line."""
from __future__ import annotations

import logging

from sqlalchemy import select, update

from portal.accounts.models import User
from portal.admin import jobs
from portal.admin.models import AdminJob

SECRET_NAME = "韦秘密人"


@jobs.handler("test-dup")
def _duplicate(session, job, progress):
    taken = session.get(User, job.params["user_id"])
    session.add(User(email=taken.email, password_hash="!x", real_name=SECRET_NAME, role="citizen"))
    session.flush()  # the address is taken: IntegrityError, whose text quotes every value


def test_a_failed_write_does_not_put_the_rows_values_in_the_error_or_the_log(session, factory, caplog):
    archive = factory.archive("451200", "河池市档案馆")
    someone = factory.user(email="taken@example.cn")
    job = jobs.create(session, "test-dup", archive.id, None, params={"user_id": someone.id})
    session.commit()
    with caplog.at_level(logging.ERROR):
        assert jobs.run_pending(session) == 1
    job = session.get(AdminJob, job.id)
    session.refresh(job)
    assert job.status == "failed" and "IntegrityError" in job.error
    assert SECRET_NAME not in job.error and "taken@example.cn" not in job.error
    assert SECRET_NAME not in caplog.text and "taken@example.cn" not in caplog.text
    assert any("test-dup" in r.getMessage() for r in caplog.records)


def test_a_job_another_process_is_running_is_not_queued_again_when_a_worker_starts(session, factory):
    """Under plain gunicorn every worker process runs jobs, and each starts its job worker on its
    first request: a job running in another, live process (its progress is recent) stays its own,
    else it would run twice at once. One whose progress stopped long ago was cut short: queued."""
    from datetime import timedelta

    from portal.core.clock import utcnow

    archive = factory.archive("451200", "河池市档案馆")
    live = jobs.create(session, "test-dup", archive.id, None, status="running")
    dead = jobs.create(session, "test-dup", archive.id, None, status="running")
    session.commit()
    session.execute(update(AdminJob).where(AdminJob.id == dead.id).values(updated_at=utcnow() - timedelta(hours=1)))
    session.commit()
    assert jobs.requeue_interrupted(session) == 1
    assert session.scalar(select(AdminJob.status).where(AdminJob.id == live.id)) == "running"
    assert session.scalar(select(AdminJob.status).where(AdminJob.id == dead.id)) == "queued"
