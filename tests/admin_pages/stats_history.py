"""A known history for the statistics tests: two archives, two months (January and February 2026),
requests made by web, counter and API, walked through portal.actions.act (so the timeline, the
tasks and the certificates are the real ones), then dated where the story needs them to be. The
figures it must give are written out by hand in EXPECTED_A, EXPECTED_B and EXPECTED_NETWORK
(docs/admin-stats.md defines each)."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from sqlalchemy import update

from portal.actions import act
from portal.certificates.models import Certificate
from portal.core.clock import CHINA_TIME
from portal.requests import applying
from portal.requests.models import RequestEvent
from portal.review.models import VerificationTask
from tests.factories import make_id_number


def cst(text: str) -> datetime:
    """A China-time moment, "2026-01-05 10:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TIME)


def _submit(session, applicant, issuing, records, channel: str, purpose: str, search=None):
    application = applying.Application(relation="self", purpose=purpose, issuing_archive=issuing.code,
                                       delivery="download", consent=True, search=search,
                                       purpose_note="核对工龄" if purpose == "other" else "",
                                       records=[(r.archive.code, r.reference_code) for r in records])
    request, _created = applying.submit(session, applicant, application, [], channel=channel)
    return request


def _date(session, request, moments: dict[str, datetime]) -> None:
    """Move each of the request's events (by action) to its moment; the tasks are created when it
    was accepted, and the certificate issued when the issue event says."""
    for action, moment in moments.items():
        session.execute(update(RequestEvent).where(RequestEvent.request_id == request.id,
                                                   RequestEvent.action == action).values(at=moment))
    if "accept" in moments:
        session.execute(update(VerificationTask).where(VerificationTask.request_id == request.id)
                        .values(created_at=moments["accept"]))
    if "issue" in moments:
        session.execute(update(Certificate).where(Certificate.request_id == request.id)
                        .values(issued_at=moments["issue"]))


def _task(session, request, archive, *, answered: datetime | None = None, due: date):
    session.execute(update(VerificationTask).where(VerificationTask.request_id == request.id,
                                                   VerificationTask.holding_archive_id == archive.id)
                    .values(answered_at=answered, due_date=due))


