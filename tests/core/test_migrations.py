"""The schema comes from migrations; `portal init-db` is safe to run again; migrations match the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from portal.db import db
from portal.migrate import MIGRATIONS, alembic_config, current_revision
from portal.models import Base
from tests.conftest import make_test_app


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def test_init_db_on_a_fresh_data_dir_twice_is_idempotent(tmp_path):
    data_dir = tmp_path / "fresh"
    app = make_test_app(data_dir, f"sqlite:///{data_dir / 'portal.db'}")
    runner = app.test_cli_runner()
    try:
        first = runner.invoke(args=["init-db"])
        assert first.exit_code == 0, first.output
        assert "数据库已就绪" in first.output
        with app.app_context():
            tables_after_first = set(inspect(db.engine).get_table_names())
            assert current_revision(db.engine) == _head()

        second = runner.invoke(args=["init-db"])
        assert second.exit_code == 0, second.output
        with app.app_context():
            assert set(inspect(db.engine).get_table_names()) == tables_after_first
            assert current_revision(db.engine) == _head()
    finally:
        db.dispose(app)
    assert {"user_account", "archive", "record", "audit_log", "search_outbox"} <= tables_after_first


def test_init_db_on_a_migrated_database_changes_nothing(app, factory):
    archive = factory.archive()
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert current_revision(db.engine) == _head()
    db.session.expire_all()
    assert db.session.get(type(archive), archive.id).name == archive.name


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "render_as_batch": connection.dialect.name == "sqlite"})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations differ; add a migration under {MIGRATIONS}/versions"


def test_0006_cancels_the_open_tasks_of_ended_requests_and_its_downgrade_reopens_them(app, session, factory):
    from sqlalchemy import select

    from portal.actions import act
    from portal.migrate import downgrade, upgrade
    from portal.review.models import VerificationTask

    ended = factory.request(status="in_review")
    act(session, ended, "withdraw", ended.applicant)
    running = factory.request(status="in_review")

    def statuses() -> dict[int, list[str]]:
        session.expire_all()
        rows = session.execute(select(VerificationTask.request_id, VerificationTask.status)).all()
        return {request_id: [status for rid, status in rows if rid == request_id] for request_id, _s in rows}

    assert statuses() == {ended.id: ["cancelled"], running.id: ["open"]}
    session.close()
    downgrade(db.engine, "0005")
    assert statuses() == {ended.id: ["open"], running.id: ["open"]}
    session.close()
    upgrade(db.engine)
    assert statuses() == {ended.id: ["cancelled"], running.id: ["open"]}
    assert current_revision(db.engine) == _head()
