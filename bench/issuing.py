"""Benchmark: issuing certificates concurrently through HTTP, as reviewers do (issue 16).

A fresh portal (bench/load/prepare.py: demo data, signing keys) gets N approved requests, made
through the services as people make them: the demo citizen applies for three of her records (one
held at 451202, two at 450200), both holding archives' clerks verify with a certified copy (a
200-dpi JPEG scan of about 400 KB, and a one-page PDF: the certificate of bench/certificates.py)
and the issuing archive's reviewer approves. The requests are issued at 451202, or with
--archives K spread over K demo archives (the network's case: each archive numbers its own
certificates, and one archive's issuing never waits for another's). Then `portal serve` (gunicorn,
its default workers and threads) is started, and C clients — each a browser with a tab per
reviewer — issue them all at once: the request's page, the preview (出具证明), then 确认出具并签名.
A few warm-up issues go first (each worker reads the CJK fonts and the key once). Afterwards each
certificate is downloaded by the reviewer and by the applicant, and both downloads are compared
with each other, with the stored file and its recorded SHA-256; its signature is checked, and the
serials are checked to be distinct.

    .venv/bin/python -m bench.issuing                       # 100 certificates at one archive, 8 clients
    .venv/bin/python -m bench.issuing --archives 7 --backend postgres-meili

Prints certificates/s, p50/p95 per step, the server's CPU time per certificate and the load
average right after issuing; exits 1 under the target, on any error, or when a certificate is
not the same on every download."""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import psutil
import requests

from bench.certificates import one_page_pdf, percentile, scan_jpeg
from bench.common import replace_section
from bench.load.prepare import BACKENDS, prepared
from bench.load.run import BIN, DOCS, ROOT, SERVER_SETTINGS, free_port, machine, stop, wait_until_healthy
from portal.catalog.demo_data import ARCHIVES, CITIZEN_EMAIL, PASSWORD
from portal.server import thread_count, worker_count

TARGET = 10.0  # certificates signed per second on 2 cores (issue 16)
FIRST, HOLDER = "451202", "450200"  # the citizen's records: one held at the first, two at the other
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
ISSUE_FORM = re.compile(r'action="(/staff/requests/[^"/]+/issue)".*?name="version" value="(\d+)"', re.S)
CONFIRM_FORM = re.compile(r'action="([^"]+/issue)"[^>]*class="box confirm-issue".*?name="version" value="(\d+)"', re.S)


def issuing_archives(count: int) -> list[str]:
    """The first `count` demo archives, 451202 first."""
    codes = [FIRST] + [archive.code for archive in ARCHIVES if archive.code != FIRST]
    return codes[:max(1, min(count, len(codes)))]


def approved_requests(count: int, archives: list[str]) -> list[tuple[str, str]]:
    """`count` approved requests of the demo citizen, issued at `archives` in turn: (number,
    archive code). Made in this process, with the portal's settings from the environment."""
    from sqlalchemy import select

    from portal import create_app
    from portal.accounts.models import User
    from portal.actions import act
    from portal.catalog.service import records_of
    from portal.db import db
    from portal.requests import service

    copies = {FIRST: ("结婚证存根.jpg", scan_jpeg()), HOLDER: ("招工登记表.pdf", one_page_pdf())}
    app = create_app()
    with app.app_context():
        session = db.session
        people = {u.email: u for u in session.scalars(select(User).where(User.email.like("%@demo.cn")))}
        citizen = people[CITIZEN_EMAIL]
        own = sorted(records_of(session, citizen), key=lambda r: r.reference_code)
        chosen = [r for r in own if r.archive.code == FIRST][:1] + [r for r in own if r.archive.code == HOLDER][:2]
        made = []
        for n in range(count):
            code = archives[n % len(archives)]
            request, _created = service.submit(session, citizen, service.Application(
                relation="self", purpose="pension", issuing_archive=code, delivery="download", consent=True,
                records=[(r.archive.code, r.reference_code) for r in chosen]))
            act(session, request, "accept", people[f"clerk.{code}@demo.cn"])
            for task in request.tasks:
                name, data = copies[task.holding_archive.code]
                act(session, task, "verify", people[f"clerk.{task.holding_archive.code}@demo.cn"],
                    {"note": "已调阅原件核对", "copy": service.Upload("certified_copy", name, BytesIO(data))})
            act(session, request, "approve", people[f"reviewer.{code}@demo.cn"])
            made.append((request.number, code))
    return made


