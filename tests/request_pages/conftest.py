"""Shared setting for the citizen's request pages: two archives, a citizen who signs in, and
ways to drive the apply form the way a browser does (CSRF token and submission key from the page)."""
from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.requests.models import RequestFile, UtilizationRequest
from tests.factories import PASSWORD, make_id_number
from tests.helpers import csrf_token, login

CITIZEN_NAME = "王秀英"
CITIZEN_ID = make_id_number(region="451202", born="19580704", seq=26)
FATHER_NAME = "王大山"
FATHER_ID = make_id_number(region="451202", born="19300205", seq=11)

_KEY = re.compile(r'name="submission_key" type="hidden" value="([^"]*)"|name="submission_key" value="([^"]*)"')


@pytest.fixture
def archive(factory):
    return factory.archive(code="451200", name="河池市档案馆")


@pytest.fixture
def other_archive(factory):
    return factory.archive(code="450100", name="南宁市档案馆", region="南宁市")


@pytest.fixture
def citizen(factory, archive):
    return factory.user(email="wang@example.cn", name=CITIZEN_NAME, id_number=CITIZEN_ID)


def sign_in(client, user) -> None:
    response = login(client, user.email, PASSWORD)
    assert response.status_code == 302, "login failed"


@pytest.fixture
def signed_in(client, citizen):
    sign_in(client, citizen)
    return client


def form_keys(client, url: str = "/apply") -> tuple[str, str]:
    """(CSRF token, submission key) from a fresh apply page."""
    html = client.get(url).get_data(as_text=True)
    match = _KEY.search(html)
    assert match, f"no submission_key on {url}"
    return csrf_token(client, url), match.group(1) or match.group(2)


def submission_key(html: str) -> str:
    match = _KEY.search(html)
    assert match, "no submission_key in the page"
    return match.group(1) or match.group(2)


def add_to_basket(client, record, headers=None, **extra):
    return client.post("/basket/add", headers=headers or {},
                       data={"csrf_token": csrf_token(client, "/me/records"), "archive_code": record.archive.code,
                             "reference_code": record.reference_code, **extra})


def upload(data: bytes, name: str):
    return (BytesIO(data), name)


def post_multipart(client, url: str, data: dict, **kw):
    """Post as multipart/form-data like a browser; values that are (stream, name) tuples, or lists
    of them, are files. Encoded in memory: the test client would otherwise spool a large body
    into a temporary file it never closes (a ResourceWarning, an error under filterwarnings)."""
    def part(value):
        return FileStorage(stream=value[0], filename=value[1]) if isinstance(value, tuple) else value

    values = {k: [part(v) for v in value] if isinstance(value, list) else part(value) for k, value in data.items()}
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", **kw)


def post_apply(client, data: dict, files: dict | None = None, url: str = "/apply", **kw):
    """Post the apply form, like the page's <form enctype="multipart/form-data">."""
    return post_multipart(client, url, {**data, **(files or {})}, **kw)


def count_requests(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(UtilizationRequest))


def files_in_db(session) -> list[RequestFile]:
    session.expire_all()
    return list(session.scalars(select(RequestFile).order_by(RequestFile.id)))


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")) if folder.exists() else []


def error_fields(html: str) -> list[str]:
    """Every field the re-rendered form marks as wrong."""
    return re.findall(r'<p class="error" id="([^"]+)-error">', html)
