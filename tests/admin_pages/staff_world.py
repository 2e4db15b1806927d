"""Two archives, their people, and the ways the staff tests drive the pages (imported by the
test_staff* modules)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.audit.models import AuditLog
from portal.mail.models import MailOutbox
from tests.factories import PASSWORD
from tests.helpers import hx_csrf_token, login


@dataclass
class World:
    a: object
    b: object
    people: dict


@pytest.fixture
def world(factory) -> World:
    a = factory.archive(code="451200", name="河池市档案馆", region="河池市")
    b = factory.archive(code="450100", name="南宁市档案馆", region="南宁市")
    people = {
        "citizen": factory.user("citizen", email="citizen@example.cn"),
        "clerk": factory.user("clerk", archive=a, email="clerk.a@example.cn", name="陆晓燕"),
        "reviewer": factory.user("reviewer", archive=a, email="reviewer.a@example.cn", name="蒙德明"),
        "archive_admin": factory.user("archive_admin", archive=a, email="manager.a@example.cn", name="韦国栋"),
        "clerk_b": factory.user("clerk", archive=b, email="clerk.b@example.cn", name="黄丽娟"),
        "admin": factory.user("admin", email="admin@example.cn", name="覃志强"),
    }
    return World(a, b, people)


def sign_in(client, user) -> None:
    response = login(client, user.email, PASSWORD)
    assert response.status_code == 302, "login failed"


def post(client, url: str, data: dict | None = None):
    """A form post with the CSRF token the pages carry (any page of the session has it)."""
    return client.post(url, data={**(data or {}), "csrf_token": hx_csrf_token(client, "/")})


def mail(session) -> list[MailOutbox]:
    return list(session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


def link_in(message: MailOutbox) -> str:
    """The path of the link an email carries (the host is PUBLIC_URL's)."""
    match = re.search(r"https?://[^/\s]+(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def audit(session, action: str) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
