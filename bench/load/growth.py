"""Growth: the load scenarios at growing sizes, on both backends, and one table of how each cost grows.

    .venv/bin/python -m bench.load.growth --sizes 10000 100000 1000000 --write-docs

A size N is a fresh portal with N catalog records and N generated requests — what
`python -m bench.load.run --records N --requests N --backend B` runs — loaded by the same scenarios
(--users, --duration) on each backend in turn, the smaller sizes first. The data of each size is
kept under bench/out/load/ for the next time (--no-cache: not). With --write-docs, the table is
written into docs/benchmarks.md between the `growth` markers after every run, so that a long run
that stops late keeps what it measured. The exit status is 1 when any run had a failure."""
from __future__ import annotations

import argparse
import shlex
import signal
import sys
from datetime import datetime, timezone

from bench.common import replace_section
from bench.load.memory import WORKER_BUDGET_MB
from bench.load.prepare import BACKENDS, CACHE, POSTGRES
from bench.load.run import CEILING, DOCS, ROOT, Result, machine, run, table

QUEUE_PAGE = "GET /staff/queue?tab=<tab>"
QUEUE_TARGET_MS = 100  # issue 16: the staff queue page at p95 ≤ 100 ms with 1,000,000 requests
HEADING = "### Load scenarios as the data grows"


def cell(row, ceiling: float) -> str:
    share = f" · {ceiling / row.mean:.0%}" if ceiling and row.mean else ""
    late = " ❌" if row.endpoint == QUEUE_PAGE and row.p95 > QUEUE_TARGET_MS else ""
    failed = f" ({row.failures} failed)" if row.failures else ""
    return f"{row.p50:.0f} / {row.p95:.0f}{late}{share}{failed}"


def backend_table(runs: dict[int, Result]) -> str:
    """One backend: a column per size, a row per endpoint (p50 / p95 ms · throughput vs /healthz)."""
    sizes = list(runs)
    lines = ["| | " + " | ".join(f"{size:,}" for size in sizes) + " |", "|---|" + "---:|" * len(sizes)]

    def line(label: str, values) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    def rss(snap) -> str:  # each worker's VmRSS (RssAnon)
        return ", ".join(f"{m.total:.0f}{' ❌' if m.total > WORKER_BUDGET_MB else ''} ({m.anon:.0f})"
                         for m in sorted(snap.workers.values(), key=lambda m: m.total)) or "—"

    line("prepared in", (f"{r.prepared.seconds:.0f} s{' (cache)' if r.prepared.cached else ''}" for r in runs.values()))
    line("load average (1 min) at the end", (f"{r.load[0]:.1f}" for r in runs.values()))
    line("`/healthz` req/s", (f"{next((row.rps for row in r.rows if row.endpoint == CEILING), 0):.0f}"
                              for r in runs.values()))
    line("failures", (str(r.failures) for r in runs.values()))
    line("worker VmRSS (RssAnon) after, MB", (rss(r.memory) if r.memory else "—" for r in runs.values()))
    line("background VmRSS after, MB", (f"{r.memory.background.total:.0f}" if r.memory and r.memory.background
                                        else "—" for r in runs.values()))
    endpoints = sorted({row.endpoint for r in runs.values() for row in r.rows},
                       key=lambda e: (e != CEILING, e != QUEUE_PAGE, e.split(" ", 1)[1], e))
    for endpoint in endpoints:
        values = []
        for r in runs.values():
            ceiling = next((row.mean for row in r.rows if row.endpoint == CEILING), 0.0)
            row = next((row for row in r.rows if row.endpoint == endpoint), None)
            values.append(cell(row, ceiling) if row else "—")
        line(f"`{endpoint}`", values)
    return "\n".join(lines)


def report(results: dict[str, dict[int, Result]], command: str, users: int, duration: str) -> str:
    last = next(reversed(next(reversed(results.values())).values()))
    parts = [
        f"Command: `{command}` ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC). A column is one run: a fresh "
        f"portal (`portal serve`) with that many catalog records (`portal seed-demo --records N`) and as many "
        f"requests (bench/queue.py's generator), {users} users for {duration}, the load generator on the same machine.",
        f"Machine: {machine(last.load)}.",
        "A cell is p50 / p95 in ms · throughput against `/healthz` in the same run (as in the load table above: "
        "/healthz's mean response time over the endpoint's). Targets (issue 16): the staff queue page "
        f"(`{QUEUE_PAGE}`) p95 ≤ {QUEUE_TARGET_MS} ms at 1,000,000 requests (❌ marks a p95 over it at any size); "
        f"worker RSS ≤ {WORKER_BUDGET_MB} MB after the scenarios; HTML search ≥ 50 %, `/api/v1/search` ≥ 70 %, "
        "record page ≥ 60 % of /healthz.",
    ]
    for backend, runs in results.items():
        name = next(iter(runs.values())).prepared.backend
        parts += [f"#### {backend}: {name}", backend_table(runs)]
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.growth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="catalog records and requests of each run (default 10000 100000 1000000)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument("--duration", default="60s", help="locust's --run-time for each run (default 60s)")
    parser.add_argument("--postgres-url", default=POSTGRES, help=f"the PostgreSQL server (default {POSTGRES})")
    parser.add_argument("--no-cache", action="store_true", help=f"keep nothing in {CACHE.relative_to(ROOT)}")
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the server
    command = shlex.join([".venv/bin/python", "-m", "bench.load.growth", *(argv if argv is not None else sys.argv[1:])])

    results: dict[str, dict[int, Result]] = {}
    for size in sorted(args.sizes):
        for backend in args.backends:
            print(f"\n{backend}, {size:,} records and requests:", file=sys.stderr)
            result = run(args.users, args.duration, records=size, requests=size, backend=backend,
                         cache=None if args.no_cache else CACHE, postgres=args.postgres_url)
            results.setdefault(backend, {})[size] = result
            print(table(result), file=sys.stderr)
            if args.write_docs:
                replace_section(DOCS, "growth", HEADING, report(results, command, args.users, args.duration))
    print(report(results, command, args.users, args.duration))
    if args.write_docs:
        print(f"\nwritten to {DOCS.relative_to(ROOT)}")
    return 0 if all(r.ok for runs in results.values() for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
