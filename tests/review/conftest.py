"""Shared people and places for the staff-side tests: an issuing archive A, two holding archives B
and C, an unrelated archive D, and one person in each role that matters."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin

from portal.requests.service import Upload
from tests import files

ISSUING, HOLDING, OTHER_HOLDING, UNRELATED = "451200", "450100", "450200", "450300"


@pytest.fixture
def archives(factory):
    return {"issuing": factory.archive(code=ISSUING, name="河池市档案馆"),
            "holding": factory.archive(code=HOLDING, name="南宁市档案馆", region="南宁市"),
            "other_holding": factory.archive(code=OTHER_HOLDING, name="柳州市档案馆", region="柳州市"),
            "unrelated": factory.archive(code=UNRELATED, name="桂林市档案馆", region="桂林市")}


@pytest.fixture
def people(factory, archives):
    """Made before any request, so that Factory.staff (which walks requests and verifies tasks)
    picks exactly these clerks and reviewers."""
    return {
        "applicant": factory.user(name="王秀英", email="wang@example.cn"),
        "other_citizen": factory.user(name="王秀英"),
        "issuing_clerk": factory.user("clerk", archive=archives["issuing"], name="周明"),
        "issuing_clerk2": factory.user("clerk", archive=archives["issuing"], name="赵小红"),
        "issuing_reviewer": factory.user("reviewer", archive=archives["issuing"], name="吴芳"),
        "holding_clerk": factory.user("clerk", archive=archives["holding"], name="郑强"),
        "holding_clerk2": factory.user("clerk", archive=archives["holding"], name="钱多多"),
        "holding_reviewer": factory.user("reviewer", archive=archives["holding"], name="冯丽"),
        "other_holding_clerk": factory.user("clerk", archive=archives["other_holding"], name="陈静"),
        "unrelated_clerk": factory.user("clerk", archive=archives["unrelated"], name="孙磊"),
        "unrelated_reviewer": factory.user("reviewer", archive=archives["unrelated"], name="何平"),
        "admin": factory.user("admin", name="管理员"),
    }


def person(people, who):
    """A person by role name; two kinds of anonymous visitor: no user at all, and Flask-Login's."""
    if who == "anonymous":
        return None
    if who == "anonymous_session":
        return AnonymousUserMixin()
    return people[who]


def certified_copy(data: bytes | None = None, name: str = "核实件.pdf") -> Upload:
    return Upload("certified_copy", name, BytesIO(files.pdf_bytes() if data is None else data))


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def cross(factory, archives, people):
    """Make a request at the issuing archive for records in the issuing archive and both holding
    archives, walked to `status` (default in_review: accepted, three open tasks)."""
    def make(status: str = "in_review", applicant=None):
        applicant = applicant or people["applicant"]
        records = [factory.record(archives[key], subject_name=applicant.real_name)
                   for key in ("issuing", "holding", "other_holding")]
        return factory.request(applicant, issuing=archives["issuing"], records=records, status=status)
    return make
