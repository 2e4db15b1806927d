"""Run the load scenarios (bench/load/locustfile.py) and print one line per endpoint: requests, req/s,
p50/p95/p99 (ms), failures, and req/s as a share of /healthz's, measured in the same run.

    python -m bench.load.run --users 20 --duration 60s [--url URL] [--write-docs]

Without --url it prepares a fresh data directory (demo data, signing keys, search index) and starts
the portal on a free port with `portal serve` — whichever server that runs — with the throttles
off (PORTAL_RATE_LIMITS=off) and the per-account and per-address limits raised, so that load is
not turned into 429s and 422s; the server is stopped and the directory removed at the end, whatever
happens. With --url, the portal there must have the demo data and the same settings.
--write-docs appends the table, the machine, the date and the command to docs/benchmarks.md.
The exit status is 1 when any request failed or a scenario raised an exception."""
from __future__ import annotations

import argparse
import csv
import os
import platform
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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.common import cpu_model

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


def portal(*args: str, env: dict) -> None:
    subprocess.run([str(BIN / "portal"), *args], env=env, check=True, stdout=subprocess.DEVNULL)


def prepare(data_dir: Path, env: dict, records: int) -> None:
    """A fresh portal: schema, demo data, signing keys, search index."""
    portal("init-db", env=env)
    portal("seed-demo", "--records", str(records), env=env)
    portal("keys", "init", env=env)
    portal("sync-index", env=env)


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


def run_locust(url: str, users: int, duration: str, prefix: Path) -> None:
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(users),
               "--run-time", duration, "--host", url, "--csv", str(prefix), "--only-summary", "--stop-timeout", "10"]
    with open(prefix.with_name("locust.log"), "wb") as log:
        # Exit status 1 means failures, which the table shows; a missing stats file is the real error.
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, check=False)
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


def run(users: int = 20, duration: str = "60s", url: str | None = None, records: int = 2000) -> Result:
    """The scenarios against `url`, or against a fresh portal started here and stopped at the end."""
    work = Path(tempfile.mkdtemp(prefix="portal-load-"))
    server = None
    try:
        if url is None:
            data_dir, port = work / "data", free_port()
            url = f"http://127.0.0.1:{port}"
            env = {**os.environ, **SERVER_SETTINGS, "PORTAL_DATA_DIR": str(data_dir), "PORTAL_PUBLIC_URL": url}
            env.pop("DATABASE_URL", None)  # fresh: the data directory's own SQLite database
            prepare(data_dir, env, records)
            log = work / "server.log"
            with open(log, "wb") as out:
                server = subprocess.Popen([str(BIN / "portal"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                          env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            wait_until_healthy(url, server, log)
        run_locust(url.rstrip("/"), users, duration, work / "locust")
        result = read_results(work / "locust")
        if not result.ok and (log := work / "server.log").exists():
            print("the server's log, last lines:\n" + log.read_text(errors="replace")[-5000:], file=sys.stderr)
    finally:
        if server is not None:
            stop(server)
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


def machine() -> str:
    uname = platform.uname()
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{os.cpu_count()} CPUs (`nproc`), {cpu_model()}; `uname -srm`: {uname.system} {uname.release} "
            f"{uname.machine}; Python {platform.python_version()}; load average (1/5/15 min) when the run ended: {load}")


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
    parser.add_argument("--duration", default="60s", help="locust's --run-time: 60s, 5m… (default 60s)")
    parser.add_argument("--url", help="a running portal with the demo data (default: start a fresh one)")
    parser.add_argument("--records", type=int, default=2000, help="catalog records of the fresh portal (default 2000)")
    parser.add_argument("--label", default="", help="what this run measures, for the heading in docs/benchmarks.md")
    parser.add_argument("--write-docs", action="store_true", help="append the table to docs/benchmarks.md")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the server

    started = datetime.now(timezone.utc)
    result = run(args.users, args.duration, args.url, args.records)
    command = shlex.join([".venv/bin/python", "-m", "bench.load.run", *(argv if argv is not None else sys.argv[1:])])
    target = args.url or f"a fresh portal (`portal serve`, demo data, {args.records:,} records)"
    report = "\n\n".join([
        f"#### {started:%Y-%m-%d %H:%M} UTC{' — ' + args.label if args.label else ''}",
        f"Command: `{command}`. {args.users} users for {args.duration} against {target}; "
        f"load generator on the same machine.",
        f"Machine: {machine()}.",
        table(result),
        f"Failures: {result.failures}; exceptions in the scenarios: {len(result.exceptions)}.",
    ])
    print(report)
    for exception in result.exceptions:
        print(exception, file=sys.stderr)
    if args.write_docs:
        write_docs(report)
        print(f"\nwritten to {DOCS.relative_to(ROOT)}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
