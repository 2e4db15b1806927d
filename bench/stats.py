"""Benchmark: the statistics dashboard (利用统计) with 100,000 requests, on SQLite and PostgreSQL.

The data is bench/queue.py's (`generate`: the demo archives, staff and catalog, then the requests
with their timelines and verification tasks, spread over three years), cached under
bench/out/stats/ (PostgreSQL: in its own database); on top of it, once, each issued request gets its
certificate (found when a holding archive verified, else not found) at its issue event's time, and
the requests a channel (about 70% web, 20% counter, 10% API) — both as single SQL statements.

Then, signed in as the network admin, it times GET /admin/<code>/statistics for the busy archive
and GET /admin/statistics for the whole network, over this month (the default), the last twelve
months and the three years, plus one chart (SVG) and the API's JSON, through the Flask test
client, each sample from a fresh session. Target: p95 < 300 ms for the dashboard page.

    .venv/bin/python bench/stats.py                        # SQLite and PostgreSQL
    .venv/bin/python bench/stats.py --backends sqlite --repeat 10

Prints a Markdown table for docs/admin-stats.md (the command and the machine with it)."""
from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]  # bench/queue.py is not stdlib queue

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402

ROOT = _HERE.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from bench.common import cpu_model  # noqa: E402
from bench.queue import BUSY, fresh_session, prepared_app, timed  # noqa: E402
from portal.catalog.demo_data import PASSWORD  # noqa: E402
from portal.certificates.models import Certificate  # noqa: E402
from portal.core.clock import china_today  # noqa: E402
from portal.db import db, make_engine  # noqa: E402
from portal.requests.models import UtilizationRequest  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_stats"
TARGET_MS = 300

CERTIFICATES = """
INSERT INTO certificate (serial, code, request_id, kind, status, sha256, stored_name, size, issued_at, issued_by_id,
                         revoke_reason)
SELECT 'BENCH-' || e.request_id, 'BENCH', e.request_id,
       CASE WHEN EXISTS (SELECT 1 FROM verification_task t WHERE t.request_id = e.request_id
                         AND t.status = 'verified') THEN 'found' ELSE 'not_found' END,
       'valid', 'bench', 'bench.pdf', 0, e.at, e.actor_id, ''
FROM request_event e WHERE e.action = 'issue'
"""
CHANNELS = """
UPDATE utilization_request SET channel = CASE WHEN id % 10 < 2 THEN 'counter' WHEN id % 10 = 2 THEN 'api'
                                              ELSE 'web' END
"""


def ensure_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    engine = make_engine(base + "/postgres")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def add_certificates_and_channels() -> int:
    session = db.session
    if not session.scalar(select(func.count()).select_from(Certificate)):
        session.execute(text(CERTIFICATES))
        session.execute(text(CHANNELS))
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM (ANALYZE)"))
        else:
            session.execute(text("ANALYZE"))
            session.commit()
    count = session.scalar(select(func.count()).select_from(Certificate))
    fresh_session()
    return count


def cases() -> list[tuple[str, str]]:
    today = china_today()
    ranges = {"this month": "", "12 months": f"?from={(today - timedelta(days=365)).isoformat()}&to={today}",
              "3 years": f"?from={(today - timedelta(days=3 * 366)).isoformat()}&to={today}"}
    found = []
    for label, query in ranges.items():
        found.append((f"archive {BUSY}, {label}", f"/admin/{BUSY}/statistics{query}"))
        found.append((f"network, {label}", f"/admin/statistics{query}"))
    found.append(("chart months.svg, network, 12 months", f"/admin/statistics/chart/months.svg{ranges['12 months']}"))
    return found


