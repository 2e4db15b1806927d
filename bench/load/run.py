"""Run the load scenarios (bench/load/locustfile.py) and print one line per endpoint: requests, req/s,
p50/p95/p99 (ms), failures, and req/s as a share of /healthz's, measured in the same run; then the
memory (RSS) of each gunicorn worker and of the background process after the scenarios.

    python -m bench.load.run --users 20 --duration 60s [--url URL] [--write-docs]
    python -m bench.load.run --records 10000 --requests 10000 --backend postgres-meili
    python -m bench.load.run --leak-check            # 10 minutes, memory sampled every 10 s

Without --url it prepares a fresh portal (bench/load/prepare.py: demo data with --records catalog
records, --requests generated requests, signing keys, search index; on SQLite and the embedded
index, or with --backend postgres-meili on a PostgreSQL database and a Meilisearch of its own) and
starts it on a free port with `portal serve` — whichever server that runs — with the throttles
off (PORTAL_RATE_LIMITS=off) and the per-account and per-address limits raised, so that load is
not turned into 429s and 422s; the server, the database and the search engine are stopped and
removed at the end, whatever happens. Data that took long to make is kept under bench/out/load/
for the next run of the same size (--no-cache: not). With --url, the portal there must have the
demo data and the same settings, and its memory is not measured.
--leak-check samples the memory every --sample-every seconds and reports, per process, its RSS and
its heap (RssAnon) once warmed up (after --warm-up seconds, by default a fifth of the run) and at the
end, its peak and its slope; "growth" when a heap grew by more than bench/load/memory.GROWTH_MB
after the warm-up.
--write-docs appends the table, the machine, the date and the command to docs/benchmarks.md.
The exit status is 1 when any request failed, a scenario raised an exception or the leak check
found growth. Growth over data sizes: bench/load/growth.py."""
from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.common import cpu_model
from bench.load.memory import GROWTH_MB, WORKER_BUDGET_MB, LeakCheck, Sampler, Snapshot, snapshot
from bench.load.prepare import BACKENDS, CACHE, POSTGRES, Prepared, prepared

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
DOCS = ROOT / "docs" / "benchmarks.md"
BIN = Path(sys.executable).parent
CEILING = "GET /healthz"
# The portal under load: no throttles, and limits far beyond what one run reaches (the demo citizen
# applies hundreds of times; every made-up serial the verifiers try is a failed look-up).
SERVER_SETTINGS = {
    "PORTAL_RATE_LIMITS": "off",
    "PORTAL_MAX_OPEN_REQUESTS": "1000000",
    "PORTAL_MAX_CERTIFICATE_LOOKUP_FAILURES": "1000000000",
    "PORTAL_DEMO": "1",  # a demo on one machine: certificates may link to 127.0.0.1
}
STOP_SECONDS = 40  # gunicorn's graceful shutdown (30 s) and a little more


@dataclass
class Row:
    endpoint: str
    requests: int
    rps: float
    mean: float
    p50: float
    p95: float
    p99: float
    failures: int


@dataclass
class Result:
    rows: list[Row]
    exceptions: list[str] = field(default_factory=list)
    work_dir: Path | None = None
    server_pid: int | None = None
    prepared: Prepared | None = None  # None against --url
    memory: Snapshot | None = None  # the server's processes after the scenarios
    leak: LeakCheck | None = None
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # load average when the scenarios ended

    @property
    def failures(self) -> int:
        return sum(row.failures for row in self.rows)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and self.failures == 0 and not self.exceptions


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the portal stopped (exit {server.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"/healthz did not answer within {seconds:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server (gunicorn stops its workers and the background process), then, after a
    grace period or at once for anything left over, SIGKILL to its whole process group."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    server.wait()


def run_locust(url: str, users: int, duration: str, prefix: Path, locustfile: Path = LOCUSTFILE,
               env: dict[str, str] | None = None) -> None:
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users), "-r", str(users),
               "--run-time", duration, "--host", url, "--csv", str(prefix), "--only-summary", "--stop-timeout", "10"]
    with open(prefix.with_name("locust.log"), "wb") as log:
        # Exit status 1 means failures, which the table shows; a missing stats file is the real error.
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, check=False, env={**os.environ, **(env or {})})
    if not prefix.with_name(prefix.name + "_stats.csv").exists():
        raise RuntimeError("locust wrote no statistics:\n" + prefix.with_name("locust.log").read_text(errors="replace")[-3000:])


