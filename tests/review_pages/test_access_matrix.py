"""Every staff URL and every staff step × every kind of visitor → the expected status, written
out as a table (not derived from the permission code), and the state untouched when refused."""
from __future__ import annotations

from io import BytesIO

import pytest

from portal.requests.applying import Upload
from portal.actions import act
from tests.files import pdf_bytes, png_bytes
from tests.review_pages.conftest import (action_url, cross_request, post_raw, sign_in, staff_url, task_of,
                                         task_url)

ROLES = ("anonymous", "applicant", "other_citizen", "issuing_clerk", "issuing_reviewer", "holding_clerk",
         "unrelated_staff", "admin")

# 302: sent to log in; 404: nothing to see here; 403: visible, but not this person's step;
# 409: a step this person may take, refused by the state (the request is claimed by the issuing clerk).
GET_MATRIX = {
    #                                anon applicant other  clerkA revA clerkB  C   admin
    "/staff/queue":                 (302, 404, 404, 200, 200, 200, 200, 200),
    "/staff/queue?tab=to_accept":   (302, 404, 404, 200, 200, 200, 200, 200),
    "/staff/queue?tab=in_review":   (302, 404, 404, 200, 200, 200, 200, 200),
    "/staff/queue?tab=waiting":     (302, 404, 404, 200, 200, 200, 200, 200),
    "/staff/queue?tab=tasks":       (302, 404, 404, 200, 200, 200, 200, 200),
    "/staff/queue?tab=ready":       (302, 404, 404, 200, 200, 200, 200, 200),
    "/staff/queue?tab=done":        (302, 404, 404, 200, 200, 200, 200, 200),
    "/staff/queue?tab=nonsense":    (302, 404, 404, 404, 404, 404, 404, 404),
    "{page}":                       (302, 404, 404, 200, 200, 200, 404, 200),
    "{proof}":                      (302, 200, 404, 200, 200, 200, 404, 200),
    "{copy}":                       (302, 404, 404, 200, 200, 200, 404, 200),
}

POST_MATRIX = {
    #                     anon applicant other  clerkA revA clerkB  C   admin
    "accept":            (302, 404, 404, 303, 403, 403, 404, 403),
    "ask_supplement":    (302, 404, 404, 303, 303, 403, 404, 403),
    "approve":           (302, 404, 404, 403, 303, 403, 404, 403),
    "reject":            (302, 404, 404, 403, 303, 403, 404, 403),
    "claim":             (302, 404, 404, 303, 303, 403, 404, 403),
    "release":           (302, 404, 404, 303, 409, 403, 404, 303),
    "reassign":          (302, 404, 404, 403, 403, 403, 404, 303),
    "note":              (302, 404, 404, 303, 303, 403, 404, 403),
    "task:verify":       (302, 404, 404, 403, 403, 303, 404, 403),
    "task:not_found":    (302, 404, 404, 403, 403, 303, 404, 403),
    "task:claim":        (302, 404, 404, 403, 403, 303, 404, 403),
}

# The state each step starts from, and what a browser sends with it.
SETUP = {"accept": "submitted", "ask_supplement": "in_review", "approve": "ready", "reject": "in_review",
         "claim": "submitted", "release": "claimed", "reassign": "submitted", "note": "submitted",
         "task:verify": "in_review", "task:not_found": "in_review", "task:claim": "in_review"}
DATA = {"ask_supplement": {"note": "请补充户口簿"}, "reject": {"reason": "proof", "note": "证明材料不清晰"},
        "note": {"text": "电话联系过申请人"}, "task:verify": {"note": "已核实"},
        "task:not_found": {"note": "查阅 1980–1990 年全部案卷，未找到"}}


def _who(people, role):
    return None if role == "anonymous" else getattr(people, role)


def _prepared(factory, people, archive_a, archive_b, state: str):
    req = cross_request(factory, people, archive_a, archive_b,
                        status="in_review" if state in ("in_review", "ready") else "submitted")
    if state == "ready":
        factory.verify_all(req)
    if state == "claimed":
        act(factory.session, req, "claim", people.issuing_clerk)
    return req


@pytest.mark.parametrize("role", ROLES)
def test_get_urls_by_role(client, factory, session, people, archive_a, archive_b, role):
    req = cross_request(factory, people, archive_a, archive_b, status="in_review",
                        uploads=[Upload("supplement", "户口簿.png", BytesIO(png_bytes()))])
    factory.verify_all(req)  # B's certified copy exists
    proof = next(f for f in req.files if f.kind == "supplement")
    copy = task_of(req, archive_b).copy_file
    urls = {"{page}": staff_url(req), "{proof}": f"/requests/{req.number}/files/{proof.public_id}",
            "{copy}": f"/requests/{req.number}/files/{copy.public_id}"}
    if (who := _who(people, role)) is not None:
        sign_in(client, who)
    column = ROLES.index(role)
    got, expected = {}, {}
    for url, statuses in GET_MATRIX.items():
        response = client.get(urls.get(url, url))
        response.close()  # a file answer holds the stored file open until closed
        got[url], expected[url] = response.status_code, statuses[column]
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login")
    assert got == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", list(POST_MATRIX))
def test_post_steps_by_role(client, factory, session, people, archive_a, archive_b, step, role):
    req = _prepared(factory, people, archive_a, archive_b, SETUP[step])
    data = dict(DATA.get(step, {}))
    files = {}
    if step.startswith("task:"):
        task = task_of(req, archive_b)
        url, version = task_url(task, step.split(":", 1)[1]), task.version
        if step == "task:verify":
            files["copy"] = (pdf_bytes(), "核实件.pdf")
    else:
        url, version = action_url(req, step), req.version
        if step == "reassign":
            data["to"] = str(people.issuing_reviewer.id)
    before = (req.status, req.version, [(t.status, t.version) for t in req.tasks])
    if (who := _who(people, role)) is not None:
        sign_in(client, who)

    response = post_raw(client, url, {"version": str(version), **data}, **files)

    assert response.status_code == POST_MATRIX[step][ROLES.index(role)]
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
    if response.status_code == 303:
        assert response.headers["Location"] == staff_url(req)
    else:
        session.expire_all()
        assert (req.status, req.version, [(t.status, t.version) for t in req.tasks]) == before
