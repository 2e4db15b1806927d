"""A digitized copy's text on Meilisearch: found for an open record, never for a restricted one."""
from __future__ import annotations

import uuid

import pytest
from flask import request_started

from portal.admin import jobs
from portal.catalog.indexing import get_index, sync_outbox
from portal.db import db
from tests.admin_pages.copies_files import MOBILE, scanned_pdf, text_pdf
from tests.admin_pages.test_copies import attach
from tests.conftest import _fresh_g, make_test_app
from tests.factories import PASSWORD
from tests.helpers import login

pytestmark = pytest.mark.meilisearch


@pytest.fixture
def app(tmp_path, database_url, meili):
    app = make_test_app(tmp_path / "data", database_url, SEARCH_BACKEND="meilisearch", MEILI_URL=meili.url,
                        MEILI_MASTER_KEY=meili.master_key, MEILI_INDEX=f"portal_{uuid.uuid4().hex[:10]}")
    request_started.connect(_fresh_g, app)  # as the shared app does: each request starts with an empty g
    with app.app_context():
        yield app
    request_started.disconnect(_fresh_g, app)
    db.dispose(app)


def test_copy_text_is_found_on_meilisearch_for_open_records_only(client, session, factory):
    archive = factory.archive()
    manager = factory.user("archive_admin", archive=archive, email="manager@example.cn")
    login(client, manager.email, PASSWORD)
    open_record = factory.record(archive, title="林权登记簿", category="forest_rights")
    restricted = factory.record(archive, title="林权登记簿", category="forest_rights", access_level="restricted")
    for record in (open_record, restricted):
        assert attach(client, record, text_pdf(), "scan.pdf").status_code == 303
        assert attach(client, record, scanned_pdf(), "扫描件.pdf").status_code == 303
    assert jobs.run_pending(session) == 4
    sync_outbox(db.session, get_index())
    for q in ("Longtan", "龙滩"):
        body = client.get(f"/api/v1/search?q={q}").get_json()
        assert body["backend"] == "meilisearch" and body["total"] == 1, q
        assert body["hits"][0]["reference_code"] == open_record.reference_code
        assert body["hits"][0]["highlight"] == "林权登记簿"
    assert client.get(f"/api/v1/search?q={MOBILE}").get_json()["total"] == 0