def stored_certificates(numbers: list[str]) -> dict[str, tuple[str, str, bytes]]:
    """{request number: (serial, SHA-256, the stored file)} as the database and the folder hold them."""
    from sqlalchemy import select

    from portal import create_app
    from portal.certificates.models import Certificate
    from portal.core.uploads import stored_path
    from portal.db import db
    from portal.requests.models import UtilizationRequest

    app = create_app()
    with app.app_context():
        folder = Path(app.config["CERTIFICATE_FOLDER"])
        rows = db.session.execute(select(UtilizationRequest.number, Certificate).join(Certificate.request)
                                  .where(UtilizationRequest.number.in_(numbers)))
        return {number: (c.serial, c.sha256, stored_path(folder, c.stored_name).read_bytes()) for number, c in rows}


def signed_in(url: str, email: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{url}/login")
    answer = browser.post(f"{url}/login", allow_redirects=False, data={
        "csrf_token": CSRF.search(page.text).group(1), "email": email, "password": PASSWORD, "next": "/"})
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"{email} could not sign in: HTTP {answer.status_code}")
    return browser


def tab_of(signed: requests.Session) -> requests.Session:
    """Another tab of a signed-in browser: its cookies (argon2 ran once, for the sign-in)."""
    tab = requests.Session()
    tab.cookies.update(signed.cookies)
    return tab


@dataclass
class Timings:
    page: list[float] = field(default_factory=list)     # the request's page (ms)
    preview: list[float] = field(default_factory=list)  # 出具证明: the preview
    confirm: list[float] = field(default_factory=list)  # 确认出具并签名: render, sign, store, commit
    issue: list[float] = field(default_factory=list)    # the three together
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def issue(url: str, tab: requests.Session, number: str, timings: Timings) -> None:
    """One reviewer's issuing of one request: its page, the preview, the confirmation."""
    t0 = time.perf_counter()
    page = tab.get(f"{url}/staff/requests/{number}", allow_redirects=False)
    t1 = time.perf_counter()
    form = ISSUE_FORM.search(page.text)
    if page.status_code != 200 or form is None:
        raise RuntimeError(f"{number}: no issue form (HTTP {page.status_code})")
    preview = tab.post(url + form.group(1), allow_redirects=False,
                       data={"csrf_token": CSRF.search(page.text).group(1), "version": form.group(2)})
    t2 = time.perf_counter()
    confirm = CONFIRM_FORM.search(preview.text)
    if preview.status_code != 200 or confirm is None:
        raise RuntimeError(f"{number}: no preview (HTTP {preview.status_code})")
    signed = tab.post(url + confirm.group(1), allow_redirects=False, data={
        "csrf_token": CSRF.search(preview.text).group(1), "version": confirm.group(2), "confirm": "1"})
    t3 = time.perf_counter()
    if signed.status_code != 303:
        raise RuntimeError(f"{number}: issuing answered HTTP {signed.status_code}")
    with timings.lock:
        timings.page.append((t1 - t0) * 1000)
        timings.preview.append((t2 - t1) * 1000)
        timings.confirm.append((t3 - t2) * 1000)
        timings.issue.append((t3 - t0) * 1000)


def issue_all(url: str, browsers: list[dict[str, requests.Session]], work: list[tuple[str, str]],
              timings: Timings) -> float:
    """Every request issued, by as many clients at once as there are browsers (each with a tab
    per issuing archive's reviewer); the wall time in seconds."""
    queue = list(reversed(work))
    lock = threading.Lock()

    def client(tabs: dict[str, requests.Session]) -> None:
        while True:
            with lock:
                if not queue:
                    return
                number, code = queue.pop()
            try:
                issue(url, tabs[code], number, timings)
            except Exception as exc:  # noqa: BLE001 - counted and reported, the others carry on
                with timings.lock:
                    timings.errors.append(str(exc))

    started = time.perf_counter()
    with ThreadPoolExecutor(len(browsers)) as pool:
        list(pool.map(client, browsers))
    return time.perf_counter() - started


