"""Benchmark: the approval queue with 100,000 requests, on the embedded default (SQLite) and on PostgreSQL.

Seeds the demo archives, staff and a catalog with `seed_demo`, then generates the requests with
bulk Core inserts (utilization_request, request_record, request_search_archive, request_event,
verification_task): seven archives, one of them busy; every status; due dates around today, so
some are overdue; about 30% cross-archive, every accepted request with its verification tasks.
The data is cached (SQLite: under bench/out/; PostgreSQL: the database, with a marker file under
bench/out/) and regenerated when missing or with --regenerate.

Then, as the clerk of the busy archive, it times `queue.counts()` and `queue.queue()` for each tab
(first page; a later page through the cursor; find by applicant name and by number), and the full
HTML page `GET /staff/queue?tab=…` through the Flask test client, signed in. Every sample starts
from a fresh session, as a request does. Writes p50 / p95 / p99 into docs/benchmarks.md between the
`queue` markers. Target: p95 ≤ 100 ms for every case, on both databases.

    .venv/bin/python bench/queue.py                                   # SQLite and PostgreSQL
    .venv/bin/python bench/queue.py --backends sqlite --repeat 20
    .venv/bin/python bench/queue.py --explain                         # also print the query plans

PostgreSQL: --database-url (default postgresql://postgres@127.0.0.1:5432/bench_queue); its public
schema is DROPPED and recreated when the data is (re)generated.

The generator, `add_requests(session, n)`, also fills the load runs' databases
(`python -m bench.load.run --requests N`, through bench/load/add_requests.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file would stand in for
# the standard library's `queue` (which psycopg and others import): take the folder out first.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import date, datetime, timedelta, timezone  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: E402
from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: E402

from bench.common import cpu_model, replace_section  # noqa: E402
from portal import create_app  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.archives.models import Archive  # noqa: E402
from portal.catalog.demo import seed_demo  # noqa: E402
from portal.catalog.demo_data import GIVEN_NAMES, PASSWORD, SURNAMES  # noqa: E402
from portal.catalog.models import Record  # noqa: E402
from portal.core.idnumber import with_check_character  # noqa: E402
from portal.core.personal_data import cipher  # noqa: E402
from portal.db import db, make_engine  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.requests.models import (RequestEvent, RequestRecord, RequestSearchArchive,  # noqa: E402
                                    UtilizationRequest)
from portal.core.sequences import NumberSequence  # noqa: E402
from portal.core.clock import CHINA_TIME, china_today  # noqa: E402
from portal.review import queue as review_queue  # noqa: E402
from portal.review.models import VerificationTask  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_queue"
GENERATOR = "queue-data v3"  # change when the generated data changes: caches are rebuilt
BUSY = "451200"
# Where requests are made: the busy city archive takes 30%.
ISSUING_SHARE = {"451200": 30, "450100": 20, "450200": 14, "451202": 10, "451203": 10, "450110": 8, "450206": 8}
STATUS_SHARE = {"issued": 64, "approved": 4, "rejected": 8, "withdrawn": 7, "submitted": 4, "in_review": 9,
                "needs_supplement": 5}
RELATION_SHARE = {"self": 70, "relative": 15, "heir": 8, "agent": 4, "lawyer": 2, "institution": 1}
PURPOSES = ("pension", "inheritance", "property", "litigation", "household", "other")
CATEGORIES = ("land_contract", "marriage", "social_insurance", "medical_insurance", "subsistence",
              "land_acquisition", "housing", "education", "employment", "veterans", "forest_rights")
CROSS_SHARE = 0.30
SEARCH_SHARE = 0.12
APPLICANTS = 20_000
CATALOG_RECORDS = 20_000
BATCH = 5_000
TARGET = "Target: with 100,000 requests, the queue page and its counts at p95 ≤ 100 ms, embedded default and PostgreSQL."


def weighted(rng: random.Random, shares: dict[str, int]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def person_name(rng: random.Random) -> str:
    surname = rng.choices([s for s, _ in SURNAMES], weights=[w for _, w in SURNAMES])[0]
    return surname + rng.choice(GIVEN_NAMES[(rng.choice("男女"), rng.random() < 0.6)])


def fresh_session() -> None:
    """End the current app's session, as the end of a web request does (the next use starts anew)."""
    from flask import current_app

    current_app.extensions["db"][1].remove()


