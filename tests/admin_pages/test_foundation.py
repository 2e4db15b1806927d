"""The administration's foundations: who holds which role on an archive (one policy, for one
archive and as SQL), the landing page, and background jobs that survive a restart."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import policy
from portal.admin import jobs
from portal.admin.models import AdminJob
from portal.archives.models import Archive
from portal.core.clock import utcnow
from tests.factories import PASSWORD
from tests.helpers import login, texts


@pytest.fixture
def two(factory):
    return factory.archive("451200", "河池市档案馆"), factory.archive("450100", "南宁市档案馆")


@pytest.mark.parametrize("role, own, other", [
    ("admin", {"administer", "edit", "manage_staff", "import_catalog", "edit_record", "attach_copies",
               "view_statistics"}, "same"),
    ("archive_admin", {"administer", "edit", "manage_staff", "import_catalog", "edit_record", "attach_copies",
                       "appraise", "view_statistics"}, set()),
    ("clerk", {"attach_copies", "counter_intake", "view_statistics"}, set()),
    ("reviewer", {"appraise", "view_statistics"}, set()),
    ("citizen", set(), set()),
])
def test_archive_rules_for_one_archive_and_as_sql(session, factory, two, role, own, other):
    mine, theirs = two
    user = factory.user(role, archive=None if role in ("admin", "citizen") else mine)
    actions = {action for (_kind, action) in policy.ARCHIVE_RULES}
    assert {a for a in actions if policy.can(user, a, mine)} == own
    assert {a for a in actions if policy.can(user, a, theirs)} == (own if other == "same" else other)
    for action in actions:
        listed = set(session.scalars(select(Archive.code).where(*policy.archives_where(user, action))))
        expected = {a.code for a in two if policy.may(user, action, a.id)}
        assert expected <= listed and listed - expected <= ({a for a in listed} if role == "admin" else set()), action


def test_a_disabled_archive_admin_holds_no_role(session, factory, two):
    user = factory.user("archive_admin", archive=two[0])
    user.is_active_account = False
    assert not policy.can(user, "administer", two[0])
    assert session.scalars(select(Archive).where(*policy.archives_where(user, "administer"))).all() == []


def test_an_archive_admin_needs_an_archive(factory):
    from portal.core.errors import ValidationFailed
    with pytest.raises(ValidationFailed) as raised:
        factory.user("archive_admin")
    assert "archive" in raised.value.errors


def test_the_landing_page_lists_only_ones_own_archive(client, factory, two):
    mine, theirs = two
    admin = factory.user("archive_admin", archive=mine, email="manager@example.cn")
    response = login(client, admin.email, PASSWORD)
    assert response.headers["Location"].endswith("/admin/")
    page = client.get("/admin/").get_data(as_text=True)
    assert mine.name in page and theirs.name not in page


def test_citizens_and_anonymous_visitors_find_no_administration(client, factory, two):
    assert client.get("/admin/").status_code == 302  # to log in
    citizen = factory.user("citizen", email="c@example.cn")
    login(client, citizen.email, PASSWORD)
    assert client.get("/admin/").status_code == 404


@jobs.handler("test-count")
def _count(session, job, progress):
    total = job.params["n"]
    for done in range(1, total + 1):
        progress(done, total)
    if job.params.get("fail"):
        raise ValueError("bad row")
    job.result = {"counted": total}


def test_a_job_runs_reports_progress_and_fails_cleanly(session, factory, two):
    ok = jobs.create(session, "test-count", two[0].id, None, status="draft", params={"n": 3})
    bad = jobs.create(session, "test-count", two[0].id, None, params={"n": 2, "fail": True})
    session.commit()
    assert jobs.run_pending(session) == 1  # the draft waits for confirmation
    assert (bad.status, bad.done, bad.total) == ("failed", 2, 2) and "bad row" in bad.error
    assert jobs.queue(session, ok) and not jobs.queue(session, ok)  # a double click queues it once
    assert jobs.run_pending(session) == 1
    session.refresh(ok)
    assert (ok.status, ok.percent, ok.result) == ("done", 100, {"counted": 3}) and ok.finished_at is not None


def test_a_job_cut_short_by_a_restart_runs_again(session, factory, two):
    job = jobs.create(session, "test-count", two[0].id, None, params={"n": 1})
    job.status = "running"
    session.commit()
    job.updated_at = utcnow() - jobs.STALE_AFTER - timedelta(seconds=1)  # its process died: no progress since
    session.commit()
    assert jobs.run_pending(session) == 0
    assert jobs.requeue_interrupted(session) == 1
    assert jobs.run_pending(session) == 1
    assert session.scalar(select(AdminJob.status).where(AdminJob.id == job.id)) == "done"


def test_a_job_whose_process_on_this_host_is_gone_runs_again_at_once(session, factory, two):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead, alive = (jobs.create(session, "test-count", two[0].id, None, params={"n": 1}) for _ in range(2))
    host = jobs.runner().rsplit(":", 1)[0]
    dead.status, dead.runner = "running", f"{host}:{gone.stdout.strip()}"
    alive.status, alive.runner = "running", jobs.runner()  # this very process: still at it
    session.commit()
    assert jobs.requeue_interrupted(session) == 1
    session.refresh(dead)
    session.refresh(alive)
    assert (dead.status, dead.runner, alive.status) == ("queued", "", "running")


def test_a_request_remembers_the_channel_it_came_by(session, factory, two):
    request = factory.request(issuing=two[0])
    assert request.channel == "web"


def test_a_draft_nobody_confirms_is_cancelled_after_a_day_and_its_file_removed(session, factory, two, tmp_path):
    kept = tmp_path / "upload.csv"
    kept.write_text("archive_code\n")
    old = jobs.create(session, "test-count", two[0].id, None, status="draft", file_path=str(kept), params={"n": 1})
    fresh = jobs.create(session, "test-count", two[0].id, None, status="draft", params={"n": 1})
    session.commit()
    old.updated_at = utcnow() - jobs.DRAFT_LIFETIME - timedelta(minutes=1)
    session.commit()
    assert jobs.expire_drafts(session) == 1
    session.refresh(old)
    session.refresh(fresh)
    assert (old.status, fresh.status) == ("cancelled", "draft") and not kept.exists()
    assert not jobs.queue(session, old)  # too late to confirm