def downloads(url: str, reviewers: dict[str, requests.Session], citizen: requests.Session,
              work: list[tuple[str, str]], keys_dir: Path) -> dict[str, list[str]]:
    """Each certificate downloaded by the reviewer who issued it and by the applicant, compared with
    each other, with the stored file and its SHA-256, and its signature checked: {number: what
    was wrong} (an empty list when all holds)."""
    from portal.certificates.signing import check, trust_roots

    stored = stored_certificates([number for number, _code in work])
    roots = trust_roots(keys_dir)
    problems: dict[str, list[str]] = {}
    for number, code in work:
        wrong = problems[number] = []
        first, second = (browser.get(f"{url}/requests/{number}/certificate") for browser in (reviewers[code], citizen))
        if first.status_code != 200 or second.status_code != 200:
            wrong.append(f"HTTP {first.status_code}, {second.status_code}")
            continue
        serial, sha256, data = stored.get(number, ("", "", b""))
        if first.content != second.content:
            wrong.append("the reviewer's and the applicant's downloads differ")
        if first.content != data:
            wrong.append("the download differs from the stored file")
        if hashlib.sha256(first.content).hexdigest() != sha256:
            wrong.append("the download's SHA-256 is not the recorded one")
        if not check(first.content, roots).trusted:
            wrong.append("the signature does not check")
    serials = {serial for serial, _sha, _data in stored.values()}
    if len(serials) != len(work):
        problems["serials"] = [f"{len(serials)} distinct serials for {len(work)} certificates"]
    return problems