def run_backend(app, repeat: int, only: str = "") -> dict:
    from tests.helpers import login

    results = {}
    with app.app_context():
        certificates = add_certificates_and_channels()
        requests = db.session.scalar(select(func.count()).select_from(UtilizationRequest))
        fresh_session()
        client = app.test_client()
        response = login(client, "admin@demo.cn", PASSWORD)
        if response.status_code not in (302, 303):
            raise SystemExit(f"could not sign in as the network admin (HTTP {response.status_code})")
        first = first_use(client) if has_store() and not only else {}
        for label, url in cases():
            if only not in label:
                continue

            def call(url=url):
                r = client.get(url)
                if r.status_code != 200:
                    raise RuntimeError(f"GET {url}: HTTP {r.status_code}")
                r.get_data()
            results[label] = timed(call, repeat)

        def page_with_charts(url=dict(cases())["network, 12 months"]):
            html = client.get(url).get_data(as_text=True)
            for src in re.findall(r'<img class="stats-chart" src="([^"]+)"', html):
                assert client.get(src.replace("&amp;", "&")).status_code == 200
        if only in "page + its 5 charts, network, 12 months":
            results["page + its 5 charts, network, 12 months"] = timed(page_with_charts, repeat)
        if only not in "API, network, this month":
            return {"requests": requests, "certificates": certificates, "results": results, "first": first}
        token = client.post("/api/v1/tokens", json={"email": "admin@demo.cn", "password": PASSWORD}).get_json()["token"]

        def api():
            r = client.get("/api/v1/statistics", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.get_data(as_text=True)
        results["API, network, this month"] = timed(api, repeat)
    return {"requests": requests, "certificates": certificates, "results": results, "first": first}


def has_store() -> bool:
    from sqlalchemy import inspect
    return inspect(db.session.get_bind()).has_table("stats_month")


def first_use(client) -> dict:
    """The store emptied, then one view each of three years (the archive, the network): the cost of
    counting and keeping every finished month, once."""
    db.session.execute(text("DELETE FROM stats_month"))
    db.session.commit()
    fresh_session()
    found = {}
    for label, url in cases():
        if "3 years" in label:
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            found[label] = (time.perf_counter() - started) * 1000
            fresh_session()
    return found


def report(measured: dict, command: str, repeat: int) -> str:
    lines = [f"Command: `{command}`  ",
             f"Machine: {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
             f"{platform.system()} {platform.release()}; {repeat} samples per case, each from a fresh session "
             f"(Flask test client, signed in as the network admin). Target: dashboard p95 < {TARGET_MS} ms.", ""]
    for backend, m in measured.items():
        lines += [f"**{backend}** — {m['requests']:,} requests, {m['certificates']:,} certificates", "",
                  "| case | p50 ms | p95 ms | p99 ms |", "|---|---:|---:|---:|"]
        lines += [f"| {label} | {p50:.0f} | {p95:.0f} | {p99:.0f} |" for label, (p50, p95, p99) in m["results"].items()]
        lines.append("")
        if m.get("first"):
            lines += ["First view after emptying the store (counts and keeps every finished month, once): "
                      + ", ".join(f"{label} {ms:.0f} ms" for label, ms in m["first"].items()), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL; its public schema is DROPPED")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "stats")
    parser.add_argument("--only", default="", help="only the cases whose label contains this")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached data")
    args = parser.parse_args()
    if args.database_url.rstrip("/").endswith("/test"):
        parser.error("never the `test` database: use a database of its own (the default is bench_stats)")
    args.out.mkdir(parents=True, exist_ok=True)
    command = " ".join(shlex.quote(a) for a in [os.path.relpath(sys.executable, ROOT), "bench/stats.py",
                                                *sys.argv[1:]])
    measured = {}
    for backend in args.backends:
        if backend == "postgresql":
            ensure_database(args.database_url)
        app, _generated = prepared_app(backend, args.requests, args.out, args.database_url, args.regenerate)
        measured[backend] = run_backend(app, args.repeat, args.only)
        db.dispose(app)
        print(f"{backend}: done", file=sys.stderr)
    print(report(measured, command, args.repeat))


if __name__ == "__main__":
    main()
