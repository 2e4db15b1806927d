"""Migration 0010: verification_task.print_note, false for tasks answered before; its downgrade
drops it and the upgrade brings it back (SQLite and PostgreSQL)."""
from __future__ import annotations

from sqlalchemy import inspect, text

from portal.actions import act
from portal.db import db
from portal.migrate import downgrade, upgrade


def test_0010_adds_print_note_false_for_earlier_answers_and_downgrades(app, session, factory, archives, people):
    request = factory.request(people["applicant"], issuing=archives["issuing"], status="in_review")
    factory.verify_all(request)
    session.close()
    downgrade(db.engine, "0009")
    assert "print_note" not in {c["name"] for c in inspect(db.engine).get_columns("verification_task")}
    upgrade(db.engine)
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT status, print_note FROM verification_task")).all()
    assert rows and all(status == "verified" and not printed for status, printed in rows)
    task = factory.request(people["applicant"], issuing=archives["issuing"], status="in_review").tasks[0]
    act(session, task, "not_found", factory.staff(task.holding_archive), {"note": "未找到"})
    assert task.print_note is False
