"""Links come from configuration, never from a request's Host header (issue 11, section 7).

The attack: `Host: evil.example` made API answers link to http://evil.example/… (search hits,
Location, certificate links) — a poisoned cache or a phishing mail built from a real answer."""
from __future__ import annotations

from portal.catalog.indexing import get_index, sync_outbox
from portal.config import load_config
from portal.db import db


def test_a_request_for_an_unknown_host_is_refused(client):
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/v1/search?q=结婚", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "127.0.0.1:5000"}).status_code == 200


def test_absolute_links_use_the_configured_address_whatever_host_was_asked(app, client, factory):
    factory.record(factory.archive(), title="结婚登记审查处理表")
    sync_outbox(db.session, get_index())
    app.config["PUBLIC_URL"] = "https://dangan.example.gov.cn"
    hits = client.get("/api/v1/search?q=结婚", headers={"Host": "localhost"}).get_json()["hits"]
    assert hits and all(hit["url"].startswith("https://dangan.example.gov.cn/records/") for hit in hits)


def test_trusted_hosts_follow_the_public_address_or_the_list(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://dangan.example.gov.cn")
    monkeypatch.delenv("PORTAL_TRUSTED_HOSTS", raising=False)
    assert load_config({"DATA_DIR": tmp_path})["TRUSTED_HOSTS"][0] == "dangan.example.gov.cn"
    monkeypatch.setenv("PORTAL_TRUSTED_HOSTS", "dangan.example.gov.cn, www.dangan.example.gov.cn")
    assert load_config({"DATA_DIR": tmp_path})["TRUSTED_HOSTS"] == ["dangan.example.gov.cn",
                                                                   "www.dangan.example.gov.cn"]
