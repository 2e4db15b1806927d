"""Certificates: an issuing archive A, holding archives B and C, an unrelated D; a request at A
for records held by A and B, walked to `approved` (both tasks verified with a copy)."""
from __future__ import annotations

import pytest

from portal.actions import act
from portal.requests.service import SearchSpec
from tests.review.conftest import HOLDING, ISSUING, OTHER_HOLDING, UNRELATED, archives  # noqa: F401 (fixture)


@pytest.fixture
def people(factory, archives):
    return {
        "applicant": factory.user(name="王秀英", email="wang@example.cn"),
        "other_citizen": factory.user(name="李四", email="li@example.cn"),
        "issuing_clerk": factory.user("clerk", archive=archives["issuing"], name="周明"),
        "issuing_reviewer": factory.user("reviewer", archive=archives["issuing"], name="吴芳",
                                         email="reviewer.a@example.cn"),
        "issuing_reviewer2": factory.user("reviewer", archive=archives["issuing"], name="黄丽",
                                          email="reviewer2.a@example.cn"),
        "holding_clerk": factory.user("clerk", archive=archives["holding"], name="郑强"),
        "holding_reviewer": factory.user("reviewer", archive=archives["holding"], name="冯丽"),
        "unrelated_reviewer": factory.user("reviewer", archive=archives["unrelated"], name="何平"),
        "admin": factory.user("admin", name="管理员"),
    }


@pytest.fixture
def approved(factory, archives, people):
    """An approved request at A for a record held by A and one held by B (both verified)."""
    def make(applicant=None):
        applicant = applicant or people["applicant"]
        records = [factory.record(archives["issuing"], subject_name=applicant.real_name, title="职工养老保险缴费记录"),
                   factory.record(archives["holding"], subject_name=applicant.real_name, title="结婚登记审查处理表")]
        return factory.request(applicant, issuing=archives["issuing"], records=records, status="approved")
    return make


@pytest.fixture
def not_found_request(factory, archives, people, session):
    """A "please search for me" request whose archives both answered not found, approved."""
    request = factory.request(people["applicant"], issuing=archives["issuing"], status="in_review",
                              search=SearchSpec(category="marriage", year_from=1980, year_to=1990,
                                                archives=[HOLDING, OTHER_HOLDING]))
    for task in request.tasks:
        clerk = factory.staff(task.holding_archive, "clerk")
        act(session, task, "not_found", clerk, {"note": "已查 1980—1990 年婚姻登记档案，未找到"})
    act(session, request, "approve", people["issuing_reviewer"])
    return request


@pytest.fixture
def issued(approved, people, session):
    request = approved()
    act(session, request, "issue", people["issuing_reviewer"])
    return request
