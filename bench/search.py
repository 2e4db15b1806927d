"""Benchmark: catalog search at 100,000 and 1,000,000 records, embedded and Meilisearch.

For each catalog size: seed a SQLite catalog with `seed_demo` (cached under bench/out/ between
runs), then for each backend rebuild the index from the database (throughput, size on disk) and
time a fixed mix of queries three ways — through the `search_index` call, through
`GET /api/v1/search` on a real gunicorn server, and (Meilisearch) raw over HTTP. Writes the
results into docs/benchmarks.md between the `search` markers.

    .venv/bin/python bench/search.py                       # 100k and 1M, both backends
    .venv/bin/python bench/search.py --records 100000 --backends embedded
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shlex
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, sys.path[0] is bench/, where queue.py would stand in for the standard
# library's `queue`: the repository root takes its place.
sys.path[0] = str(ROOT)

from sqlalchemy import func, select  # noqa: E402

from bench.common import cpu_model, replace_section  # noqa: E402
from bench.search_index_engine import raw_meili_load  # noqa: E402
from portal import create_app  # noqa: E402
from portal.catalog.demo import seed_demo  # noqa: E402
from portal.catalog.indexing import _all_documents, get_index, reindex  # noqa: E402
from portal.catalog.models import Record  # noqa: E402
from portal.db import db  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from search_index import SearchQuery  # noqa: E402
from tests.meili_server import MeiliServer  # noqa: E402

TARGETS = ("Targets at 1,000,000 records on 2 cores: embedded p95 ≤ 50 ms for every query in the mix; "
           "API on Meilisearch within 2× of raw Meilisearch at p50; full embedded reindex ≤ 5 minutes; "
           "Meilisearch reindex within 2× of raw Meilisearch indexing the same documents.")


def catalog(records: int, out: Path):
    """An app on a seeded SQLite catalog of `records` records, reused when it already exists."""
    data_dir = out / f"catalog-{records}"
    marker = data_dir / "seeded"
    app = create_app({"DATA_DIR": data_dir, "DATABASE_URL": f"sqlite:///{data_dir / 'portal.db'}"})
    with app.app_context():
        if not marker.exists():
            upgrade(db.engine)
            started = time.perf_counter()
            seed_demo(db.session, records=records, seed=1)
            print(f"seeded {records:,} records in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            marker.write_text(str(records))
    return app, data_dir


def query_mix(app) -> dict[str, list[dict]]:
    """The fixed mix, as API parameters; names and places come from the catalog itself."""
    with app.app_context():
        rows = db.session.execute(
            select(Record.subject_name, Record.place, Record.category)
            .where(Record.access_level == "open", Record.subject_name != "")
            .order_by(Record.id).limit(2000)).all()
    rng = random.Random(7)
    picks = rng.sample(rows, 10)
    return {
        "full name": [{"q": name} for name, _, _ in picks],
        "common word 婚姻": [{"q": "婚姻"}, {"q": "婚姻", "page": "2"}],
        "place + category": [{"q": place[:3], "category": cat} for _, place, cat in picks],
        "traditional 結婚登記 / 土地房產": [{"q": "結婚登記"}, {"q": "土地房產所有證"}],
        "one character 林": [{"q": "林"}, {"q": "婚"}],
        "year range 1960–1969": [{"year_from": "1960", "year_to": "1969"}],
    }


def to_query(params: dict) -> SearchQuery:
    return SearchQuery(q=params.get("q", ""), category=params.get("category"),
                       year_from=int(params["year_from"]) if "year_from" in params else None,
                       year_to=int(params["year_to"]) if "year_to" in params else None,
                       page=int(params.get("page", 1)))


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def measure(call, mix: dict[str, list[dict]], repeat: int) -> dict[str, tuple[float, float, float]]:
    results = {}
    for kind, queries in mix.items():
        for params in queries:  # warm caches once, as a running server would be
            call(params)
        samples = []
        for _ in range(repeat):
            for params in queries:
                started = time.perf_counter()
                call(params)
                samples.append((time.perf_counter() - started) * 1000)
        results[kind] = percentiles(samples)
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """The portal served as in production: gunicorn, two workers (one per core)."""

    def __init__(self, data_dir: Path, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT, env={**os.environ, "PORTAL_DATA_DIR": str(data_dir), **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def get(self, params: dict) -> None:
        with urllib.request.urlopen(f"{self.url}/api/v1/search?{urllib.parse.urlencode(params)}", timeout=30) as r:
            r.read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def bench_backend(backend: str, app, data_dir: Path, mix, repeat: int, meili: MeiliServer | None) -> dict:
    # The API's per-address throttle would turn a benchmark's requests away (429).
    env = {"SEARCH_BACKEND": backend, "PORTAL_RATE_LIMITS": "off"}
    if meili:
        env.update(MEILI_URL=meili.url, MEILI_MASTER_KEY=meili.master_key)
        app.config.update(SEARCH_BACKEND=backend, MEILI_URL=meili.url, MEILI_MASTER_KEY=meili.master_key)
    else:
        app.config.update(SEARCH_BACKEND=backend)
    app.extensions.pop("search_index", None)
    row: dict = {}
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Record))
        index = get_index()
        started = time.perf_counter()
        reindex(db.session, index)
        row["reindex_s"] = time.perf_counter() - started
        row["docs_per_s"] = count / row["reindex_s"]
        row["size_mb"] = size_mb(meili.workdir / "data.ms") if meili else sum(
            size_mb(p) for p in data_dir.glob("search.sqlite3*"))
        if meili:
            # Raw Meilisearch indexing the same documents, prepared beforehand and sent at once.
            row["raw_prepare_s"], row["raw_index_s"] = raw_meili_load(index, _all_documents(db.session, 5000))
        row["call"] = measure(lambda p: index.search(to_query(p)), mix, repeat)
        if meili:
            raw_index = index  # the exact request the backend sends, without the portal around it
            row["raw"] = measure(lambda p: raw_index.raw_search(to_query(p)), mix, repeat)
    server = Gunicorn(data_dir, env)
    try:
        row["api"] = measure(server.get, mix, repeat)
    finally:
        server.stop()
    return row


def report(results: dict, repeat: int, command: str) -> str:
    lines = [f"Machine: {os.cpu_count()} CPUs (`nproc`), {cpu_model()}; Python {platform.python_version()}. "
             f"Command: `{command}`. Each query kind: {repeat} rounds of its queries after one warm-up; "
             "latencies in ms (p50 / p95 / p99).", "", TARGETS, ""]
    for records, backends in results.items():
        lines += [f"#### {records:,} records", "",
                  "| backend | reindex | docs/s | index size | query kind | search_index call | API (gunicorn) | raw Meilisearch |",
                  "|---|---:|---:|---:|---|---|---|---|"]
        for backend, row in backends.items():
            for i, (kind, call) in enumerate(row["call"].items()):
                head = (f"| {backend} | {row['reindex_s']:.0f} s | {row['docs_per_s']:,.0f} | {row['size_mb']:.0f} MB"
                        if i == 0 else "| | | | ")
                fmt = lambda t: " / ".join(f"{v:.1f}" for v in t)  # noqa: E731
                raw = fmt(row["raw"][kind]) if "raw" in row else "—"
                lines.append(f"{head} | {kind} | {fmt(call)} | {fmt(row['api'][kind])} | {raw} |")
        lines.append("")
        for backend, row in backends.items():
            if "raw_index_s" in row:
                lines += [f"Raw Meilisearch indexing the same {records:,} documents (their to_meili() form "
                          f"prepared first, in {row['raw_prepare_s']:.0f} s, then sent at once): "
                          f"{row['raw_index_s']:.0f} s; the {backend} reindex took "
                          f"{row['reindex_s'] / row['raw_index_s']:.2f}× that.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["embedded", "meilisearch"],
                        choices=["embedded", "meilisearch"])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--no-write", action="store_true", help="print, do not update docs/benchmarks.md")
    args = parser.parse_args()
    command = " ".join(["bench/search.py", *map(shlex.quote, sys.argv[1:])])
    results: dict = {}
    for records in args.records:
        app, data_dir = catalog(records, args.out)
        mix = query_mix(app)
        results[records] = {}
        for backend in args.backends:
            meili = MeiliServer.start(indexing_threads=None) if backend == "meilisearch" else None
            try:
                results[records][backend] = bench_backend(backend, app, data_dir, mix, args.repeat, meili)
            finally:
                if meili:
                    meili.stop()
            print(f"{records:,} {backend}: done", file=sys.stderr)
            # Written after every backend, so a long run that fails late keeps what it measured.
            text = report(results, args.repeat, f".venv/bin/python {command}")
            if not args.no_write:
                replace_section(ROOT / "docs" / "benchmarks.md", "search", "### Catalog search", text)
        db.dispose(app)
    print(text)


if __name__ == "__main__":
    main()
