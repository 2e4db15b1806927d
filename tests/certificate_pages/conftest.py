"""Shared setting for the certificate pages: the archives, people and requests of
tests/certificates (A issues, B holds, D is unrelated; an `approved` request and an `issued` one),
and ways to drive the staff forms and the /verify page the way a browser does."""
from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditLog
from portal.certificates.models import Certificate
from portal.core.uploads import stored_path
from tests.certificates.conftest import approved, archives, issued, not_found_request, people  # noqa: F401
from tests.helpers import csrf_token
from tests.review_pages.conftest import (action_url, form_actions, form_fields, post_form,  # noqa: F401
                                         post_multipart, staff_url)
from tests.request_pages.conftest import sign_in  # noqa: F401

HTMX = {"HX-Request": "true"}
MASKED_APPLICANT = "王*英"


@pytest.fixture
def second_client(app):
    return app.test_client()


def request_url(req) -> str:
    return f"/requests/{req.number}"


def download_url(req) -> str:
    return f"/requests/{req.number}/certificate"


def stored_file(app, certificate: Certificate) -> Path:
    return stored_path(Path(app.config["CERTIFICATE_FOLDER"]), certificate.stored_name)


def certificates_in_db(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Certificate))


def audit_entries(session, action: str) -> list[AuditLog]:
    session.expire_all()
    return list(session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def text_of(html: str) -> str:
    """The visible text of a fragment: tags dropped, entities decoded, whitespace squeezed."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(html: str, marker: str) -> str:
    """The <section> whose opening tag contains `marker` (an id or a class), up to its end."""
    start = html.index(marker)
    start = html.rindex("<section", 0, start)
    return html[start:html.index("</section>", start) + len("</section>")]


def verdicts(html: str) -> list[str]:
    """The verdict paragraphs the verify page shows, as text."""
    return [text_of(p) for p in re.findall(r'<p class="verdict[^"]*"[^>]*>.*?</p>', html, re.S)]


def field_error(html: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return html_lib.unescape(match.group(1)).strip() if match else None


def verify_upload(client, data: bytes | None, name: str = "证明.pdf", *, token: str | None = None):
    """POST /verify with a file, the CSRF token taken from the page as a browser would."""
    fields = {"csrf_token": token if token is not None else csrf_token(client, "/verify")}
    files = {"file": (data, name)} if data is not None else {}
    return post_multipart(client, "/verify", fields, **files)


CHINESE = re.compile(r"[\u3400-\u9fff]")  # Han characters
CHINESE_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff01-\uff5e]")  # 、。「」 and full-width ：（）…


def untranslated(fragment: str, *data: str, pattern: re.Pattern = CHINESE) -> list[str]:
    """Chinese left in the visible text of `fragment` once the given data values are taken out."""
    text = text_of(fragment)
    for value in data:
        text = text.replace(value, " ")
    return pattern.findall(text)