# ---- data ------------------------------------------------------------------------------------------

def _insert(session, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(table), rows[start:start + BATCH])


def generate(session, requests: int, seed: int = 1) -> dict:
    """The demo archives, staff and catalog, then `requests` requests with their records, events
    and tasks, all through bulk inserts. Returns row counts."""
    started = time.perf_counter()
    seed_demo(session, records=CATALOG_RECORDS, seed=seed)
    summary = add_requests(session, requests, seed)
    return {**summary, "catalog records": CATALOG_RECORDS, "seconds": time.perf_counter() - started}


def add_requests(session, requests: int, seed: int = 1, applicants: int = APPLICANTS,
                 chunk: int = 20_000) -> dict:
    """`requests` requests (with their records, events and tasks) and `applicants` citizens who made
    them, added in bulk to a database that holds the demo archives, staff and catalog — and maybe
    requests already (bench/load: `portal seed-demo` makes the demo citizen's): ids continue after
    the highest, numbers after each archive's counter, which is moved past them. Rows are inserted
    every `chunk` requests, so a million take no more memory than `chunk`. Returns row counts."""
    started = time.perf_counter()
    rng = random.Random(seed)
    personal = cipher()
    archives = {a.code: a for a in session.scalars(select(Archive))}
    ids = {code: a.id for code, a in archives.items()}
    clerks = {a: uid for a, uid in session.execute(select(User.archive_id, User.id).where(User.role == "clerk"))}
    reviewers = {a: uid for a, uid in session.execute(select(User.archive_id, User.id).where(User.role == "reviewer"))}
    records_by_archive: dict[int, list[tuple[int, str]]] = {}
    for rid, aid, category in session.execute(select(Record.id, Record.archive_id, Record.category)):
        records_by_archive.setdefault(aid, []).append((rid, category))
    now = datetime.now(timezone.utc)
    today = china_today()

    # Citizens: real-looking names and (checksum-valid) ID numbers; nobody logs in as them. Verified
    # at a reading room's counter: an unverified applicant's request carries a photo of the ID card
    # (which these requests do not), and accepting it asks the clerk to confirm it was checked.
    citizens = []
    for n in range(applicants):
        id_number = with_check_character(f"4512{n % 100:02d}{(date(1940, 1, 1) + timedelta(days=n)):%Y%m%d}{n % 1000:03d}")
        citizens.append({"email": f"bench{n}@example.cn", "password_hash": "!", "real_name": person_name(rng),
                         "role": "citizen", "id_number_enc": personal.encrypt(id_number),
                         "id_number_hash": personal.lookup_hash(id_number), "is_active_account": True,
                         "created_at": now - timedelta(days=1200), "phone": "", "identity_level": "verified",
                         "verified_at": now - timedelta(days=1200), "verified_method": "counter"})
    _insert(session, User.__table__, citizens)
    people = list(session.execute(select(User.id, User.real_name, User.id_number_enc, User.id_number_hash)
                                  .where(User.email.like("bench%@example.cn"))))
    subjects = []  # other people's ID numbers, encrypted once and reused
    for n in range(300):
        id_number = with_check_character(f"450100{(date(1930, 1, 1) + timedelta(days=37 * n)):%Y%m%d}{n:03d}")
        subjects.append((personal.encrypt(id_number), personal.lookup_hash(id_number)))

    requests_rows, items, searched, events, tasks = [], [], [], [], []
    counts: Counter = Counter()

    def flush() -> None:  # parents first: the other rows refer to the requests
        for table, rows in ((UtilizationRequest, requests_rows), (RequestRecord, items),
                            (RequestSearchArchive, searched), (RequestEvent, events), (VerificationTask, tasks)):
            _insert(session, table.__table__, rows)
            counts[table.__tablename__] += len(rows)
            rows.clear()

    # Numbers go on from each archive's counter (scope `request:<code>`, as the portal numbers them).
    sequence: Counter = Counter({(scope.removeprefix("request:"), year): last for scope, year, last in session.execute(
        select(NumberSequence.scope, NumberSequence.year, NumberSequence.last_value)
        .where(NumberSequence.scope.like("request:%")))})
    first_id = (session.scalar(select(func.max(UtilizationRequest.id))) or 0) + 1
    codes = list(ids)
    for request_id in range(first_id, first_id + requests):
        issuing = weighted(rng, ISSUING_SHARE)
        issuing_id = ids[issuing]
        status = weighted(rng, STATUS_SHARE)
        is_open = status in ("submitted", "in_review", "needs_supplement")
        # Open requests arrived in the last five weeks, finished ones over three years.
        age = rng.uniform(0, 35) if is_open else rng.uniform(20, 3 * 365)
        submitted_at = now - timedelta(days=age, seconds=rng.randrange(86400))
        cross = rng.random() < CROSS_SHARE
        holders = {issuing}
        if cross:
            holders = set(rng.sample([c for c in codes if c != issuing], rng.choice((1, 1, 1, 2))))
            if rng.random() < 0.4:
                holders.add(issuing)
        kind = "search" if rng.random() < SEARCH_SHARE else "records"
        relation = weighted(rng, RELATION_SHARE)
        applicant_id, applicant_name, applicant_enc, applicant_hash = rng.choice(people)
        if relation == "self":
            subject_name, subject_enc, subject_hash = applicant_name, applicant_enc, applicant_hash
        else:
            subject_name, (subject_enc, subject_hash) = person_name(rng), rng.choice(subjects)
        search_category = ""
        if kind == "records":
            position = 0
            for code in sorted(holders):
                for record_id, _cat in rng.sample(records_by_archive[ids[code]], rng.choice((1, 1, 2))):
                    items.append({"request_id": request_id, "record_id": record_id, "position": position})
                    position += 1
        else:
            search_category = rng.choice(CATEGORIES)
            searched += [{"request_id": request_id, "archive_id": ids[code]} for code in sorted(holders)]
        year = submitted_at.astimezone(CHINA_TIME).year
        sequence[(issuing, year)] += 1
        # Promised dates: 5 working days (about a week), 10 across archives; open ones cluster
        # around today, so the first pages hold overdue and due-today rows.
        due = submitted_at.astimezone(CHINA_TIME).date() + timedelta(days=14 if len(holders - {issuing}) else 7)
        clerk, reviewer = clerks[issuing_id], reviewers[issuing_id]
        claimed = clerk if is_open and status != "submitted" and rng.random() < 0.3 else None

        def event(action, from_status, to_status, at, actor, role, note=""):
            events.append({"request_id": request_id, "at": at, "actor_id": actor, "actor_role": role,
                           "action": action, "from_status": from_status, "to_status": to_status, "note": note})

        at = submitted_at
        event("submit", None, "submitted", at, applicant_id, "applicant")
        accepted = status not in ("submitted",) and not (status == "withdrawn" and rng.random() < 0.5)
        if accepted:
            at += timedelta(hours=rng.uniform(2, 48))
            event("accept", "submitted", "in_review", at, clerk, "clerk")
            accepted_at = at
            # Which tasks are still open: none once decided; in review about half the requests
            # wait for at least one holding archive (the in-review tab), the rest are ready.
            waiting_for = set()
            if status in ("in_review", "needs_supplement"):
                if rng.random() < 0.55:
                    waiting_for = set(rng.sample(sorted(holders), rng.randint(1, len(holders))))
            elif status in ("rejected", "withdrawn"):
                waiting_for = {c for c in sorted(holders) if rng.random() < 0.5}  # sorted: the same in every process
            for code in sorted(holders):
                holder_id = ids[code]
                task = {"public_id": f"{rng.getrandbits(96):024x}", "request_id": request_id,
                        "holding_archive_id": holder_id, "status": "open", "version": 1,
                        "due_date": accepted_at.astimezone(CHINA_TIME).date() + timedelta(days=6), "note": "",
                        "copy_file_id": None, "claimed_by_id": None, "claimed_at": None, "answered_by_id": None,
                        "answered_at": None, "created_at": accepted_at}
                if code in waiting_for and status in ("rejected", "withdrawn"):
                    task.update(status="cancelled", version=2)  # as portal.review.service.cancel_open_tasks does
                elif code in waiting_for:
                    if rng.random() < 0.25:
                        task.update(claimed_by_id=clerks[holder_id], claimed_at=accepted_at + timedelta(hours=3))
                else:
                    found = rng.random() < 0.9
                    at += timedelta(hours=rng.uniform(1, 30))
                    task.update(status="verified" if found else "not_found", version=2,
                                note="" if found else "查阅相关全宗，未见", answered_by_id=clerks[holder_id],
                                answered_at=at)
                    event("verify" if found else "not_found", "in_review", "in_review", at, clerks[holder_id],
                          "clerk", archives[code].name + ("" if found else "：查阅相关全宗，未见"))
                tasks.append(task)
            at += timedelta(hours=rng.uniform(1, 24))
            if status == "needs_supplement":
                event("ask_supplement", "in_review", "needs_supplement", at, clerk, "clerk", "请补充亲属关系证明")
            elif status in ("approved", "issued"):
                event("approve", "in_review", "approved", at, reviewer, "reviewer")
                if status == "issued":
                    event("issue", "approved", "issued", at + timedelta(hours=2), reviewer, "reviewer")
            elif status == "rejected":
                event("reject", "in_review", "rejected", at, reviewer, "reviewer", "申请人无权利用该档案")
        if status == "withdrawn":
            event("withdraw", "in_review" if accepted else "submitted", "withdrawn",
                  at + timedelta(hours=5), applicant_id, "applicant")
        versions = sum(1 for e in events[-12:] if e["request_id"] == request_id and e["from_status"] != e["to_status"])
        if is_open:
            due = today + timedelta(days=rng.randint(-6, 14))  # some overdue, some due today
        requests_rows.append({
            "id": request_id, "number": f"{issuing}-{year}-{sequence[(issuing, year)]:06d}",
            "applicant_id": applicant_id, "issuing_archive_id": issuing_id, "status": status, "version": versions,
            "kind": kind, "relation": relation, "purpose": rng.choice(PURPOSES), "purpose_note": "",
            "subject_name": subject_name, "subject_id_enc": subject_enc, "subject_id_hash": subject_hash,
            "search_category": search_category, "search_year_from": None, "search_year_to": None,
            "search_place": "", "delivery": rng.choice(("download", "pickup")), "address": "",
            "consent_at": submitted_at, "idempotency_key": None, "submitted_at": submitted_at, "updated_at": at,
            "due_date": due, "claimed_by_id": claimed, "claimed_at": submitted_at if claimed else None,
        })
        if len(requests_rows) >= chunk:
            flush()
    flush()
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for (code, year), last in sequence.items():
        statement = upsert(NumberSequence).values(scope=f"request:{code}", year=year, last_value=last)
        session.execute(statement.on_conflict_do_update(index_elements=["scope", "year"],
                                                        set_={"last_value": last}))
    if session.get_bind().dialect.name == "postgresql":
        if requests:  # the ids were given: the next request the portal makes takes the one after
            session.execute(text("SELECT setval(pg_get_serial_sequence('utilization_request', 'id'), :n)"),
                            {"n": first_id + requests - 1})
        session.commit()
        # What autovacuum does to a settled database (statistics, and the visibility map that
        # lets index-only scans skip the table); right after a bulk load it has not run yet.
        with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    else:
        session.execute(text("ANALYZE"))
        session.commit()
    return {**{table: counts[table] for table in ("utilization_request", "request_record", "request_search_archive",
                                                  "request_event", "verification_task")},
            "citizens": len(citizens), "seconds": time.perf_counter() - started}


