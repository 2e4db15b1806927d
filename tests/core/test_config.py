"""Secrets are generated once per data dir, whole, and never empty."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from portal.config import load_config


def test_processes_starting_together_on_a_new_data_dir_share_one_whole_secret(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        configs = list(pool.map(lambda _: load_config({"DATA_DIR": tmp_path}), range(16)))
    assert len({c["DATA_KEY"] for c in configs}) == 1 and len({c["SECRET_KEY"] for c in configs}) == 1
    assert len(configs[0]["DATA_KEY"]) >= 32
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["data_key", "secret_key"]


def test_secret_survives_a_restart(tmp_path):
    assert load_config({"DATA_DIR": tmp_path})["DATA_KEY"] == load_config({"DATA_DIR": tmp_path})["DATA_KEY"]


@pytest.mark.parametrize("variable", ["PORTAL_DATA_KEY", "SECRET_KEY"])
def test_a_short_secret_from_the_environment_is_refused(tmp_path, monkeypatch, variable):
    monkeypatch.setenv(variable, "too-short")
    with pytest.raises(RuntimeError, match=variable):
        load_config({"DATA_DIR": tmp_path})


def test_an_emptied_key_file_is_refused_rather_than_used(tmp_path):
    load_config({"DATA_DIR": tmp_path})
    (tmp_path / "keys" / "data_key").write_text("")
    with pytest.raises(RuntimeError, match="data_key"):
        load_config({"DATA_DIR": tmp_path})


@pytest.mark.parametrize(("url", "local"), [
    ("http://127.0.0.1:5000", True), ("http://127.8.0.1", True), ("http://localhost:8000", True),
    ("http://LOCALHOST.", True), ("http://app.localhost", True), ("http://[::1]:5000", True),
    ("http://0.0.0.0:5000", True), ("https://dangan.example.gov.cn", False), ("http://192.168.1.5:5000", False),
    ("http://localhost.localdomain:5000", True), ("http://ip6-localhost", True), ("http://127.1:5000", True),
    ("http://[::ffff:127.0.0.1]:5000", True), ("http://2130706433", True), ("http://10.1", False)])
def test_links_only_this_machine_can_open_are_told_apart(url, local):
    from portal.config import points_at_this_machine

    assert points_at_this_machine(url) is local


def test_serve_links_to_the_address_it_serves():
    from portal.config import served_url

    assert served_url("127.0.0.1", 5123) == "http://127.0.0.1:5123"
    assert served_url("::1", 8000) == "http://[::1]:8000"
    assert not served_url("0.0.0.0", 8000).startswith("http://0.0.0.0")


def test_dev_comes_from_portal_dev(tmp_path, monkeypatch):
    from portal.config import development

    monkeypatch.delenv("PORTAL_DEV", raising=False)
    assert load_config({"DATA_DIR": tmp_path})["DEV"] is False
    monkeypatch.setenv("PORTAL_DEV", "1")
    assert development(load_config({"DATA_DIR": tmp_path}))
