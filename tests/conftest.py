"""Fixtures: a real app on SQLite and (when configured) on PostgreSQL, rolled back after each test.

One app per backend per session (per xdist worker), on a database of its own: a migrated SQLite
file, and a PostgreSQL database made for this process on the server PORTAL_TEST_POSTGRES_URL
names (`<db>_<pid>_<worker>`, dropped at the end; the database in the URL itself is never
touched, as other runs may share it). Each test runs inside an outer transaction on one
connection; the app's session joins it with a SAVEPOINT (`join_transaction_mode=
"create_savepoint"`), so services commit, roll back and run their after-commit work as in
production, and the outer rollback leaves the database empty for the next test. Files (uploads,
certificates, mail, the embedded search index) go to the test's own tmp_path, and app.config is
restored after each test.

Tests that need commits other connections can see (threads, a second engine or Session,
background workers, hooks added to the app) get the `real_commits` marker: a fresh app of their
own on a database of their own, as before (a copied SQLite file; the worker's PostgreSQL database,
truncated afterwards). The marker is added automatically to tests whose code (or the module
helpers it calls) starts threads or workers, opens another engine or Session, or adds app hooks;
to tests that override `app`; and to tests that use `database_url` without `app`.
"""
from __future__ import annotations

import atexit
import inspect
import os
import re
import shutil
import signal
import tempfile
import threading
from pathlib import Path

import pytest
from flask import g, request_started
from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

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
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


# ---- which tests need real commits ----------------------------------------------------------------

# Code that shares the database with another connection or thread (it must see real commits), or
# that adds routes or hooks to the app (Flask refuses once the shared app has served a request).
_NEEDS_ITS_OWN_APP = re.compile(
    r"\bthreading\b|\bThread\(|\bdb\.engine\b|\bmake_engine\(|Worker\(|in_each_process\("
    r"|\.(add_url_rule|before_request|after_request|teardown_request|teardown_appcontext|register_blueprint"
    r"|register_error_handler|errorhandler|context_processor)\(")


_VERDICTS: dict = {}


def _needs_its_own_app(function) -> bool:
    """Whether `function`, or a helper of the test modules it calls, needs an app of its own."""
    if function not in _VERDICTS:
        _VERDICTS[function] = False  # a helper calling back into its caller ends the walk there
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            return False
        helpers = (function.__globals__.get(name) for name in function.__code__.co_names)
        _VERDICTS[function] = bool(_NEEDS_ITS_OWN_APP.search(source)) or any(
            _needs_its_own_app(helper) for helper in helpers
            if inspect.isfunction(helper) and helper.__module__.startswith("tests.") and helper.__module__ != __name__)
    return _VERDICTS[function]


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("real_commits") or not hasattr(item, "_fixtureinfo"):
            continue
        names = item.fixturenames
        if "app" not in names and "database_url" not in names:
            continue
        fixtures = item._fixtureinfo.name2fixturedefs
        app_defs = fixtures.get("app") or ()
        own_app = bool(app_defs) and app_defs[-1].func.__module__ != __name__
        # The test and the fixtures of the test modules and their conftests it uses.
        functions = [item.function, *(defs[-1].func for defs in fixtures.values()
                                      if defs and defs[-1].func.__module__.startswith("tests.")
                                      and defs[-1].func.__module__ != __name__)]
        if own_app or "app" not in names or any(map(_needs_its_own_app, functions)):
            item.add_marker(pytest.mark.real_commits)


def _real_commits(request) -> bool:
    return request.node.get_closest_marker("real_commits") is not None


# ---- databases ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each real-commit test: migrating once is much faster."""
    path = tmp_path_factory.mktemp("template") / "portal.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _admin_engine():
    return make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")


def _drop_stale_databases(conn, base: str) -> None:
    """Databases an earlier run on this machine left behind when it was killed: named like ours,
    made by a process that is gone, and nobody connected. Another run's live database always has
    its app's connections open."""
    pattern = re.compile(rf"{re.escape(base)}_(\d+)_(main|gw\d+)")
    rows = conn.execute(text("SELECT datname FROM pg_database d WHERE datname LIKE :prefix AND NOT EXISTS "
                             "(SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid)"),
                        {"prefix": f"{base}\\_%"}).scalars()
    for name in rows:
        match = pattern.fullmatch(name)
        if match and not _process_alive(int(match.group(1))):
            try:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            except DBAPIError:  # someone connected meanwhile: not stale after all
                pass


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _interrupt_on_sigterm() -> None:
    """`timeout` and CI cancel with SIGTERM: stop like Ctrl-C, so fixtures are torn down and this
    run's databases dropped, instead of dying on the spot."""
    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        pass


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """This process's own PostgreSQL database, migrated, on the server PORTAL_TEST_POSTGRES_URL
    names (whose own database is only connected to, never changed: other runs may use it)."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    base = make_url(PG_URL)
    name = f"{base.database}_{os.getpid()}_{WORKER}".lower()
    admin = _admin_engine()
    _interrupt_on_sigterm()
    with admin.connect() as conn:
        _drop_stale_databases(conn, base.database.lower())
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        for app in _SHARED_APPS.values():  # their pooled connections hold the database open
            db.dispose(app)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)  # if the session ends without tearing down
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    atexit.unregister(drop)
    drop()


def _truncate_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'"
        )).scalars().all()
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_shared(tmp_path_factory, sqlite_template) -> str:
    """The SQLite database the rolled-back tests share."""
    path = tmp_path_factory.mktemp("shared") / "portal.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The database of the test's backend. For a rolled-back test, the shared one (the `app`
    fixture rolls it back); for a `real_commits` test, a clean one of its own."""
    if request.param == "sqlite":
        if not _real_commits(request):
            yield request.getfixturevalue("sqlite_shared")
            return
        path = tmp_path / "portal.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        yield url
        if _real_commits(request):
            _truncate_postgres(url)


