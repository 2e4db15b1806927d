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
from locust.clients import HttpSession

PASSWORD = "Archive2024!"
CITIZEN = "citizen@demo.cn"
ARCHIVE = "451202"  # the demo citizen's records are there (and in two more archives)
CLERK = f"clerk.{ARCHIVE}@demo.cn"
REVIEWER = f"reviewer.{ARCHIVE}@demo.cn"
HOLDING_CLERK = "clerk.450200@demo.cn"  # the other archive whose records the citizen can apply for
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
# A step's form on the staff request page: its address and the version the page was made from.
STEP_FORMS = {action: re.compile(rf'action="(/staff/(?:requests|tasks)/[^"/]+/{action})".*?name="version" '
                                 r'value="(\d+)"', re.S) for action in ("accept", "verify", "approve", "issue")}
CONFIRM_ISSUE = re.compile(r'action="([^"]+/issue)"[^>]*class="box confirm-issue".*?name="version" value="(\d+)"',
                           re.S)
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

    def call(self, method: str, url: str, name: str, ok=(200,), client: HttpSession | None = None, **kwargs):
        """One request (by `client`, another person's browser, or this user's), a success only with
        one of the `ok` status codes."""
        with (client or self.client).request(method, url, name=name, catch_response=True, allow_redirects=False,
                                             **kwargs) as response:
            if response.status_code in ok:
                response.success()
            elif response.status_code == 0:  # no answer: what the connection said
                response.failure(f"{response.error!r}, expected {' or '.join(map(str, ok))}")
            else:
                response.failure(f"HTTP {response.status_code}, expected {' or '.join(map(str, ok))}")
        return response

    def log_in(self, email: str, landing: str, client: HttpSession | None = None) -> None:
        page = self.call("GET", "/login", "/login", client=client)
        self.call("POST", "/login", "/login [POST]", ok=(302, 303), client=client,
                  data={"csrf_token": found(CSRF, page.text, "CSRF token"), "email": email,
                        "password": PASSWORD, "next": landing})

    def browser(self, email: str, landing: str) -> HttpSession:
        """A second browser of this user, signed in as someone else; its requests count like the user's own."""
        client = HttpSession(base_url=self.host, request_event=self.environment.events.request, user=self,
                             pool_manager=self.pool_manager)
        client.trust_env = False
        self.log_in(email, landing, client)
        return client


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
    """The issuing archive's clerk — the queue's tabs, a request's page — and the journey of a request
    through three people's hands: the clerk accepts it and verifies what the archive holds, the clerk
    of the other archive holding the citizen's records verifies those, the reviewer approves, issues
    (the preview, then 确认出具并签名) and downloads the certificate. Each has a browser of their own."""
    weight = 3
    # The journey's steps, in order, and who takes each (issuing comes after them).
    STEPS = (("accept", "clerk"), ("verify", "clerk"), ("verify", "holding clerk"), ("approve", "reviewer"))
    # Where a journey starts: a request waiting to be accepted, else one left half-way (by someone
    # who lost a race to a colleague), from the queue tab that shows it to the person of that step.
    STARTS = (("clerk", "to_accept", 0), ("holding clerk", "tasks", 2), ("reviewer", "ready", 3),
              ("reviewer", "to_issue", len(STEPS)))

    def on_start(self) -> None:
        self.log_in(CLERK, "/staff/queue")
        self.people = {"clerk": self.client, "holding clerk": self.browser(HOLDING_CLERK, "/staff/queue"),
                       "reviewer": self.browser(REVIEWER, "/staff/queue")}

    def queue(self, tab: str, who: str = "clerk", find: str = "") -> list[str]:
        """The request numbers on the first page of a tab, or those found by number in it."""
        params, name = {"tab": tab}, "/staff/queue?tab=<tab>"
        if find:
            params["find"], name = find, "/staff/queue?tab=<tab>&find=<number>"
        page = self.call("GET", "/staff/queue", name, params=params, client=self.people[who])
        return REQUEST_LINK.findall(page.text) if page.status_code == 200 else []

    def page(self, number: str, who: str = "clerk") -> str:
        page = self.call("GET", f"/staff/requests/{number}", "/staff/requests/<number>", client=self.people[who])
        return page.text if page.status_code == 200 else ""

    def post(self, url: str, name: str, who: str, page: str, version: str, ok=(303, 409), files=None, **fields):
        """A step's form, sent as the page showed it (its CSRF token and version)."""
        return self.call("POST", url, name, ok=ok, client=self.people[who], files=files,
                         data={"csrf_token": found(CSRF, page, "CSRF token"), "version": version, **fields})

    def step(self, number: str, action: str, who: str) -> bool:
        """Take `action` if this person's page of the request offers it. False when another person
        acted first (409, which the page says: a normal answer under load); the journey ends there,
        as that person carries the request on."""
        if who == "holding clerk" and number not in self.queue("tasks", who, find=number):
            return True  # none of the records asked for is held there: the request is not theirs to open
        page = self.page(number, who)
        for url, version in STEP_FORMS[action].findall(page):
            kind, files = "requests/<number>", None
            if action == "verify":
                kind, files = "tasks/<task>", {"copy": ("certified-copy.pdf", PDF, "application/pdf")}
            if self.post(url, f"/staff/{kind}/{action} [POST]", who, page, version, files=files).status_code == 409:
                return False
        return True

    @task(3)
    def queue_tab(self) -> None:
        self.queue(random.choice(QUEUE_TABS))

    @task(2)
    def open_request(self) -> None:
        numbers = self.queue("in_review")
        if numbers:
            self.page(random.choice(numbers))

    @task(1)
    def journey(self) -> None:
        for who, tab, first in self.STARTS:
            # Only requests issued here: a task of another archive's request is not this reviewer's to finish.
            if numbers := [n for n in self.queue(tab, who) if n.startswith(f"{ARCHIVE}-")]:
                break
        else:
            return
        number = random.choice(numbers[:5])
        for action, who in self.STEPS[first:]:
            if not self.step(number, action, who):
                return
        self.issue(number)

    def issue(self, number: str) -> None:
        """出具证明: the preview first; only its 确认出具并签名 signs. Then the certificate's PDF."""
        page = self.page(number, "reviewer")
        if (form := STEP_FORMS["issue"].search(page)) is None:
            return  # not approved: a holding archive has not answered yet
        preview = self.post(form.group(1), "/staff/requests/<number>/issue [POST preview]", "reviewer", page,
                            form.group(2), ok=(200, 409))
        if preview.status_code != 200:
            return
        if (confirm := CONFIRM_ISSUE.search(preview.text)) is None:
            raise LookupError("no confirming form on the issue preview")
        signed = self.post(confirm.group(1), "/staff/requests/<number>/issue [POST confirm]", "reviewer",
                           preview.text, confirm.group(2), confirm="1")
        if signed.status_code == 303:
            self.call("GET", f"/requests/{number}/certificate", "/requests/<number>/certificate",
                      client=self.people["reviewer"])


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
