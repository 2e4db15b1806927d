"""No answer depends on a secret the asker does not hold (issue 11, section 2).

The attack: POST /api/v1/requests naming a record's subject with a guessed ID number answered
"the subject differs from the one you named" when the guess was wrong, so a full ID number fell
out in about 60 tries. Now the applicant's answer depends only on what they can see (the masked
name); the clerk sees at acceptance whether the named person matches the record."""
from __future__ import annotations

import json

import pytest

from tests.api.test_requests_api import apply, bearer, pdf, token
from tests.factories import PASSWORD, make_id_number
from tests.helpers import login

MOTHER_NAME, MOTHER_ID = "黄桂兰", make_id_number(region="452701", born="19300517", seq=81)
# Wrong guesses with valid check characters: the same birth date, other sequence numbers.
GUESSES = [make_id_number(region="452701", born="19300517", seq=n) for n in (80, 82, 83)]


@pytest.fixture
def setting(factory):
    archive = factory.archive(code="451200", name="河池市档案馆")
    clerk = factory.user("clerk", archive=archive, email="clerk@example.cn", name="李接待")
    applicant = factory.user(email="wang@example.cn", name="王秀英")
    record = factory.record(archive, reference_code="J003-1958-0042", subject_name=MOTHER_NAME,
                            subject_id_number=MOTHER_ID, category="land_contract", title="土地承包合同")
    return applicant, clerk, record


def _doc(id_number: str) -> dict:
    return {"records": [{"archive_code": "451200", "reference_code": "J003-1958-0042"}],
            "subject": {"name": MOTHER_NAME, "id_number": id_number}, "relation": "relative",
            "purpose": "inheritance", "issuing_archive": "451200", "delivery": "download", "consent": True}


def _shape(response) -> tuple:
    body = response.get_json()
    return response.status_code, sorted(body), body.get("status"), body.get("error")


def test_a_wrong_id_number_is_answered_exactly_as_the_right_one(client, setting):
    applicant, clerk, _record = setting
    tok = token(client, applicant)
    right = apply(client, tok, _doc(MOTHER_ID), {"relationship_proof": pdf()})
    wrong = [apply(client, tok, _doc(guess), {"relationship_proof": pdf()}) for guess in GUESSES]
    assert right.status_code == 201, right.get_json()
    assert all(_shape(answer) == _shape(right) for answer in wrong), [a.get_json() for a in wrong]
    # Nor does the applicant's own view of the request say which it was.
    views = [client.get(f"/api/v1/requests/{a.get_json()['number']}", headers=bearer(tok)).get_json()
             for a in [right, *wrong]]
    assert len({json.dumps({k: v for k, v in view.items() if k in ("status", "records", "timeline")},
                           sort_keys=True, ensure_ascii=False) for view in views}) == 1

    # The clerk sees it at acceptance.
    login(client, clerk.email, PASSWORD)
    checks = [client.get(f"/staff/requests/{a.get_json()['number']}").get_data(as_text=True)
              for a in [right, *wrong]]
    assert 'data-check="match"' in checks[0] and 'data-check="no_match"' not in checks[0]
    assert all('data-check="no_match"' in page for page in checks[1:])


def test_a_record_whose_masked_name_differs_is_refused_on_what_the_applicant_sees(client, setting):
    applicant, _clerk, _record = setting
    doc = {**_doc(MOTHER_ID), "subject": {"name": "黄大山", "id_number": MOTHER_ID}}  # 黄*山 ≠ 黄*兰
    answer = apply(client, token(client, applicant), doc, {"relationship_proof": pdf()})
    assert answer.status_code == 400
    assert "当事人与您填写的当事人不一致" in json.dumps(answer.get_json(), ensure_ascii=False)


def test_a_record_without_an_id_number_asks_the_clerk_to_compare_names(client, factory, setting):
    applicant, clerk, record = setting
    old = factory.record(record.archive, reference_code="J003-1958-0043", subject_name=MOTHER_NAME,
                         category="land_contract", title="土地承包合同（副本）")
    doc = {**_doc(MOTHER_ID), "records": [{"archive_code": "451200", "reference_code": old.reference_code}]}
    answer = apply(client, token(client, applicant), doc, {"relationship_proof": pdf()})
    assert answer.status_code == 201
    login(client, clerk.email, PASSWORD)
    page = client.get(f"/staff/requests/{answer.get_json()['number']}").get_data(as_text=True)
    assert 'data-check="no_id"' in page and "档案未载身份证号码，请核对姓名" in page
