"""The load scenarios of issue 16, for locust: anonymous visitors, citizens, staff, verifiers and
the /healthz ceiling. Run them with `python -m bench.load.run` (docs/benchmarks.md).

Every request is named by the kind of endpoint (`name=`), so the table has one row per kind. Each
request says which answers it expects: anything else — a 5xx, an unexpected 4xx or redirect —
counts as a failure. Redirects are never followed (a login page behind a 302 is not a success).
The demo data (`portal seed-demo`) is assumed: its citizen, its clerks and its catalog."""
from __future__ import annotations

import random
import re
from collections import deque
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from locust import HttpUser, constant, task

PASSWORD = "Archive2024!"
CITIZEN = "citizen@demo.cn"
ARCHIVE = "451202"  # the demo citizen's records are there (and in two more archives)
CLERK = f"clerk.{ARCHIVE}@demo.cn"
QUEUE_TABS = ("to_accept", "in_review", "waiting", "tasks", "ready", "to_issue", "done")


def read_queries(path: Path = Path(__file__).with_name("queries.txt")) -> list[dict[str, str]]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [dict(parse_qsl(line)) for line in lines if line and not line.startswith("#")]


QUERIES = read_queries()
RECORD_PATHS: deque[str] = deque(maxlen=500)  # record pages seen in search hits, shared by the visitors

CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
SUBMISSION_KEY = re.compile(r'name="submission_key"[^>]*?value="([^"]+)"')
BASKET_FORM = re.compile(r'name="archive_code" value="([^"]+)">\s*<input type="hidden" name="reference_code" value="([^"]+)"')
REQUEST_LINK = re.compile(r'href="/staff/requests/([^"/]+)"')
ACCEPT_FORM = re.compile(r'action="/staff/requests/[^"/]+/accept".*?name="version" value="(\d+)"', re.S)
PROGRESS = re.compile(r'hx-get="/requests/[^"/]+/progress\?version=(\d+)"')


def png_bytes() -> bytes:
    from PIL import Image

    out = BytesIO()
    Image.linear_gradient("L").resize((64, 48)).save(out, "PNG")
    return out.getvalue()


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer, out = PdfWriter(), BytesIO()
    writer.add_blank_page(width=595, height=842)
    writer.write(out)
    return out.getvalue()


PNG, PDF = png_bytes(), pdf_bytes()


def found(pattern: re.Pattern, text: str, what: str) -> str:
    """The first group of `pattern` in a page; a page without it is an error of the scenario."""
    match = pattern.search(text)
    if match is None:
        raise LookupError(f"no {what} on the page")
    return match.group(1)


# Weights: 20 users are 8 visitors and 3 of each other kind; the first 5 are one of each kind
# (locust hands out users in a weighted round), so a smoke run with 5 users runs every scenario.
class PortalUser(HttpUser):
    abstract = True
    wait_time = constant(0)  # closed loop: each user sends its next request when the last is answered

    def call(self, method: str, url: str, name: str, ok=(200,), **kwargs):
        """One request, a success only with one of the `ok` status codes."""
        with self.client.request(method, url, name=name, catch_response=True, allow_redirects=False,
                                 **kwargs) as response:
            if response.status_code in ok:
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}, expected {' or '.join(map(str, ok))}")
        return response

    def log_in(self, email: str, landing: str) -> None:
        page = self.call("GET", "/login", "/login")
        self.call("POST", "/login", "/login [POST]", ok=(302, 303),
                  data={"csrf_token": found(CSRF, page.text, "CSRF token"), "email": email,
                        "password": PASSWORD, "next": landing})


class Visitor(PortalUser):
    """Anonymous: the search page and the API over the query mix, and record pages from the hits."""
    weight = 8

    @task(3)
    def search_page(self) -> None:
        self.call("GET", "/search", "/search", params=random.choice(QUERIES))

    @task(3)
    def search_api(self) -> None:
        answer = self.call("GET", "/api/v1/search", "/api/v1/search", params=random.choice(QUERIES))
        if answer.status_code == 200:
            RECORD_PATHS.extend(urlsplit(hit["url"]).path for hit in answer.json()["hits"][:5])

    @task(2)
    def record_page(self) -> None:
        if not RECORD_PATHS:
            return self.search_api()
        self.call("GET", random.choice(RECORD_PATHS), "/records/<archive>/<reference>")


