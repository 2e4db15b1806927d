"""A short run of the load scenarios (bench/load) against a freshly started portal: every scenario
runs and nothing fails; with the growth options (requests generated into the portal's own
database, the cache of prepared data, the memory of the server's processes sampled). No timing is
asserted: speed is measured by `make bench-load`."""
from __future__ import annotations

import os
import sqlite3

import pytest

from bench.load.prepare import prepared
from bench.load.run import run
from tests.bench.test_load_growth import DEMO_REQUESTS, assert_measured

# One run, one server: the whole file stays on one xdist worker.
pytestmark = pytest.mark.xdist_group("load_smoke")

# A request of each kind of user (the five in bench/load/locustfile.py).
ONE_OF_EACH = ("GET /search", "GET /me/records", "GET /staff/queue?tab=<tab>", "GET /verify", "GET /healthz")


def test_load_scenarios_run_without_failures_and_clean_up(tmp_path, capfd):
    result = run(users=5, duration="20s", records=200, requests=200, sample_every=1, cache=tmp_path)

    assert_measured(result)
    assert set(ONE_OF_EACH) <= {row.endpoint for row in result.rows}
    with pytest.raises(ProcessLookupError):
        os.killpg(result.server_pid, 0)  # the server, its workers and its background process are gone
    assert "added 200 requests" in capfd.readouterr().err
    assert len(result.leak.samples) >= 5
    assert {trend.process for trend in result.leak.trends()} == {
        *(f"worker {pid}" for pid in result.memory.workers), "background"}
    # The next run of the size starts from a copy of the data as it was made: the requests the
    # citizens made during this run were made in this run's copy only. Its index is rebuilt.
    with prepared(tmp_path / "again", "embedded", 200, 200, dict(os.environ), cache=tmp_path) as again:
        assert again.cached
        with sqlite3.connect(tmp_path / "again" / "portal.db") as conn:
            assert conn.execute("SELECT count(*) FROM utilization_request").fetchone()[0] == 200 + DEMO_REQUESTS
        assert (tmp_path / "again" / "search.sqlite3").exists()
    assert not list(tmp_path.glob("embedded-200-200/data/search.sqlite3*"))  # not kept: made by each run
