"""Fixtures: a real app on a temporary data dir, on SQLite and (when configured) on PostgreSQL."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from flask import g, request_started
from sqlalchemy import text

from portal import create_app
from portal.db import db, make_engine
from portal.migrate import upgrade
from tests import meili_server
from tests.factories import Factory

PG_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL")
PG_SKIP = ("PostgreSQL variant skipped: set PORTAL_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test "
           "to run it (.ci/run does)")
# Tests lower argon2's cost so hundreds of log-ins stay fast; the algorithm and code path are the real ones.
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8192}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test: migrating once is much faster than per test."""
    path = tmp_path_factory.mktemp("template") / "portal.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return PG_URL


def _truncate_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'"
        )).scalars().all()
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "portal.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        yield url
        _truncate_postgres(url)


# One development CA and one signing key per archive code for the whole run: generating RSA keys
# for every test would cost more than the tests (Factory.archive makes a code's key once).
TEST_KEYS_DIR = Path(tempfile.mkdtemp(prefix="portal-test-keys-"))
atexit.register(shutil.rmtree, TEST_KEYS_DIR, ignore_errors=True)


def make_test_app(data_dir: Path, database_url: str, **overrides):
    config = {"DATA_DIR": data_dir, "DATABASE_URL": database_url, "TESTING": True, "SEARCH_BACKEND": "embedded",
              "SIGNING_KEYS_DIR": TEST_KEYS_DIR, **FAST_ARGON2, **overrides}
    return create_app(config)


def _fresh_g(sender, **_extra) -> None:
    """Each request starts with an empty flask.g, as in production. The `app` fixture keeps one
    app context pushed for the whole test and requests reuse it, so without this Flask-Login's
    cached user and Flask-WTF's token would carry over from one request, and one test client, to
    the next: a second, anonymous client would be served as whoever signed in last (and in the
    language of the first request)."""
    for name in ("_login_user", "csrf_token", "_flask_babel"):
        g.pop(name, None)


@pytest.fixture
def app(tmp_path, database_url):
    app = make_test_app(tmp_path / "data", database_url)
    request_started.connect(_fresh_g, app)
    with app.app_context():
        yield app
    request_started.disconnect(_fresh_g, app)
    db.dispose(app)
    index = app.extensions.get("search_index")
    if index is not None:
        index.close()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(session) -> Factory:
    return Factory(session)


@pytest.fixture(scope="session")
def meili():
    """A private Meilisearch for the whole session, or a skip explaining how to get one."""
    try:
        server = meili_server.MeiliServer.start()
    except meili_server.MeiliServerError as exc:
        if os.environ.get("MEILI_REQUIRED") == "1":
            pytest.fail(f"MEILI_REQUIRED=1 but Meilisearch could not start: {exc}", pytrace=False)
        pytest.skip(f"Meilisearch not available ({exc}); run `make test`, which installs it, "
                    "or set MEILI_BINARY to a meilisearch 1.21 binary")
    yield server
    server.stop()
