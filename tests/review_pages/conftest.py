"""Shared setting for the staff pages: three archives (A issues, B holds records of A's requests,
C is unrelated), people in every role, and ways to drive the staff forms the way a browser does."""
from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.factories import make_id_number
from tests.helpers import hx_csrf_token
from tests.request_pages.conftest import sign_in  # noqa: F401 (the staff tests sign in through here)

APPLICANT_NAME = "王秀英"
APPLICANT_ID = make_id_number(region="451202", born="19580704", seq=26)


@dataclass
class People:
    applicant: object
    other_citizen: object
    issuing_clerk: object
    issuing_reviewer: object
    holding_clerk: object
    unrelated_staff: object
    admin: object


@pytest.fixture
def archive_a(factory):
    return factory.archive(code="451200", name="河池市档案馆", region="河池市")


@pytest.fixture
def archive_b(factory):
    return factory.archive(code="450100", name="南宁市档案馆", region="南宁市")


@pytest.fixture
def archive_c(factory):
    return factory.archive(code="450200", name="柳州市档案馆", region="柳州市")


@pytest.fixture
def people(factory, archive_a, archive_b, archive_c) -> People:
    """Staff first, so that the factory's walks (factory.staff) act as these people."""
    return People(
        issuing_clerk=factory.user("clerk", archive=archive_a, email="clerk.a@example.cn", name="李接待"),
        issuing_reviewer=factory.user("reviewer", archive=archive_a, email="reviewer.a@example.cn", name="赵审核"),
        holding_clerk=factory.user("clerk", archive=archive_b, email="clerk.b@example.cn", name="孙馆藏"),
        unrelated_staff=factory.user("clerk", archive=archive_c, email="clerk.c@example.cn", name="周无关"),
        admin=factory.user("admin", email="admin@example.cn", name="吴管理"),
        applicant=factory.user(email="wang@example.cn", name=APPLICANT_NAME, id_number=APPLICANT_ID),
        other_citizen=factory.user(email="nosy@example.cn", name="郑旁人"),
    )


def cross_request(factory, people, archive_a, archive_b, status: str = "submitted", **kw):
    """The applicant's request issued by A for one record held by A and one held by B."""
    name = people.applicant.real_name
    records = [factory.record(archive_a, subject_name=name, title="招工登记表", category="employment"),
               factory.record(archive_b, subject_name=name, title="结婚登记审查处理表")]
    return factory.request(people.applicant, issuing=archive_a, records=records, status=status, **kw)


def staff_url(req) -> str:
    return f"/staff/requests/{req.number}"


def action_url(req, action: str) -> str:
    return f"/staff/requests/{req.number}/{action}"


def task_url(task, action: str) -> str:
    return f"/staff/tasks/{task.public_id}/{action}"


def task_of(req, archive):
    return next(t for t in req.tasks if t.holding_archive_id == archive.id)


def form_actions(html: str) -> set[str]:
    """Where the page's forms post."""
    return set(re.findall(r'<form[^>]*\saction="([^"]+)"', html))


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to `action` (CSRF token and version), as a browser sends them."""
    match = re.search(rf'<form[^>]*\saction="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert match, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(1)))


def post_form(client, page: str, action: str, data: dict | None = None, *, headers=None, confirm: bool = True,
              **files):
    """Load `page`, then post its form for `action` with `data` (and files as (bytes, name)). A form
    that first shows what it will do (出具证明's preview) is confirmed, as a person would, unless
    `confirm` is false (then the preview is the answer)."""
    html = client.get(page).get_data(as_text=True)
    response = post_multipart(client, action, {**form_fields(html, action), **(data or {})}, headers=headers, **files)
    if confirm and response.status_code == 200 and 'name="confirm"' in (shown := response.get_data(as_text=True)):
        response = post_multipart(client, action, {**form_fields(shown, action), **(data or {})}, headers=headers)
    return response


def post_multipart(client, url: str, data: dict, *, headers=None, **files):
    """Post as multipart/form-data like a browser, encoded in memory (no spooled temporary file)."""
    values = {**data, **{name: FileStorage(stream=BytesIO(content), filename=filename)
                         for name, (content, filename) in files.items()}}
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       headers=headers or {})


def post_raw(client, url: str, data: dict | None = None, **files):
    """Post without the page: a CSRF token any page hands out, and the given fields."""
    return post_multipart(client, url, {"csrf_token": hx_csrf_token(client, "/"), **(data or {})}, **files)


def counts(html: str) -> dict[str, int]:
    return {tab: int(n) for tab, n in re.findall(r'data-tab="([a-z_]+)">(\d+)<', html)}


def queue_numbers(html: str) -> list[str]:
    """The request numbers the queue table lists, in order."""
    body = html.split('<tbody>', 1)[1].split('</tbody>', 1)[0] if '<tbody>' in html else ""
    return re.findall(r'<a href="/staff/requests/([^"]+)">', body)