def migrated_to_head(engine) -> None:
    """Cached data made under older migrations (new indexes, say) is brought up to date, and its
    statistics refreshed so the planner knows the new indexes."""
    def revision() -> str:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    before = revision()
    upgrade(engine)
    if (after := revision()) != before:
        print(f"  migrated the cached data from {before} to {after}", file=sys.stderr)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


def prepared_app(backend: str, requests: int, out: Path, database_url: str, regenerate: bool):
    """An app on a database holding the benchmark data, generated when missing."""
    marker = out / f"queue-{backend}-{requests}.seeded"
    data_dir = out / f"queue-{backend}-{requests}"
    url = f"sqlite:///{data_dir / 'portal.db'}" if backend == "sqlite" else database_url
    try:
        cached = json.loads(marker.read_text())  # what generate() reported, kept for the report
    except (OSError, ValueError):
        cached = {}
    fresh = regenerate or cached.get("generator") != GENERATOR
    if not fresh:
        app = create_app({"DATA_DIR": data_dir, "DATABASE_URL": url})
        with app.app_context():
            try:
                fresh = db.session.scalar(select(func.count()).select_from(UtilizationRequest)) != requests
            except Exception:  # noqa: BLE001 — no table: generate
                fresh = True
            fresh_session()
        db.dispose(app)
    if not fresh:
        print(f"{backend}: using the cached data ({marker.name})", file=sys.stderr)
        app = create_app({"DATA_DIR": data_dir, "DATABASE_URL": url})
        with app.app_context():
            migrated_to_head(db.engine)
        return app, {**cached, "cached": True}
    marker.unlink(missing_ok=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if backend == "postgresql":
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"DATA_DIR": data_dir, "DATABASE_URL": url})
    with app.app_context():
        upgrade(db.engine)
        summary = generate(db.session, requests)
        fresh_session()
    marker.write_text(json.dumps({"generator": GENERATOR, **summary}))
    print(f"{backend}: generated in {summary['seconds']:.0f} s: {summary}", file=sys.stderr)
    return app, summary


