"""Two reviewers issuing at the same moment, on PostgreSQL (SQLite serialises writers, so the
race is real only there): distinct consecutive serials, no gap, one winner per request."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.actions import act
from portal.core.errors import Conflict
from portal.db import db
from portal.requests.models import RequestEvent
from portal.requests.service import get_request
from tests.certificates.conftest import ISSUING
from tests.certificates.test_issue import YEAR, certificate_files, counter
from tests.conftest import _truncate_postgres


@pytest.fixture
def database_url(postgres_url):
    """PostgreSQL only (skipped, with the reason, when PORTAL_TEST_POSTGRES_URL is not set)."""
    yield postgres_url
    _truncate_postgres(postgres_url)


def issuing(number: str, reviewer_id: int):
    """A reviewer's desk: issue `number` in the thread's own session; the serial it got."""
    def job(own):
        reviewer = own.get(User, reviewer_id)
        return act(own, get_request(own, reviewer, number), "issue", reviewer).result.serial
    return job


def _in_threads(app, jobs):
    """Run each job (a function of a fresh session) in its own thread at once; their outcomes."""
    outcomes = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def run(i, job):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[i] = job(db.session)
            except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_concurrent_issues_get_distinct_consecutive_serials(app, session, people, approved, database_url):
    numbers = [approved().number for _ in range(4)]
    reviewers = [people["issuing_reviewer"].id, people["issuing_reviewer2"].id]
    session.close()

    outcomes = _in_threads(app, [issuing(n, reviewers[i % 2]) for i, n in enumerate(numbers)])
    assert sorted(outcomes) == [f"ZM-{ISSUING}-{YEAR}-{n:06d}" for n in range(1, 5)], outcomes
    assert len(certificate_files(app)) == 4


def test_two_reviewers_issuing_one_request_at_once_one_wins_without_a_gap(app, session, people, approved,
                                                                         database_url):
    number = approved().number
    ids = [people["issuing_reviewer"].id, people["issuing_reviewer2"].id]
    session.close()

    outcomes = _in_threads(app, [issuing(number, i) for i in ids])
    assert sorted(map(type, outcomes), key=str) == sorted([str, Conflict], key=str), outcomes
    assert f"ZM-{ISSUING}-{YEAR}-000001" in outcomes
    assert counter(session) == 1 and len(certificate_files(app)) == 1
    events = session.scalar(select(func.count()).select_from(RequestEvent).where(RequestEvent.action == "issue"))
    assert events == 1


def test_two_reviewers_reissuing_after_a_revocation_leave_one_valid_certificate(app, session, people, approved,
                                                                               database_url):
    """Re-issuing starts from `issued` and ends there: the request's version must still move, or
    both would win (found by the hostile review: two valid certificates for one request)."""
    from portal.certificates.models import Certificate

    number = approved().number
    reviewer = session.get(User, people["issuing_reviewer"].id)
    act(session, get_request(session, reviewer, number), "issue", reviewer)
    act(session, get_request(session, reviewer, number), "revoke_certificate", reviewer, {"reason": "信息有误，重新出具"})
    ids = [people["issuing_reviewer"].id, people["issuing_reviewer2"].id]
    session.close()

    outcomes = _in_threads(app, [issuing(number, i) for i in ids])
    assert sorted(map(type, outcomes), key=str) == sorted([str, Conflict], key=str), outcomes
    statuses = session.scalars(select(Certificate.status).order_by(Certificate.id)).all()
    assert statuses == ["revoked", "valid"]
