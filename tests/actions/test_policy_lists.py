"""One policy for one object and for lists: `visible()` as SQL lists exactly the requests that
`can_view()` lets each person open, and the tasks the staff of the archives involved may open."""
from __future__ import annotations

from sqlalchemy import select

from portal.policy import can_view, visible
from portal.requests.models import UtilizationRequest
from portal.requests.service import SearchSpec
from portal.review.models import VerificationTask


def test_visible_lists_what_can_view_opens(session, factory):
    a = factory.archive(code="451200", name="河池市档案馆")
    b = factory.archive(code="450100", name="南宁市档案馆", region="南宁市")
    c = factory.archive(code="450300", name="桂林市档案馆", region="桂林市")
    applicant, other = factory.user(name="王秀英"), factory.user(name="李四")
    held_at_b = factory.record(b, subject_name="王秀英")
    requests = [
        factory.request(applicant, issuing=a),                                   # A's own record
        factory.request(applicant, issuing=a, records=[held_at_b], status="in_review"),  # held at B, tasks
        factory.request(other, issuing=b, search=SearchSpec(category="marriage", year_from=1980, year_to=1990,
                                                            place="七星区", archives=["450300"])),  # searched at C
    ]
    people = [None, applicant, other, factory.user("admin"),
              *(factory.user(role, archive=archive) for archive in (a, b, c) for role in ("clerk", "reviewer"))]
    for person in people:
        listed = set(session.scalars(visible(person, select(UtilizationRequest.id))))
        assert listed == {r.id for r in requests if can_view(person, r)}, person
    # Tasks: the holding archive's staff and the issuing archive's staff open them; others do not.
    tasks = requests[1].tasks
    assert [t.holding_archive.code for t in tasks] == ["450100"]
    for person in people:
        listed = set(session.scalars(visible(person, select(VerificationTask.id), VerificationTask)))
        role, archive_id = getattr(person, "role", None), getattr(person, "archive_id", None)
        opens = role == "admin" or (role in ("clerk", "reviewer") and archive_id in (b.id, a.id))
        assert listed == ({tasks[0].id} if opens else set()), person