def server_cpu(server: subprocess.Popen) -> float:
    """CPU seconds used so far by the server's processes (gunicorn's master, workers, background)."""
    root = psutil.Process(server.pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def row(name: str, values: list[float]) -> str:
    return f"| {name} | {statistics.median(values):.0f} | {percentile(values, 0.95):.0f} | {max(values):.0f} |"


@dataclass
class Result:
    archives: list[str]
    certificates: int
    timings: Timings = field(default_factory=Timings)
    wall: float = 0.0  # seconds the timed issues took, all clients together
    cpu: float = 0.0  # CPU seconds of the server's processes meanwhile
    problems: dict[str, list[str]] = field(default_factory=dict)  # downloads: {number: what was wrong}
    machine: str = ""  # with the load average right after issuing
    backend: str = ""
    work_dir: Path | None = None

    @property
    def issued(self) -> int:
        return len(self.timings.issue)

    @property
    def rate(self) -> float:
        return self.issued / self.wall if self.wall else 0.0

    @property
    def identical(self) -> int:
        """Certificates whose downloads were all the same bytes as the stored, signed file."""
        return sum(1 for number, wrong in self.problems.items() if number != "serials" and not wrong)

    @property
    def sound(self) -> bool:
        """Every certificate issued without an error, the same on every download, serials distinct."""
        return (not self.timings.errors and self.identical == self.certificates == self.issued
                and "serials" not in self.problems)


def run(certificates: int = 100, clients: int = 8, archives: int = 1, warmup: int = 4, records: int = 2000,
        backend: str = "embedded") -> Result:
    """Prepare a fresh portal with the approved requests, serve it, issue them all at once, download
    them; the server, its data and its database are removed at the end, whatever happens."""
    result = Result(issuing_archives(archives), certificates)
    result.work_dir = work = Path(tempfile.mkdtemp(prefix="portal-issuing-"))
    environment = dict(os.environ)
    try:
        with ExitStack() as stack:  # undone in reverse: the server, then the database and the search engine
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            ready = stack.enter_context(prepared(work / "data", backend, records, 0,
                                                 {**os.environ, **SERVER_SETTINGS, "PORTAL_PUBLIC_URL": url}))
            result.backend = ready.backend
            # This process makes the requests and reads the results with the server's settings.
            for name in ("DATABASE_URL", "MEILI_URL", "MEILI_MASTER_KEY"):
                os.environ.pop(name, None)
            os.environ.update(ready.env)
            started = time.perf_counter()
            made = approved_requests(warmup + certificates, result.archives)
            print(f"{len(made)} approved requests made in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            log = work / "server.log"
            with open(log, "wb") as out:
                server = subprocess.Popen([str(BIN / "portal"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                          env=ready.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            stack.callback(stop, server)
            wait_until_healthy(url, server, log)
            reviewers = {code: signed_in(url, f"reviewer.{code}@demo.cn") for code in result.archives}
            browsers = [{code: tab_of(signed) for code, signed in reviewers.items()} for _ in range(clients)]
            issue_all(url, browsers, made[:warmup], Timings())
            cpu_before = server_cpu(server)
            result.wall = issue_all(url, browsers, made[warmup:], result.timings)
            result.cpu = server_cpu(server) - cpu_before
            result.machine = machine(os.getloadavg())  # its load average: right after issuing
            result.problems = downloads(url, reviewers, signed_in(url, CITIZEN_EMAIL), made[warmup:],
                                        Path(ready.env["PORTAL_DATA_DIR"]) / "keys")
            if result.timings.errors:
                print("the server's log, last lines:\n" + log.read_text(errors="replace")[-5000:], file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        os.environ.clear()
        os.environ.update(environment)
    return result


def mark(good: bool) -> str:
    return "" if good else " ❌"


def report(result: Result, command: str, clients: int, warmup: int) -> str:
    timings, archives = result.timings, result.archives
    where = "451202" if len(archives) == 1 else f"{len(archives)} archives ({', '.join(archives)}), in turn"
    lines = [
        f"Command: `{command}`. {result.certificates} certificates issued at {where}, after {warmup} warm-up "
        f"issues, by {clients} clients at once (page, preview, 确认出具并签名) against a fresh portal "
        f"(`portal serve`: {worker_count()} workers × {thread_count()} threads; {result.backend}); the clients "
        "on the same machine. Each certificate: 3 records, a JPEG scan and a one-page PDF as certified copies.",
        "",
        f"Machine: {result.machine}.",
        "",
        f"Target: ≥ {TARGET:.0f} certificates signed per second on 2 cores under concurrent issuing, each "
        "byte-identical on re-download.",
        "",
        f"**{result.rate:.1f} certificates/s**{mark(result.rate >= TARGET)} ({result.issued} in {result.wall:.1f} s); "
        f"the server's CPU time {result.cpu / max(result.issued, 1) * 1000:.0f} ms per certificate, "
        f"{result.cpu / result.wall if result.wall else 0:.2f} cores busy on average; errors: {len(timings.errors)}. "
        f"The reviewer's and the applicant's downloads byte-identical, equal to the stored file and its "
        f"recorded SHA-256, the signature trusted: {result.identical} of {result.certificates}"
        f"{mark(result.identical == result.certificates)}; serials distinct: "
        f"{'no ❌' if 'serials' in result.problems else 'yes'}.",
        "",
        "| step (per certificate) | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    if result.issued:
        lines += [row("the request's page", timings.page), row("出具证明 (the preview)", timings.preview),
                  row("确认出具并签名 (render, sign, store)", timings.confirm), row("all three", timings.issue)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.issuing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--certificates", type=int, default=100, help="certificates issued and timed (default 100)")
    parser.add_argument("--clients", type=int, default=8, help="clients issuing at once (default 8)")
    parser.add_argument("--archives", type=int, default=1,
                        help=f"issuing archives the requests are spread over, 1–{len(ARCHIVES)} (default 1: 451202)")
    parser.add_argument("--warmup", type=int, default=4, help="issues before timing (default 4)")
    parser.add_argument("--records", type=int, default=2000, help="catalog records of the fresh portal (default 2000)")
    parser.add_argument("--backend", choices=BACKENDS, default="embedded",
                        help="embedded: SQLite (default); postgres-meili: a PostgreSQL database made for the run")
    parser.add_argument("--write-docs", action="store_true", help="write the result into docs/benchmarks.md")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the server
    command = shlex.join([".venv/bin/python", "-m", "bench.issuing", *(argv if argv is not None else sys.argv[1:])])

    result = run(args.certificates, args.clients, args.archives, args.warmup, args.records, args.backend)
    text = report(result, command, args.clients, args.warmup)
    print(text)
    for error in result.timings.errors[:10]:
        print(f"error: {error}", file=sys.stderr)
    for number, wrong in result.problems.items():
        if wrong:
            print(f"{number}: {'; '.join(wrong)}", file=sys.stderr)
    if args.write_docs:
        replace_section(DOCS, "issuing", "### Issuing under concurrency", text)
        print(f"\nwritten to {DOCS.relative_to(ROOT)}")
    return 0 if result.sound and result.rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
