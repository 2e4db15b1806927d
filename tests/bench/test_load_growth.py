"""The load runner's PostgreSQL + Meilisearch backend end to end at a tiny size (the embedded
default, with the growth options, is test_load_smoke.py's run). Nothing here asserts a timing:
speed is measured by bench/load."""
from __future__ import annotations

import os

import psycopg
import pytest

from bench.load.run import run
from tests.meili_server import binary_path

PG_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL")
DEMO_REQUESTS = 4  # `portal seed-demo` makes the demo citizen's


def assert_measured(result) -> None:
    assert result.failures == 0, [row for row in result.rows if row.failures]
    assert result.exceptions == []
    assert result.memory.workers and all(m.total >= m.anon > 0 for m in result.memory.workers.values())
    assert result.memory.background.total > 0  # the background process, apart from the workers
    assert not result.work_dir.exists()


@pytest.mark.skipif(not PG_URL, reason="needs PORTAL_TEST_POSTGRES_URL (a PostgreSQL server to make a database on)")
def test_postgres_and_meilisearch_backend_runs_and_drops_its_database():
    if not binary_path().exists() and os.environ.get("MEILI_REQUIRED") != "1":
        pytest.skip(f"no Meilisearch binary at {binary_path()}")
    result = run(users=5, duration="10s", records=200, requests=200, backend="postgres-meili", postgres=PG_URL)

    assert_measured(result)
    assert result.prepared.backend.startswith("PostgreSQL")
    with psycopg.connect(PG_URL) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            (f"portal\\_load\\_{os.getpid()}\\_%",)).fetchall()
    assert left == []