# ---- measuring -------------------------------------------------------------------------------------

def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def timed(call, repeat: int, warmup: int = 2) -> tuple[float, float, float]:
    for _ in range(warmup):
        call()
        fresh_session()
    samples = []
    for _ in range(repeat):
        fresh_session()  # a fresh session each time, as each web request has
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    fresh_session()
    return percentiles(samples)


def later_cursor(archive_id: int, tab: str, pages: int, filters=None) -> tuple[str | None, int]:
    """The cursor of page `pages + 1` (or of the last page there is) and its number."""
    after, number = None, 1
    for _ in range(pages):
        page = review_queue.queue(db.session, archive_id, tab, filters, after=after)
        if page.next_cursor is None:
            break
        after, number = page.next_cursor, number + 1
    fresh_session()
    return after, number


def service_cases(archive_id: int, repeat: int) -> tuple[dict, dict]:
    """(case → percentiles, facts about the cases: counts, rows, which page)."""
    results, facts = {}, {}
    counts = review_queue.counts(db.session, archive_id)
    facts["counts"] = counts
    results["counts() — all six tabs"] = timed(lambda: review_queue.counts(db.session, archive_id), repeat)
    results["counts(), admin: all archives"] = timed(lambda: review_queue.counts(db.session, None), repeat)
    for tab in review_queue.TABS:
        results[f"queue({tab}) first page"] = timed(lambda tab=tab: review_queue.queue(db.session, archive_id, tab),
                                                    repeat)
    for tab in review_queue.TABS:
        after, number = later_cursor(archive_id, tab, 10)
        if after is None:
            continue
        facts[f"page {tab}"] = number
        results[f"queue({tab}) page {number} (cursor)"] = timed(
            lambda tab=tab, after=after: review_queue.queue(db.session, archive_id, tab, after=after), repeat)
    # Find: a common full name among the busy archive's applicants, and a request number.
    name = db.session.scalar(
        select(User.real_name).join(UtilizationRequest, UtilizationRequest.applicant_id == User.id)
        .where(UtilizationRequest.issuing_archive_id == archive_id)
        .group_by(User.real_name).order_by(func.count().desc(), User.real_name).limit(1))
    number = db.session.scalar(select(UtilizationRequest.number).where(
        UtilizationRequest.issuing_archive_id == archive_id, UtilizationRequest.status == "issued")
        .order_by(UtilizationRequest.id).limit(1))
    facts["find name"], facts["find number"] = name, number
    for tab in ("to_accept", "done"):
        filters = review_queue.QueueFilters(find=name)
        facts[f"find {tab}"] = review_queue.counts(db.session, archive_id)[tab]
        results[f"queue({tab}, find=<name>)"] = timed(
            lambda tab=tab, f=filters: review_queue.queue(db.session, archive_id, tab, f), repeat)
    results["queue(done, find=<number>)"] = timed(
        lambda: review_queue.queue(db.session, archive_id, "done", review_queue.QueueFilters(find=number)), repeat)
    results["queue(done, other archive + category)"] = timed(
        lambda: review_queue.queue(db.session, archive_id, "done",
                                   review_queue.QueueFilters(archive="450100", category="marriage")), repeat)
    fresh_session()
    return results, facts


