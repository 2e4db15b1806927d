"""The audit log is append-only."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditLog, AuditLogIsAppendOnly
from portal.audit.service import log


@pytest.fixture
def entry(session):
    entry = log(session, "login", object_type="user", object_id=1, ip="127.0.0.1")
    session.commit()
    return entry


def test_entry_is_written_with_the_callers_commit(session, entry):
    session.expire_all()
    stored = session.scalars(select(AuditLog)).one()
    assert (stored.action, stored.object_id, stored.ip) == ("login", "1", "127.0.0.1")
    assert stored.at.tzinfo is not None


def test_changing_an_entry_through_the_session_raises(session, entry):
    entry.action = "nothing_happened"
    with pytest.raises(AuditLogIsAppendOnly):
        session.commit()
    session.rollback()
    assert session.scalar(select(AuditLog.action)) == "login"


def test_deleting_an_entry_through_the_session_raises(session, entry):
    session.delete(entry)
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 1


def test_entry_is_discarded_with_a_rolled_back_change(session):
    log(session, "user_created", object_type="user", object_id=2)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 0


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
def test_raw_sql_cannot_change_or_delete_entries(session, entry, statement):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert session.scalar(select(AuditLog.action)) == "login"