class Citizen(PortalUser):
    """The demo citizen: her records, the basket, applying with two uploads, following a request."""
    weight = 3

    def on_start(self) -> None:
        self.requests: list[str] = []
        self.log_in(CITIZEN, "/me/records")

    @task(3)
    def my_records(self) -> None:
        self.call("GET", "/me/records", "/me/records")

    @task(1)
    def apply(self) -> None:
        page = self.call("GET", "/me/records", "/me/records")
        offered = BASKET_FORM.findall(page.text)
        for code, reference in random.sample(offered, min(2, len(offered))):
            self.call("POST", "/basket/add", "/basket/add", headers={"HX-Request": "true"},
                      data={"csrf_token": found(CSRF, page.text, "CSRF token"), "quiet": "1",
                            "archive_code": code, "reference_code": reference})
        form = self.call("GET", "/apply", "/apply")
        answer = self.call(
            "POST", "/apply", "/apply [POST]", ok=(303,),
            data={"csrf_token": found(CSRF, form.text, "CSRF token"), "kind": "records",
                  "submission_key": found(SUBMISSION_KEY, form.text, "submission key"), "relation": "self",
                  "purpose": "pension", "issuing_archive": ARCHIVE, "delivery": "download", "consent": "y"},
            files=[("applicant_id", ("id-card.png", PNG, "image/png")),
                   ("supplement", ("letter.pdf", PDF, "application/pdf"))])
        if answer.status_code == 303:
            self.requests.append(urlsplit(answer.headers["Location"]).path.rsplit("/", 1)[1])
            del self.requests[:-10]

    @task(2)
    def follow_request(self) -> None:
        if not self.requests:
            return self.my_records()
        number = random.choice(self.requests)
        page = self.call("GET", f"/requests/{number}", "/requests/<number>")
        if page.status_code == 200 and (version := PROGRESS.search(page.text)):
            self.call("GET", f"/requests/{number}/progress", "/requests/<number>/progress", ok=(200, 204),
                      params={"version": version.group(1)})


class Staff(PortalUser):
    """A clerk of the issuing archive: the queue's tabs, a request's page, accepting what waits."""
    weight = 3

    def on_start(self) -> None:
        self.log_in(CLERK, "/staff/queue")

    @task(3)
    def queue_tab(self) -> None:
        self.call("GET", "/staff/queue", "/staff/queue?tab=<tab>", params={"tab": random.choice(QUEUE_TABS)})

    @task(2)
    def open_request(self) -> None:
        queue = self.call("GET", "/staff/queue", "/staff/queue?tab=<tab>", params={"tab": "in_review"})
        numbers = REQUEST_LINK.findall(queue.text)
        if numbers:
            self.call("GET", f"/staff/requests/{random.choice(numbers)}", "/staff/requests/<number>")

    @task(1)
    def accept(self) -> None:
        queue = self.call("GET", "/staff/queue", "/staff/queue?tab=<tab>", params={"tab": "to_accept"})
        numbers = REQUEST_LINK.findall(queue.text)
        if not numbers:
            return
        number = random.choice(numbers[:5])
        page = self.call("GET", f"/staff/requests/{number}", "/staff/requests/<number>")
        if page.status_code != 200 or (form := ACCEPT_FORM.search(page.text)) is None:
            return  # accepted by another clerk since the queue was read
        # 409: another clerk accepted it first, which the page says; a normal answer under load.
        self.call("POST", f"/staff/requests/{number}/accept", "/staff/requests/<number>/accept [POST]",
                  ok=(303, 409), data={"csrf_token": found(CSRF, page.text, "CSRF token"),
                                       "version": form.group(1)})


class Verifier(PortalUser):
    """Someone checking a certificate by serial and code: made-up ones are "not found", a normal answer."""
    weight = 3

    @task
    def verify(self) -> None:
        serial = f"ZM-{random.choice(('450100', '451200', ARCHIVE))}-2026-{random.randint(1, 999999):06d}"
        code = "".join(random.choices("ABCDEFGHJKMNPQRSTUVWXYZ23456789", k=8))
        self.call("GET", "/verify", "/verify", params={"serial": serial, "code": code})


class Ceiling(PortalUser):
    """/healthz, the framework's ceiling: one database round trip, no template."""
    weight = 3

    @task
    def healthz(self) -> None:
        self.call("GET", "/healthz", "/healthz")
