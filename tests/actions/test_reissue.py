"""Issuing again after a revocation: the state machine allows `issue` on an issued request only
while its latest certificate is revoked; the new certificate stands beside the revoked one (which
checks still show revoked); and `check` asks everything `act` asks while writing nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.actions import act, allowed, check
from portal.certificates.models import Certificate
from portal.core.errors import Conflict
from portal.db import db
from portal.migrate import downgrade, upgrade
from portal.requests.models import RequestEvent
from portal.review import queue as review_queue
from portal.review.service import awaits_certificate, certificate_preview, replaced_certificate
from tests.certificates.conftest import approved, archives, issued, people  # noqa: F401


def _counted(session, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return session.scalar(query)


def test_a_valid_certificate_is_not_issued_again(session, people, issued):
    reviewer = people["issuing_reviewer"]
    assert not awaits_certificate(issued) and not allowed(reviewer, "issue", issued)
    with pytest.raises(Conflict):
        act(session, issued, "issue", reviewer, {"version": issued.version})
    assert _counted(session, Certificate, request_id=issued.id) == 1


def test_after_a_revocation_the_reviewer_issues_a_new_certificate_that_replaces_it(session, people, issued):
    reviewer = people["issuing_reviewer"]
    old = issued.certificate
    act(session, issued, "revoke_certificate", reviewer, {"reason": "当事人姓名有误"})
    assert awaits_certificate(issued) and allowed(reviewer, "issue", issued)
    assert not allowed(people["issuing_clerk"], "issue", issued)  # the same policy: reviewers issue
    assert replaced_certificate(issued).serial == old.serial
    # It waits in the 待出证 tab again, not among the done ones.
    scope = review_queue.staff_scope(reviewer, "")
    tabs = review_queue.counts(session, scope)
    assert tabs["to_issue"] == 1 and tabs["done"] == 0
    assert [i.request.number for i in review_queue.queue(session, scope, "to_issue", review_queue.QueueFilters()).items] \
        == [issued.number]

    new = act(session, issued, "issue", reviewer, {"version": issued.version}).result
    session.expire_all()
    assert issued.status == "issued" and issued.certificate.serial == new.serial != old.serial
    assert [(c.serial, c.status) for c in issued.certificates] == [(old.serial, "revoked"), (new.serial, "valid")]
    assert replaced_certificate(issued).serial == old.serial
    assert not allowed(reviewer, "issue", issued)
    # the revoke then the new issue, both on the timeline
    assert _counted(session, RequestEvent, request_id=issued.id, action="issue") == 2


def test_check_refuses_as_act_would_and_writes_nothing(session, people, approved):
    request = approved()
    reviewer = people["issuing_reviewer"]
    version = request.version
    acting = check(session, request, "issue", reviewer, {"version": version, "note": "已核对"})
    assert acting.inputs.note == "已核对"
    session.expire_all()
    assert request.status == "approved" and request.version == version and request.certificates == []
    with pytest.raises(Conflict):
        check(session, request, "issue", reviewer, {"version": version - 1})


def test_the_preview_is_the_content_the_pdf_is_made_from(app, people, approved):
    request = approved()
    with app.test_request_context():
        content = certificate_preview(request)
    assert content.kind == "found" and content.issuing_archive == request.issuing_archive.name
    assert {line.title for line in content.records} == {"职工养老保险缴费记录", "结婚登记审查处理表"}
    assert content.subject_name == request.subject_name and "*" in content.subject_id_masked


@pytest.mark.real_commits
def test_migration_0011_lets_a_request_hold_several_certificates_and_downgrades(app, session, people, issued):
    session.close()
    downgrade(db.engine, "0010")
    upgrade(db.engine)
    reissued = session.get(type(issued), issued.id)
    act(session, reissued, "revoke_certificate", people["issuing_reviewer"], {"reason": "重新出具"})
    act(session, reissued, "issue", people["issuing_reviewer"], {"version": reissued.version})
    assert _counted(session, Certificate, request_id=issued.id) == 2