def page_cases(app, archive_code: str, repeat: int) -> tuple[dict, str | None]:
    """GET /staff/queue?tab=… as the busy archive's clerk, through the Flask test client."""
    from tests.helpers import login

    if "review.queue_page" not in app.view_functions:
        return {}, "the route /staff/queue does not exist yet"
    client = app.test_client()
    response = login(client, f"clerk.{archive_code}@demo.cn", PASSWORD)
    if response.status_code != 302:
        return {}, f"could not sign in as the clerk (HTTP {response.status_code})"
    results: dict = {}
    problems = []
    archive_id = db.session.scalar(select(Archive.id).where(Archive.code == archive_code))
    name = db.session.scalar(
        select(User.real_name).join(UtilizationRequest, UtilizationRequest.applicant_id == User.id)
        .where(UtilizationRequest.issuing_archive_id == archive_id)
        .group_by(User.real_name).order_by(func.count().desc(), User.real_name).limit(1))
    fresh_session()

    def get(url: str):
        def call():
            r = client.get(url)
            if r.status_code != 200:
                raise RuntimeError(f"GET {url}: HTTP {r.status_code}")
            r.get_data()
        return call

    urls = [(f"GET /staff/queue?tab={tab}", f"/staff/queue?tab={tab}") for tab in review_queue.TABS]
    after, number = later_cursor(archive_id, "done", 10)
    if after:
        urls.append((f"GET /staff/queue?tab=done page {number}", f"/staff/queue?tab=done&after={after}"))
    urls.append(("GET /staff/queue?tab=done&find=<name>", f"/staff/queue?tab=done&find={name}"))
    urls.append(("GET /staff/queue (htmx partial, in_review)", None))
    for label, url in urls:
        try:
            if url is None:
                def call():
                    r = client.get("/staff/queue?tab=in_review", headers={"HX-Request": "true"})
                    if r.status_code != 200:
                        raise RuntimeError(f"htmx GET: HTTP {r.status_code}")
                    r.get_data()
                results[label] = timed(call, repeat)
            else:
                results[label] = timed(get(url), repeat)
        except Exception as exc:  # noqa: BLE001 — the page is being written: report, do not stop
            problems.append(f"{label}: {exc}")
    return results, "; ".join(problems) or None


