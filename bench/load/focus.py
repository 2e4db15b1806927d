"""The issue's throughput ratios, one endpoint at a time against one freshly started portal:
`/healthz` (the ceiling), the HTML search page, `/api/v1/search` and record pages, each asked by
--users users with no pause for --duration, then `/healthz` again (the ceiling is the mean of its two
rounds, so a machine that slows down during the run does not flatter the others).

    python -m bench.load.focus --users 20 --duration 30s [--records 2000] [--backend embedded] [--write-docs]

Why a run of its own: in the mixed scenarios (bench/load/run.py) a locust user keeps its kept-alive
connection, so it stays on one gunicorn worker; the share of /healthz there compares mean response
times under a shared load, not what a worker can serve. Here every user asks the same endpoint and
the share is plainly req/s against /healthz's req/s. The query mix is bench/load/queries.txt.
--write-docs replaces the section between the focus markers in docs/benchmarks.md."""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bench.load.prepare import BACKENDS, POSTGRES
from bench.load.run import DOCS, Result, machine, run, served, snapshot

FOCUS_FILE = Path(__file__).with_name("focus_locustfile.py")
# (focus, endpoint as locust names it, target share of /healthz's req/s; None: the ceiling itself)
ENDPOINTS = [("search", "GET /search", 0.50), ("api", "GET /api/v1/search", 0.70),
             ("record", "GET /records/<archive>/<reference>", 0.60)]
P95_TARGET_MS = 150  # the search page and the API at 20 users
DOCS_START, DOCS_END = "<!-- focus:start -->", "<!-- focus:end -->"


def focus(url: str, name: str, users: int, duration: str) -> Result:
    return run(users=users, duration=duration, url=url, locustfile=FOCUS_FILE, scenario_env={"PORTAL_LOAD_FOCUS": name})


def measure(users: int, duration: str, records: int, backend: str, postgres: str) -> tuple[dict[str, Result], str, dict]:
    work = Path(tempfile.mkdtemp(prefix="portal-focus-"))
    try:
        with served(work, backend, records, 0, None, postgres) as (url, server, preparation):
            results = {"healthz": focus(url, "healthz", users, duration)}
            for name, _, _ in ENDPOINTS:
                results[name] = focus(url, name, users, duration)
            results["healthz again"] = focus(url, "healthz", users, duration)
            memory = snapshot(server.pid)
            return results, preparation.backend, {"memory": memory, "load": os.getloadavg()}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, Result], backend: str, extra: dict, users: int, duration: str, records: int,
           command: str) -> tuple[str, bool]:
    first, again = results["healthz"].rows[0], results["healthz again"].rows[0]
    ceiling = (first.rps + again.rps) / 2
    lines = [f"Command: `{command}` ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC). One fresh portal (`portal serve`, "
             f"{backend}, {records:,} catalog records); each endpoint alone, {users} users asking without pause for "
             f"{duration}, the load generator on the same machine.",
             "", f"Machine: {machine(extra['load'])}.", "",
             "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | failures | req/s vs /healthz | target |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    met = True

    def line(label: str, result: Result, goal: str) -> None:
        row = result.rows[0]
        lines.append(f"| {label} | {row.requests:,} | {row.rps:.1f} | {row.p50:.0f} | {row.p95:.0f} | {row.p99:.0f} | "
                     f"{row.failures} | {row.rps / ceiling:.0%} | {goal} |")

    line("`GET /healthz` (first)", results["healthz"], "the ceiling")
    for name, endpoint, share in ENDPOINTS:
        row = results[name].rows[0]
        goals = [f"≥ {share:.0%} {'✅' if row.rps >= share * ceiling else '❌'}"]
        ok = row.rps >= share * ceiling and row.failures == 0
        if name in ("search", "api"):
            goals.append(f"p95 ≤ {P95_TARGET_MS} ms {'✅' if row.p95 <= P95_TARGET_MS else '❌'}")
            ok = ok and row.p95 <= P95_TARGET_MS
        met = met and ok
        line(f"`{endpoint}`", results[name], ", ".join(goals))
    line("`GET /healthz` (again)", results["healthz again"], "the ceiling")
    failures = sum(r.failures for r in results.values())
    memory = extra["memory"]
    workers = ", ".join(f"{m.total:.0f}" for m in sorted(memory.workers.values(), key=lambda m: m.total))
    background = f"{memory.background.total:.0f}" if memory.background is not None else "—"
    lines += ["", f"The ceiling: {ceiling:.1f} req/s (the mean of the two /healthz rounds). Failures: {failures}. "
              f"Memory afterwards (VmRSS, MB): workers {workers}; background process {background}."]
    return "\n".join(lines), met and failures == 0


def write_docs(text: str, path: Path = DOCS) -> None:
    doc = path.read_text(encoding="utf-8")
    section = f"{DOCS_START}\n### Throughput of one endpoint against /healthz (issue 16's ratios)\n\n{text}\n{DOCS_END}"
    if DOCS_START in doc:
        head, rest = doc.split(DOCS_START, 1)
        doc = head + section + rest.split(DOCS_END, 1)[1]
    else:
        doc = doc.rstrip() + "\n\n" + section + "\n"
    path.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.focus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", default="30s", help="per endpoint (locust's --run-time; default 30s)")
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--backend", choices=BACKENDS, default="embedded")
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "-m", "bench.load.focus", *(argv if argv is not None else sys.argv[1:])])
    results, backend, extra = measure(args.users, args.duration, args.records, args.backend, args.postgres_url)
    text, met = report(results, backend, extra, args.users, args.duration, args.records, command)
    print(text)
    if args.write_docs:
        write_docs(text)
    return 0 if all(r.ok for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