def build(session, factory):
    a = factory.archive("451200", "河池市档案馆")
    b = factory.archive("451202", "金城江区档案馆", region="金城江区")
    citizen = factory.user(email="stats-citizen@example.cn", name="韦秀英",
                           id_number=make_id_number("451202", "19470316", 62))
    a1 = factory.record(a, reference_code="A-1", category="marriage", subject_name="韦秀英")
    a2 = factory.record(a, reference_code="A-2", category="social_insurance", subject_name="韦秀英")
    b1 = factory.record(b, reference_code="B-1", category="land_contract", subject_name="韦秀英")
    clerk_a, reviewer_a = factory.staff(a, "clerk"), factory.staff(a, "reviewer")
    clerk_b, reviewer_b = factory.staff(b, "clerk"), factory.staff(b, "reviewer")

    def walk(request, steps):
        for action, actor, inputs in steps:
            target = request
            if action in ("verify", "not_found"):
                target = next(t for t in request.tasks if t.holding_archive_id == actor.archive_id)
                if action == "verify":
                    inputs = {"note": "已核实", "copy": applying.Upload("certified_copy", "核实件.pdf",
                                                                      io.BytesIO(_pdf()))}
            act(session, target, action, actor, inputs or {"note": ""})

    def issued(request, holder_clerk, answer="verify", reviewer=reviewer_a):
        walk(request, [("accept", clerk_a if request.issuing_archive_id == a.id else clerk_b, None),
                       (answer, holder_clerk, {"note": "查阅相关全宗，未见"} if answer == "not_found" else None),
                       ("approve", reviewer, None), ("issue", reviewer, None)])

    made = {}
    # R1: A, web, found; 2 working days (Mon 5 → Wed 7 January).
    made["r1"] = r = _submit(session, citizen, a, [a1], "web", "pension")
    issued(r, clerk_a)
    _date(session, r, {"submit": cst("2026-01-05 10:00"), "accept": cst("2026-01-05 11:00"),
                       "verify": cst("2026-01-06 09:00"), "approve": cst("2026-01-07 09:00"),
                       "issue": cst("2026-01-07 10:00")})
    _task(session, r, a, answered=cst("2026-01-06 09:00"), due=date(2026, 1, 12))
    # R2: A, counter (a walk-in), two records of A; Fri 9 → Thu 15 January: 4 working days.
    made["r2"] = r = _submit(session, citizen, a, [a1, a2], "counter", "inheritance")
    issued(r, clerk_a)
    _date(session, r, {"submit": cst("2026-01-09 15:00"), "accept": cst("2026-01-09 15:10"),
                       "verify": cst("2026-01-12 09:00"), "approve": cst("2026-01-15 09:00"),
                       "issue": cst("2026-01-15 10:00")})
    _task(session, r, a, answered=cst("2026-01-12 09:00"), due=date(2026, 1, 16))
    # R3: A, API, B's record; B answers not found on time (due the 6th, answered the 4th): 3 days.
    made["r3"] = r = _submit(session, citizen, a, [b1], "api", "property")
    issued(r, clerk_b, "not_found")
    _date(session, r, {"submit": cst("2026-02-02 09:00"), "accept": cst("2026-02-02 10:00"),
                       "not_found": cst("2026-02-04 16:00"), "approve": cst("2026-02-05 09:00"),
                       "issue": cst("2026-02-05 10:00")})
    _task(session, r, b, answered=cst("2026-02-04 16:00"), due=date(2026, 2, 6))
    # R4: A, web, B's record; B verifies late (due the 10th, answered the 12th); 4 working days.
    made["r4"] = r = _submit(session, citizen, a, [b1], "web", "pension")
    issued(r, clerk_b)
    _date(session, r, {"submit": cst("2026-02-09 09:00"), "accept": cst("2026-02-09 10:00"),
                       "verify": cst("2026-02-12 09:00"), "approve": cst("2026-02-13 09:00"),
                       "issue": cst("2026-02-13 10:00")})
    _task(session, r, b, answered=cst("2026-02-12 09:00"), due=date(2026, 2, 10))
    # R5: B, web, rejected: proof.
    made["r5"] = r = _submit(session, citizen, b, [b1], "web", "other")
    walk(r, [("accept", clerk_b, None), ("reject", reviewer_b, {"reason": "proof", "note": "证件不清"})])
    _date(session, r, {"submit": cst("2026-01-19 09:00"), "accept": cst("2026-01-19 10:00"),
                       "reject": cst("2026-01-20 09:00")})
    # R6: A, counter, rejected: no right.
    made["r6"] = r = _submit(session, citizen, a, [a2], "counter", "pension")
    walk(r, [("accept", clerk_a, None), ("reject", reviewer_a, {"reason": "no_right", "note": "非本人"})])
    _date(session, r, {"submit": cst("2026-02-03 09:00"), "accept": cst("2026-02-03 10:00"),
                       "reject": cst("2026-02-03 11:00")})
    # The edges, submitted only: just before 1 January and just after 28 February (China time) are
    # outside; midnight of 1 January and the last second of 28 February inside.
    for key, moment in (("r7", "2025-12-31 23:59:59"), ("r8", "2026-03-01 00:00:00"),
                        ("r9", "2026-01-01 00:00:00"), ("r10", "2026-02-28 23:59:59")):
        made[key] = r = _submit(session, citizen, a, [a1], "web", "pension")
        _date(session, r, {"submit": cst(moment)})
    # R11: B, web, A's record; A's task is still open, past its due date: late for A.
    made["r11"] = r = _submit(session, citizen, b, [a1], "web", "household")
    walk(r, [("accept", clerk_b, None)])
    _date(session, r, {"submit": cst("2026-01-26 09:00"), "accept": cst("2026-01-26 10:00")})
    _task(session, r, a, due=date(2026, 1, 30))
    # R12: A, counter, "please search for me" in A's housing records: A's clerk finds and verifies
    # (one retrieval); not yet approved.
    made["r12"] = r = _submit(session, citizen, a, [], "counter", "pension",
                              search=applying.SearchSpec(category="housing", archives=[a.code]))
    walk(r, [("accept", clerk_a, None), ("verify", clerk_a, None)])
    _date(session, r, {"submit": cst("2026-02-24 09:00"), "accept": cst("2026-02-24 09:30"),
                       "verify": cst("2026-02-25 09:00")})
    _task(session, r, a, answered=cst("2026-02-25 09:00"), due=date(2026, 3, 3))
    session.flush()
    session.expire_all()
    return {"a": a, "b": b, "citizen": citizen, "clerk_a": clerk_a, "reviewer_a": reviewer_a, "clerk_b": clerk_b,
            "requests": made}


