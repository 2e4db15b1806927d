"""A short run of the load scenarios (bench/load) against a freshly started portal: every scenario
runs and nothing fails. No timing is asserted: speed is measured by `make bench-load`."""
from __future__ import annotations

import os

import pytest

from bench.load.run import run

# One run, one server: the whole file stays on one xdist worker.
pytestmark = pytest.mark.xdist_group("load_smoke")

# A request of each kind of user (the five in bench/load/locustfile.py).
ONE_OF_EACH = ("GET /search", "GET /me/records", "GET /staff/queue?tab=<tab>", "GET /verify", "GET /healthz")


def test_load_scenarios_run_without_failures_and_clean_up():
    result = run(users=5, duration="20s")

    assert result.failures == 0, [row for row in result.rows if row.failures]
    assert result.exceptions == []
    assert set(ONE_OF_EACH) <= {row.endpoint for row in result.rows}
    assert not result.work_dir.exists()  # the data directory, the logs and locust's files
    with pytest.raises(ProcessLookupError):
        os.killpg(result.server_pid, 0)  # the server, its workers and its background process are gone
