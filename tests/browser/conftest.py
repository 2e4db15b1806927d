"""A real server on a free port and a real headless Chromium driving it (Playwright, Debian's chromium)."""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from sqlalchemy import select

from portal.catalog.demo import citizen_id_number, seed_demo
from portal.catalog.indexing import get_index, sync_outbox
from portal.catalog.demo_data import ARCHIVES, CITIZEN_EMAIL, CITIZEN_NAME
from portal.catalog.demo_data import PASSWORD as DEMO_PASSWORD
from portal.catalog.models import Record
from portal.core.personal_data import cipher
from portal.db import db
from portal.migrate import upgrade
from tests.conftest import make_test_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: `make test` installs it (make browser-deps: chromium, fonts-noto-cjk)"
    if os.environ.get("BROWSER_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _seed(session) -> dict:
    """The demo data `make run` loads (a small catalog of it), and where the demo citizen's records are."""
    summary = seed_demo(session, records=60)
    own = select(Record).where(Record.subject_id_hash == cipher().lookup_hash(citizen_id_number()))
    open_record = session.scalars(own.where(Record.access_level == "open", Record.category == "marriage")).one()
    restricted = session.scalars(own.where(Record.access_level == "restricted").order_by(Record.event_year)).first()
    return {"open_record": f"/records/{open_record.archive.code}/{open_record.reference_code}",
            "open_record_title": open_record.title,
            "restricted_record": f"/records/{restricted.archive.code}/{restricted.reference_code}",
            "restricted_record_title": restricted.title,
            "archive_names": [a.name for a in ARCHIVES], "archive_count": len(summary.archives),
            "citizen_email": CITIZEN_EMAIL, "citizen_name": CITIZEN_NAME, "password": DEMO_PASSWORD}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The portal on 127.0.0.1 and a free port, on a freshly migrated SQLite database with a little of the demo data."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    # Request pages ask for news every second here, so tests see the timeline refresh quickly.
    # DEV: a development server on 127.0.0.1, whose certificates may link to this machine.
    app = make_test_app(data_dir, f"sqlite:///{data_dir / 'portal.db'}", TESTING=False, DEV=True, PROGRESS_POLL_SECONDS=1)
    with app.app_context():
        upgrade(db.engine)
        seeded = _seed(db.session)
        sync_outbox(db.session, get_index())
    # Signing keys for every demo archive, as `make run` makes them.
    keys = app.test_cli_runner().invoke(args=["keys", "init"])
    assert keys.exit_code == 0, keys.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"  # what certificates' QR codes open
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app, **seeded}
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        db.dispose(app)
        index = app.extensions.get("search_index")
        if index is not None:
            index.close()


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class ConsoleWatch:
    """Console errors, uncaught page errors and failed (4xx/5xx) requests of one page."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(f"console: {msg.text}"))
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        page.on("requestfailed", lambda req: self.problems.append(f"requestfailed: {req.url} {req.failure}"))
        page.on("response", lambda resp: resp.status >= 400 and self.problems.append(f"{resp.status}: {resp.url}"))


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def console(page) -> ConsoleWatch:
    """Request it before the first navigation: it records from then on."""
    return ConsoleWatch(page)


# Chromium reports every 4xx/5xx answer as a console error too; tests that expect one say so.
_EXPECTED_CONSOLE = re.compile(r"^Failed to load resource: the server responded with a status of (4\d\d|503)")


@pytest.fixture(autouse=True)
def _console_errors_fail_the_test(request):
    """Any console error (a Content-Security-Policy refusal after an htmx swap, a script error) in
    any page of any browser context the test opens fails the test."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    problems: list[str] = []
    open_context = browser.new_context

    def new_context(*args, **kwargs):
        context = open_context(*args, **kwargs)
        context.on("console", lambda msg: msg.type == "error" and not _EXPECTED_CONSOLE.match(msg.text)
                   and problems.append(f"console: {msg.text} ({msg.location.get('url', '')})"))
        context.on("weberror", lambda error: problems.append(f"page error: {error.error}"))
        return context

    browser.new_context = new_context
    try:
        yield
    finally:
        browser.new_context = open_context
    assert not problems, "errors in the browser console:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def demo_requests(live_server) -> list[str]:
    """The demo citizen's four requests `make run` shows (portal.review.demo): their numbers —
    a cross-archive one at 河池市档案馆 in review, one waiting, one asked for more, one approved."""
    from portal.review.demo import seed_demo_requests

    with live_server["app"].app_context():
        numbers = seed_demo_requests(db.session)
        db.session.commit()
    return numbers