def explain(archive_id: int) -> None:
    """Print the plans of the counts and of each tab's first page (the SQL the ORM sends)."""
    dialect = db.engine.dialect.name
    prefix = "EXPLAIN ANALYZE " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    from sqlalchemy import event

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        for tab in review_queue.TABS:
            review_queue.queue(db.session, archive_id, tab)
            fresh_session()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    seen = set()
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            if statement in seen:
                continue
            seen.add(statement)
            print("\n---", statement.strip()[:2000], parameters, sep="\n")
            for row in conn.exec_driver_sql(prefix + statement, parameters):
                print("   ", " | ".join(str(c) for c in row))


def run_backend(backend: str, args, app, generated) -> dict:
    row: dict = {"generated": generated, "load": os.getloadavg()[0]}
    with app.app_context():
        try:
            archive_id = db.session.scalar(select(Archive.id).where(Archive.code == BUSY))
            row["version"] = (f"SQLite {sqlite3.sqlite_version}" if backend == "sqlite" else
                              "PostgreSQL " + db.session.scalar(text("SHOW server_version")).split()[0])
            row["rows"] = {t.__tablename__: db.session.scalar(select(func.count()).select_from(t))
                           for t in (UtilizationRequest, RequestEvent, VerificationTask, RequestRecord)}
            row["busy"] = db.session.scalar(select(func.count()).select_from(UtilizationRequest)
                                            .where(UtilizationRequest.issuing_archive_id == archive_id))
            fresh_session()
            if args.explain:
                explain(archive_id)
            row["service"], row["facts"] = service_cases(archive_id, args.repeat)
            row["pages"], row["page_note"] = page_cases(app, BUSY, args.repeat)
        finally:
            fresh_session()
    return row