# ---- apps -----------------------------------------------------------------------------------------

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


def _close_index(app) -> None:
    index = app.extensions.pop("search_index", None)
    if index is not None:
        index.close()


@pytest.fixture
def app(request, tmp_path, database_url):
    if _real_commits(request):
        app = make_test_app(tmp_path / "data", database_url)
        request_started.connect(_fresh_g, app)
        with app.app_context():
            yield app
        request_started.disconnect(_fresh_g, app)
        db.dispose(app)
        _close_index(app)
        return
    app = _shared_app(request, database_url)
    with _rolled_back(app, tmp_path / "data"), app.app_context():
        yield app


_SHARED_APPS: dict[str, object] = {}


def _shared_app(request, url: str):
    """The session's app on `url`, made on first use."""
    if url not in _SHARED_APPS:
        app = make_test_app(request.getfixturevalue("tmp_path_factory").mktemp("app"), url)
        engine = app.extensions["db"][0]
        if engine.dialect.name == "sqlite":
            _sqlite_real_transactions(engine)
        else:
            _no_endless_lock_waits(engine)
        request_started.connect(_fresh_g, app)
        _SHARED_APPS[url] = app
    return _SHARED_APPS[url]


@pytest.fixture(autouse=True)
def _no_search_answers_of_other_tests():
    """Each test's data is its own (rolled back after it): no search answer a test before it was given
    (portal.catalog.search.ResultCache) may be reused."""
    from portal.catalog.search import results

    results.forget()


@pytest.fixture(scope="session", autouse=True)
def _dispose_shared_apps():
    yield
    for app in _SHARED_APPS.values():
        db.dispose(app)
        _close_index(app)
    _SHARED_APPS.clear()


def _sqlite_real_transactions(engine) -> None:
    """pysqlite begins a transaction only before a write and lets SAVEPOINT/RELEASE commit on their
    own; an explicit BEGIN makes the outer transaction and its savepoints behave as on PostgreSQL
    (SQLAlchemy's documented recipe)."""
    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_conn, _record):
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


def _no_endless_lock_waits(engine) -> None:
    """A second connection waiting for a lock the test's open transaction holds would wait forever:
    a rolled-back test that should have been `real_commits` fails after 30 s instead of hanging."""
    @event.listens_for(engine, "connect")
    def _lock_timeout(dbapi_conn, _record):
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SET lock_timeout = '30s'")
        dbapi_conn.commit()


class _TestSession:
    """Stands in for the app's scoped_session during a rolled-back test: one Session, on the test's
    connection, for the test's thread. `remove()` (the end of an app context: a CLI command, a
    nested `with app.app_context()`) closes it, ending its transaction as in production, and keeps
    it, so the test's `session` and the app's `db.session` stay one object on one connection."""

    def __init__(self, factory):
        self._factory, self._thread, self._session = factory, threading.get_ident(), None

    def __call__(self):
        if threading.get_ident() != self._thread:
            raise RuntimeError("another thread uses the database of a rolled-back test: mark the test "
                               "@pytest.mark.real_commits (see tests/conftest.py)")
        if self._session is None:
            self._session = self._factory()
        return self._session

    def remove(self) -> None:
        if self._session is not None:
            self._session.close()


class _rolled_back:
    """Run a test on `app` inside an outer transaction rolled back at the end, with its files in
    `data_dir` and app.config as it was before."""

    def __init__(self, app, data_dir: Path):
        self.app, self.data_dir = app, data_dir

    def __enter__(self):
        app = self.app
        self.config = dict(app.config)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        app.config.update(DATA_DIR=self.data_dir, UPLOAD_FOLDER=self.data_dir / "uploads",
                          CERTIFICATE_FOLDER=self.data_dir / "certificates", MAIL_FOLDER=self.data_dir / "mail")
        self.engine, self.scoped = app.extensions["db"]
        self.connection = self.engine.connect()
        self.outer = self.connection.begin()
        made = self.scoped.session_factory  # the app's own session settings, on the test's connection
        self.session = _TestSession(sessionmaker(class_=made.class_, **{
            **made.kw, "bind": self.connection, "join_transaction_mode": "create_savepoint"}))
        app.extensions["db"] = (self.engine, self.session)
        app.extensions["throttle"].reset()  # every test starts with no rate-limit counters

    def __exit__(self, *exc):
        app = self.app
        try:
            self.session.remove()
            self.outer.rollback()
            self.connection.close()
        finally:
            app.extensions["db"] = (self.engine, self.scoped)
            _close_index(app)
            app.config.clear()
            app.config.update(self.config)


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
    """A private Meilisearch for the whole session (one per xdist worker), or a skip explaining how to get one."""
    try:
        server = meili_server.MeiliServer.start()
    except meili_server.MeiliServerError as exc:
        if os.environ.get("MEILI_REQUIRED") == "1":
            pytest.fail(f"MEILI_REQUIRED=1 but Meilisearch could not start: {exc}", pytrace=False)
        pytest.skip(f"Meilisearch not available ({exc}); run `make test`, which installs it, "
                    "or set MEILI_BINARY to a meilisearch 1.21 binary")
    yield server
    server.stop()
