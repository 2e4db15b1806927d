"""Administrators browse the audit log by person, request, action and date; nobody else sees it,
and nothing in the application changes or deletes an entry."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditLog, AuditLogIsAppendOnly
from portal.audit.service import log
from portal.core.clock import utcnow
from tests.factories import PASSWORD
from tests.helpers import login


@pytest.fixture
def people(factory):
    archive = factory.archive()
    return {"admin": factory.user("admin", name="覃志强"), "clerk": factory.user("clerk", archive=archive, name="罗丽萍"),
            "reviewer": factory.user("reviewer", archive=archive, name="卢俊杰"),
            "citizen": factory.user(name="韦秀英")}


@pytest.fixture
def entries(session, people):
    log(session, "view_personal_data", actor=people["clerk"], object_type="request", object_id="451200-2026-000001",
        ip="10.0.0.8")
    log(session, "download_file", actor=people["reviewer"], object_type="request", object_id="451200-2026-000002",
        file="abc")
    old = log(session, "claim", actor=people["clerk"], object_type="request", object_id="451200-2026-000002")
    session.commit()
    return old


def rows(html: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    return [re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", row)).strip() for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def as_admin(client, people):
    assert login(client, people["admin"].email, PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize("who", ["clerk", "reviewer", "citizen"])
def test_only_admins_see_the_audit_log(client, people, who):
    login(client, people[who].email, PASSWORD)
    assert client.get("/admin/audit").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/admin/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_log_is_newest_first_with_who_did_what(client, people, entries):
    html = as_admin(client, people).get("/admin/audit").get_data(as_text=True)
    listed = rows(html)
    assert " login " in listed[0] and "覃志强" in listed[0]  # the admin's own log-in, just now
    assert " claim " in listed[1] and "罗丽萍" in listed[1] and "451200-2026-000002" in listed[1]
    assert " download_file " in listed[2] and "卢俊杰" in listed[2] and "file=abc" in listed[2]
    assert " view_personal_data " in listed[3] and "10.0.0.8" in listed[3]


@pytest.mark.parametrize("query, expected", [
    ("person=罗丽萍", {"view_personal_data", "claim"}),
    ("person=CLERK", {"view_personal_data", "claim"}),  # email, any case
    ("request=451200-2026-000002", {"download_file", "claim"}),
    ("action=download_file", {"download_file"}),
    ("person=卢俊杰&request=451200-2026-000001", set()),
])
def test_filters(client, people, entries, query, expected):
    html = as_admin(client, people).get(f"/admin/audit?{query}").get_data(as_text=True)
    found = {action for action in ("view_personal_data", "download_file", "claim")
             if any(f" {action} " in f" {row} " for row in rows(html))}
    assert found == expected


def test_date_filter_and_a_bad_date(client, people, entries, session):
    as_admin(client, people)
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    html = client.get(f"/admin/audit?date_from={tomorrow}").get_data(as_text=True)
    assert rows(html) == ["没有符合条件的记录。"]
    bad = client.get("/admin/audit?date_from=2026-13-40")
    assert bad.status_code == 400 and "日期格式应为 YYYY-MM-DD" in bad.get_data(as_text=True)


def test_paging_walks_back_through_older_entries(client, people, session, monkeypatch):
    from portal.audit import browse

    monkeypatch.setattr(browse, "PAGE_SIZE", 2)
    for n in range(5):
        log(session, "claim", actor=people["clerk"], object_type="request", object_id=f"N{n}")
    session.commit()
    as_admin(client, people)
    seen, url = [], "/admin/audit?action=claim"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += [re.search(r"request (N\d)", row).group(1) for row in rows(html)]
        more = re.search(r'href="\?([^"]+)" rel="next"', html)
        url = "/admin/audit?" + more.group(1).replace("&amp;", "&") if more else None
    assert seen == ["N4", "N3", "N2", "N1", "N0"]


def test_entries_cannot_be_changed_through_the_application(session, entries):
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "claim"))
    entry.action = "nothing_happened"
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()


def test_only_admins_have_the_audit_log_in_the_header(client, people):
    as_admin(client, people)
    assert 'href="/admin/audit"' in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                          client.get("/").get_data(as_text=True)).group(1)})
    login(client, people["clerk"].email, PASSWORD)
    assert 'href="/admin/audit"' not in client.get("/").get_data(as_text=True)