def _pdf() -> bytes:
    from tests.files import pdf_bytes
    return pdf_bytes()


def zeros(keys) -> dict:
    return dict.fromkeys(keys, 0)


CATEGORIES = ("land_contract", "marriage", "social_insurance", "medical_insurance", "subsistence",
              "land_acquisition", "housing", "education", "employment", "veterans", "forest_rights")
PURPOSES = ("pension", "inheritance", "property", "litigation", "household", "other")
REASONS = ("proof", "no_right", "closed", "not_held", "other")


def month(name, **figures) -> dict:
    return {"month": name, **zeros(("requests_received", "persons_served", "records_retrieved", "certificates_found",
                                    "certificates_not_found", "cross_archive_sent", "cross_archive_received",
                                    "rejections")), **figures}


EXPECTED_A = {
    "archive": "451200", "from": "2026-01-01", "to": "2026-02-28",
    "requests_received": {"web": 4, "counter": 3, "api": 1, "other_archive": 1, "total": 9},
    "persons_served": 3,
    "records_retrieved": 4,
    "certificates_issued": {"found": 3, "not_found": 1},
    "cross_archive": {"sent": 2, "received": 1, "on_time": 0, "late": 1, "on_time_share": 0.0},
    "turnaround_working_days": {"median": 3.5, "p90": 4.0, "count": 4},
    "by_category": {**zeros(CATEGORIES), "marriage": 4, "social_insurance": 2, "land_contract": 2, "housing": 1},
    "by_purpose": {**zeros(PURPOSES), "pension": 6, "inheritance": 1, "property": 1},
    "rejections_by_reason": {**zeros(REASONS), "no_right": 1},
    "by_month": [
        month("2026-01", requests_received=4, persons_served=1, records_retrieved=3, certificates_found=2,
              cross_archive_received=1),
        month("2026-02", requests_received=5, persons_served=2, records_retrieved=1, certificates_found=1,
              certificates_not_found=1, cross_archive_sent=2, rejections=1),
    ],
}
EXPECTED_B = {
    "archive": "451202", "from": "2026-01-01", "to": "2026-02-28",
    "requests_received": {"web": 2, "counter": 0, "api": 0, "other_archive": 2, "total": 4},
    "persons_served": 0,
    "records_retrieved": 1,
    "certificates_issued": {"found": 0, "not_found": 0},
    "cross_archive": {"sent": 1, "received": 2, "on_time": 1, "late": 1, "on_time_share": 0.5},
    "turnaround_working_days": {"median": None, "p90": None, "count": 0},
    "by_category": {**zeros(CATEGORIES), "land_contract": 1, "marriage": 1},
    "by_purpose": {**zeros(PURPOSES), "other": 1, "household": 1},
    "rejections_by_reason": {**zeros(REASONS), "proof": 1},
    "by_month": [
        month("2026-01", requests_received=2, cross_archive_sent=1, rejections=1),
        month("2026-02", requests_received=2, records_retrieved=1, cross_archive_received=2),
    ],
}
EXPECTED_NETWORK = {
    "archive": None, "from": "2026-01-01", "to": "2026-02-28",
    "requests_received": {"web": 6, "counter": 3, "api": 1, "other_archive": 3, "total": 13},
    "persons_served": 3,
    "records_retrieved": 5,
    "certificates_issued": {"found": 3, "not_found": 1},
    "cross_archive": {"sent": 3, "received": 3, "on_time": 1, "late": 2, "on_time_share": 0.3333},
    "turnaround_working_days": {"median": 3.5, "p90": 4.0, "count": 4},
    "by_category": {**zeros(CATEGORIES), "marriage": 5, "social_insurance": 2, "land_contract": 3, "housing": 1},
    "by_purpose": {**zeros(PURPOSES), "pension": 6, "inheritance": 1, "property": 1, "other": 1, "household": 1},
    "rejections_by_reason": {**zeros(REASONS), "no_right": 1, "proof": 1},
    "by_month": [
        month("2026-01", requests_received=6, persons_served=1, records_retrieved=3, certificates_found=2,
              cross_archive_sent=1, cross_archive_received=1, rejections=1),
        month("2026-02", requests_received=7, persons_served=2, records_retrieved=2, certificates_found=1,
              certificates_not_found=1, cross_archive_sent=2, cross_archive_received=2, rejections=1),
    ],
}
