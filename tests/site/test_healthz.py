"""/healthz: 200 when the database answers, 503 (never a 500 traceback) when it does not."""
from __future__ import annotations

import pytest

from portal.db import db
from tests.conftest import make_test_app


def test_healthz_reports_ok_with_the_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["db"] == "ok"
    assert body["search"] in ("ok", "down")
    assert set(body) == {"status", "db", "search"}


@pytest.mark.parametrize("url", [
    "postgresql://postgres@127.0.0.1:1/test",  # nothing listens on port 1
    "sqlite:////nonexistent-dir/portal/portal.db",  # SQLite does not create directories
], ids=["postgresql-refused", "sqlite-unopenable"])
def test_healthz_is_503_with_the_database_down(tmp_path, url):
    app = make_test_app(tmp_path / "data", url, PROPAGATE_EXCEPTIONS=False)
    try:
        response = app.test_client().get("/healthz")
    finally:
        db.dispose(app)
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["db"] == "down"


def test_page_with_the_database_down_is_the_chinese_500_page(tmp_path):
    app = make_test_app(tmp_path / "data", "postgresql://postgres@127.0.0.1:1/test", PROPAGATE_EXCEPTIONS=False)
    try:
        response = app.test_client().get("/")
    finally:
        db.dispose(app)
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "服务器出了点问题" in page
    assert "Traceback" not in page and "OperationalError" not in page
