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