def read_results(prefix: Path) -> Result:
    rows = []
    with open(prefix.with_name(prefix.name + "_stats.csv"), newline="", encoding="utf-8") as stats:
        for line in csv.DictReader(stats):
            if line["Name"] == "Aggregated":
                continue
            rows.append(Row(f"{line['Type']} {line['Name']}", int(line["Request Count"]), float(line["Requests/s"]),
                            float(line["Average Response Time"]),
                            float(line["50%"]), float(line["95%"]), float(line["99%"]), int(line["Failure Count"])))
    with open(prefix.with_name(prefix.name + "_exceptions.csv"), newline="", encoding="utf-8") as raised:
        exceptions = [f"{line['Count']}× {line['Message']}\n{line['Traceback']}" for line in csv.DictReader(raised)]
    with open(prefix.with_name(prefix.name + "_failures.csv"), newline="", encoding="utf-8") as failed:
        for line in csv.DictReader(failed):
            print(f"failure: {line['Occurrences']}× {line['Method']} {line['Name']}: {line['Error']}", file=sys.stderr)
    return Result(rows, exceptions)


def seconds(duration: str) -> float:
    """locust's --run-time (90, 90s, 10m, 1h30m) in seconds."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?", duration.strip())
    if not parts or not any(parts.groups()):
        raise ValueError(f"not a duration: {duration!r}")
    hours, minutes, secs = (int(part or 0) for part in parts.groups())
    return hours * 3600 + minutes * 60 + secs


@contextmanager
def served(work: Path, backend: str = "embedded", records: int = 2000, requests: int = 0, cache: Path | None = None,
           postgres: str = POSTGRES) -> Iterator[tuple[str, subprocess.Popen, Prepared]]:
    """A fresh portal (see prepare.prepared for the arguments) served by `portal serve` on a free
    port, with its log in `work`; stopped, with its database and search engine, on the way out."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = {**os.environ, **SERVER_SETTINGS, "PORTAL_PUBLIC_URL": url}
    with prepared(work / "data", backend, records, requests, settings, cache, postgres) as preparation:
        log = work / "server.log"
        with open(log, "wb") as out:
            server = subprocess.Popen([str(BIN / "portal"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                      env=preparation.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_healthy(url, server, log)
            yield url, server, preparation
        finally:
            stop(server)


def run(users: int = 20, duration: str = "60s", url: str | None = None, records: int = 2000, requests: int = 0,
        backend: str = "embedded", cache: Path | None = None, postgres: str = POSTGRES,
        sample_every: float | None = None, warm_up: float | None = None,
        locustfile: Path = LOCUSTFILE, scenario_env: dict[str, str] | None = None) -> Result:
    """The scenarios of `locustfile` (with `scenario_env` in locust's environment) against `url`, or
    against a fresh portal started here and stopped at the end (see served()). With `sample_every`,
    the server's memory is sampled that often during the run (a leak check)."""
    work = Path(tempfile.mkdtemp(prefix="portal-load-"))
    server = preparation = sampler = None
    try:
        with ExitStack() as stack:  # undone in reverse: the server, then the search engine and the database
            if url is None:
                url, server, preparation = stack.enter_context(served(work, backend, records, requests, cache, postgres))
                if sample_every:
                    sampler = Sampler(server.pid, sample_every)
                    sampler.start()
            try:
                run_locust(url.rstrip("/"), users, duration, work / "locust", locustfile, scenario_env)
            finally:
                samples = sampler.stop() if sampler else []
            result = read_results(work / "locust")
            result.load = os.getloadavg()
            result.prepared = preparation
            if server is not None:
                result.memory = snapshot(server.pid)
            if sampler:
                result.leak = LeakCheck(sample_every, seconds(duration) / 5 if warm_up is None else warm_up, samples)
            if not result.ok and (log := work / "server.log").exists():
                print("the server's log, last lines:\n" + log.read_text(errors="replace")[-5000:], file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.work_dir, result.server_pid = work, server.pid if server is not None else None
    return result


def table(result: Result) -> str:
    """One line per endpoint. The last column is what one user gets from the endpoint against what
    it gets from /healthz: each user waits for its answer before sending the next request, so one
    user's throughput is 1 / mean response time, and the ratio is /healthz's mean over the
    endpoint's, both under the same load in the same run (the total req/s of a row follows the
    scenarios' weights, not the endpoint's speed)."""
    ceiling = next((row.mean for row in result.rows if row.endpoint == CEILING), 0.0)
    lines = ["| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | failures | throughput vs /healthz |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in sorted(result.rows, key=lambda r: (r.endpoint != CEILING, r.endpoint.split(" ", 1)[1], r.endpoint)):
        share = f"{ceiling / row.mean:.0%}" if ceiling and row.mean else "—"
        lines.append(f"| `{row.endpoint}` | {row.requests:,} | {row.rps:.1f} | {row.p50:.0f} | {row.p95:.0f} | "
                     f"{row.p99:.0f} | {row.failures} | {share} |")
    return "\n".join(lines)


def memory(result: Result) -> str:
    """The memory of the server's processes after the scenarios, against the workers' budget."""
    if result.memory is None:
        return "Memory: not measured (a portal given with --url)."
    snap = result.memory
    workers = ", ".join(f"{m.total:.0f}{' ❌' if m.total > WORKER_BUDGET_MB else ''} ({m.anon:.0f} + {m.file:.0f})"
                        for m in sorted(snap.workers.values(), key=lambda m: m.total))
    background = f"{snap.background.total:.0f} MB" if snap.background is not None else "none"
    return (f"Memory after the scenarios (VmRSS, and in brackets its RssAnon + RssFile — heap + mapped files; "
            f"MB of 10^6 bytes; target ≤ {WORKER_BUDGET_MB} MB per worker): gunicorn workers {workers or '—'} MB; "
            f"background process {background}; gunicorn master {snap.master.total:.0f} MB.")


def leak_table(leak: LeakCheck) -> str:
    lines = [f"Leak check: memory sampled every {leak.every:g} s ({len(leak.samples)} samples), warm-up "
             f"{leak.warm_up:.0f} s; \"growth\" when a process's heap (RssAnon) grew by more than {GROWTH_MB:g} MB "
             "from the end of the warm-up to the end of the run (medians of three samples; bench/load/memory.py "
             "says why that threshold).",
             "",
             "| process | VmRSS after warm-up → end | RssAnon after warm-up → end | peak VmRSS | RssAnon slope | verdict |",
             "|---|---:|---:|---:|---:|---|"]
    for trend in leak.trends():
        verdict = "growth ❌" if trend.growth else "steady"
        if trend.late:
            verdict += " (started during the run: a replaced worker)"
        lines.append(f"| {trend.process} | {trend.start.total:.1f} → {trend.end.total:.1f} MB | "
                     f"{trend.start.anon:.1f} → {trend.end.anon:.1f} MB | {trend.peak:.1f} MB | "
                     f"{trend.slope:+.2f} MB/min | {verdict} |")
    return "\n".join(lines)


def machine(load: tuple[float, float, float]) -> str:
    uname = platform.uname()
    return (f"{os.cpu_count()} CPUs (`nproc`), {cpu_model()}; `uname -srm`: {uname.system} {uname.release} "
            f"{uname.machine}; Python {platform.python_version()}; load average (1/5/15 min) when the scenarios "
            f"ended: {' / '.join(f'{value:.1f}' for value in load)}")


def target(result: Result, records: int, requests: int, url: str | None) -> str:
    if url:
        return url
    ready = result.prepared
    return (f"a fresh portal (`portal serve`; {ready.backend}; demo data with {records:,} catalog records and "
            f"{requests:,} generated requests, prepared in {ready.seconds:.0f} s{' from the cache' if ready.cached else ''})")


DOCS_START, DOCS_END = "<!-- load:start -->", "<!-- load:end -->"
DOCS_HEADING = """### Load scenarios (locust)

Written by `.venv/bin/python -m bench.load.run --write-docs` (`make bench-load`): each run is added at the end of this list."""


def write_docs(report: str, path: Path = DOCS) -> None:
    """Add this run's report to the load section (created at the end of the file the first time)."""
    text = path.read_text(encoding="utf-8")
    if DOCS_END not in text:
        text = text.rstrip() + f"\n\n{DOCS_START}\n{DOCS_HEADING}\n{DOCS_END}\n"
    head, tail = text.rsplit(DOCS_END, 1)
    path.write_text(f"{head.rstrip()}\n\n{report.rstrip()}\n{DOCS_END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument("--duration", help="locust's --run-time: 60s, 5m… (default 60s; 10m with --leak-check)")
    parser.add_argument("--url", help="a running portal with the demo data (default: start a fresh one)")
    parser.add_argument("--records", type=int, default=2000, help="catalog records of the fresh portal (default 2000)")
    parser.add_argument("--requests", type=int, default=0,
                        help="requests generated into it in bulk, as bench/queue.py makes them (default 0)")
    parser.add_argument("--backend", choices=BACKENDS, default="embedded",
                        help="embedded: SQLite and the embedded index (default); postgres-meili: a PostgreSQL "
                             "database made for the run and a Meilisearch of its own")
    parser.add_argument("--postgres-url", default=POSTGRES,
                        help=f"the PostgreSQL server for postgres-meili (default {POSTGRES}; its database is only "
                             "connected to, to create and drop the run's own)")
    parser.add_argument("--no-cache", action="store_true", help=f"make the data afresh, keep nothing in {CACHE.relative_to(ROOT)}")
    parser.add_argument("--leak-check", action="store_true", help="sample the workers' RSS during the run")
    parser.add_argument("--sample-every", type=float, default=10, help="seconds between samples (default 10)")
    parser.add_argument("--warm-up", type=float, help="seconds not judged by the leak check (default: a fifth of the run)")
    parser.add_argument("--label", default="", help="what this run measures, for the heading in docs/benchmarks.md")
    parser.add_argument("--write-docs", action="store_true", help="append the table to docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.url and (args.requests or args.backend != "embedded" or args.records != 2000):
        parser.error("--records, --requests and --backend make a fresh portal: not with --url")
    duration = args.duration or ("10m" if args.leak_check else "60s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the server

    started = datetime.now(timezone.utc)
    result = run(args.users, duration, args.url, args.records, args.requests, args.backend,
                 None if args.no_cache else CACHE, args.postgres_url,
                 args.sample_every if args.leak_check else None, args.warm_up)
    command = shlex.join([".venv/bin/python", "-m", "bench.load.run", *(argv if argv is not None else sys.argv[1:])])
    parts = [
        f"#### {started:%Y-%m-%d %H:%M} UTC{' — ' + args.label if args.label else ''}",
        f"Command: `{command}`. {args.users} users for {duration} against "
        f"{target(result, args.records, args.requests, args.url)}; load generator on the same machine.",
        f"Machine: {machine(result.load)}.",
        table(result),
        f"Failures: {result.failures}; exceptions in the scenarios: {len(result.exceptions)}.",
        memory(result),
    ]
    if result.leak:
        parts.append(leak_table(result.leak))
    report = "\n\n".join(parts)
    print(report)
    for exception in result.exceptions:
        print(exception, file=sys.stderr)
    if args.write_docs:
        write_docs(report)
        print(f"\nwritten to {DOCS.relative_to(ROOT)}")
    return 0 if result.ok and not (result.leak and result.leak.growth) else 1


if __name__ == "__main__":
    sys.exit(main())
