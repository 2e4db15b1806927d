"""Staff at several desks acting on the same request or task at the same moment, on PostgreSQL:
exactly one wins, the others are told it was already handled, and the timeline has no duplicate.

Each desk is a thread with its own app context, session and connection. SQLite serialises
writers, so the race is only real on PostgreSQL: these tests run there only."""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.actions import act
from portal.core.errors import Conflict
from portal.db import db
from portal.requests.models import RequestEvent, RequestFile, UtilizationRequest
from portal.review.models import VerificationTask
from tests.conftest import _truncate_postgres
from tests.review.conftest import HOLDING, certified_copy, stored_files


@pytest.fixture
def database_url(postgres_url):
    """PostgreSQL only (skipped, with the reason, when PORTAL_TEST_POSTGRES_URL is not set)."""
    yield postgres_url
    _truncate_postgres(postgres_url)


def race(app, desks: list[Callable[[object], str]]) -> list[str]:
    """Run each desk in its own thread, app context and session, all released at the same moment;
    each returns "ok", or the outcome is "conflict" or the unexpected exception's repr."""
    start = threading.Barrier(len(desks))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(desk) -> None:
        with app.app_context():
            own = db.session
            try:
                press = desk(own)  # loads what the page showed, returns the button press
                start.wait(timeout=10)
                press()
                outcome = "ok"
            except Conflict as exc:
                outcome = f"conflict: {exc}"
            except Exception as exc:  # noqa: BLE001 — reported by the assertion
                outcome = repr(exc)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(desk,)) for desk in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a desk hung"
    return outcomes


def events(session, request_id: int) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(RequestEvent.action).where(RequestEvent.request_id == request_id)
                                .order_by(RequestEvent.id)))


def transition(request_id: int, actor_id: int, action: str, note: str = "", **more):
    def desk(own):
        request, actor = own.get(UtilizationRequest, request_id), own.get(User, actor_id)
        request.tasks  # noqa: B018 — loaded with the page, as the approve guard reads them
        return lambda: act(own, request, action, actor, {"note": note, **more})
    return desk


@pytest.mark.parametrize("round_", range(3))
def test_approve_reject_and_ask_supplement_at_once(app, session, factory, people, cross, round_):
    """An in-review request with every task answered: two reviewers (approve, reject) and two clerks
    (ask for a supplement) press at once."""
    request = cross()
    factory.verify_all(request)
    reviewer2 = factory.user("reviewer", archive=request.issuing_archive, name="蒋涛")
    before, version_before = events(session, request.id), request.version
    desks = [
        transition(request.id, people["issuing_reviewer"].id, "approve"),
        transition(request.id, reviewer2.id, "reject", "申请人无权利用该档案", reason="no_right"),
        transition(request.id, people["issuing_clerk"].id, "ask_supplement", "请补充户口簿复印件"),
        transition(request.id, people["issuing_clerk2"].id, "ask_supplement", "请补充委托书"),
    ]
    outcomes = race(app, desks)
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict"] * 3 + ["ok"], outcomes
    after = events(session, request.id)
    assert after[:len(before)] == before and len(after) == len(before) + 1
    winner = after[-1]
    status, version = session.execute(select(UtilizationRequest.status, UtilizationRequest.version)
                                      .where(UtilizationRequest.id == request.id)).one()
    assert status == {"approve": "approved", "reject": "rejected", "ask_supplement": "needs_supplement"}[winner]
    assert version == version_before + 1
    for outcome in outcomes:
        if outcome.startswith("conflict"):
            assert "申请" in outcome


def test_clerks_racing_to_answer_one_task(app, session, factory, people, cross):
    """Four clerks of the holding archive, two verifying (with a copy), two reporting not found."""
    request = cross()
    [task] = [t for t in request.tasks if t.holding_archive.code == HOLDING]
    clerks = [people["holding_clerk"], people["holding_clerk2"]]
    clerks += [factory.user("clerk", archive=task.holding_archive, name=f"馆员{n}") for n in range(2)]
    before, version_before = events(session, request.id), task.version

    def desk(clerk_id: int, action: str):
        def load(own):
            own_task = own.get(VerificationTask, task.id)
            clerk = own.get(User, clerk_id)
            own_task.request  # noqa: B018 — loaded with the page
            copy = certified_copy() if action == "verify" else None
            note = "已查" if action == "not_found" else ""
            return lambda: act(own, own_task, action, clerk, {"note": note, "copy": copy})
        return load

    outcomes = race(app, [desk(c.id, "verify" if n % 2 == 0 else "not_found") for n, c in enumerate(clerks)])
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict"] * 3 + ["ok"], outcomes
    for outcome in outcomes:
        if outcome.startswith("conflict"):
            assert "这项协办任务已由" in outcome and "处理" in outcome

    session.expire_all()
    answered = session.get(VerificationTask, task.id)
    assert answered.status in ("verified", "not_found") and answered.version == version_before + 1
    assert answered.answered_by_id in {c.id for c in clerks}
    after = events(session, request.id)
    assert len(after) == len(before) + 1 and after[-1] == {"verified": "verify", "not_found": "not_found"}[
        answered.status]
    # The losers' copies were neither recorded nor left on disk.
    copies = session.scalar(select(func.count()).select_from(RequestFile).where(RequestFile.kind == "certified_copy"))
    assert copies == (1 if answered.status == "verified" else 0)
    assert len(stored_files(app)) == copies


def test_clerks_racing_to_claim_one_request(app, session, people, cross):
    request = cross()
    clerks = [people["issuing_clerk"], people["issuing_clerk2"], people["issuing_reviewer"]]

    def desk(clerk_id: int):
        def load(own):
            own_request, clerk = own.get(UtilizationRequest, request.id), own.get(User, clerk_id)
            return lambda: act(own, own_request, "claim", clerk)
        return load

    outcomes = race(app, [desk(c.id) for c in clerks])
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict"] * 2 + ["ok"], outcomes
    session.expire_all()
    holder = session.get(UtilizationRequest, request.id).claimed_by
    assert holder.id in {c.id for c in clerks}
    for outcome in outcomes:
        if outcome.startswith("conflict"):
            assert outcome == f"conflict: 已由{holder.real_name}认领"