def fmt(values) -> str:
    if values is None:
        return "—"
    p50, p95, p99 = values
    mark = " ❌" if p95 > 100 else ""
    return f"{p50:.1f} / {p95:.1f} / {p99:.1f}{mark}"


def report(results: dict, args, command: str) -> str:
    backends = list(results)
    first = results[backends[0]]
    facts = first["facts"]
    lines = [
        f"Machine: {os.cpu_count()} CPUs (`nproc`), {cpu_model()}; Python {platform.python_version()}; "
        + ", ".join(results[b]["version"] for b in backends) + ".",
        "",
        f"Command: `{command}`. Each case: {args.repeat} timed runs after 2 warm-ups, each from a fresh session; "
        "latencies in ms (p50 / p95 / p99); ❌ marks a p95 over 100 ms.",
        "",
        TARGET,
        "",
        f"Data ({GENERATOR}): {first['rows']['utilization_request']:,} requests over 7 archives, "
        f"{first['rows']['request_event']:,} timeline events, {first['rows']['verification_task']:,} verification "
        f"tasks, {first['rows']['request_record']:,} requested records, generated with bulk Core inserts "
        f"(`bench/queue.py`; cached under bench/out/). The busy archive ({BUSY}) issues {first['busy']:,} of them; "
        f"its clerk's counts: " + ", ".join(f"{tab} {n:,}" for tab, n in facts["counts"].items()) + ". "
        f"Find: applicant name {facts['find name']} (the most frequent among its applicants), number "
        f"{facts['find number']}.",
        "",
    ]
    lines += ["Load average (1 min) when each database's measurements began: "
              + ", ".join(f"{results[b]['version']} {results[b]['load']:.1f}" for b in backends)
              + " (other work on the machine shows in the p95 and p99).", ""]
    generated = [f"{results[b]['version']} {results[b]['generated']['seconds']:.0f} s"
                 + (" (earlier run, cached)" if results[b]["generated"].get("cached") else "")
                 for b in backends if results[b]["generated"]]
    if generated:
        lines += ["Generation (seed_demo with 20,000 catalog records, then the requests in bulk): "
                  + ", ".join(generated) + ".", ""]
    head = "| case | " + " | ".join(f"{results[b]['version']}" for b in backends) + " |"
    lines += [head, "|---|" + "---|" * len(backends)]
    cases = list(dict.fromkeys(c for b in backends for c in results[b]["service"]))
    for case in cases:
        lines.append(f"| `{case}` | " + " | ".join(fmt(results[b]["service"].get(case)) for b in backends) + " |")
    pages = list(dict.fromkeys(c for b in backends for c in results[b]["pages"]))
    for case in pages:
        lines.append(f"| {case} | " + " | ".join(fmt(results[b]["pages"].get(case)) for b in backends) + " |")
    notes = [f"{b}: {results[b]['page_note']}" for b in backends if results[b]["page_note"]]
    if notes:
        lines += ["", "HTML page not measured — " + "; ".join(notes) + "."]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL; its public schema is DROPPED")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached data")
    parser.add_argument("--explain", action="store_true", help="print the query plans of the counts and the tabs")
    parser.add_argument("--no-write", action="store_true", help="print, do not update docs/benchmarks.md")
    args = parser.parse_args()
    if args.database_url.rstrip("/").endswith("/test"):
        parser.error("never the `test` database: use a database of its own (the default is bench_queue)")
    args.out.mkdir(parents=True, exist_ok=True)
    command = " ".join(shlex.quote(a) for a in [os.path.relpath(sys.executable, ROOT), "bench/queue.py",
                                                *sys.argv[1:]])
    results = {}
    for backend in args.backends:
        app, generated = prepared_app(backend, args.requests, args.out, args.database_url, args.regenerate)
        results[backend] = run_backend(backend, args, app, generated)
        db.dispose(app)
        print(f"{backend}: done", file=sys.stderr)
    text_ = report(results, args, command)
    print(text_)
    if not args.no_write:
        replace_section(ROOT / "docs" / "benchmarks.md", "queue", "### Approval queue", text_)


if __name__ == "__main__":
    main()
