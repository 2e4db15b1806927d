"""Whatever is typed into any form or address, the answer is never a server error (issue 11, §4).

Hypothesis writes the input: known field names with any text (lone surrogates, control
characters, 10,000 characters), huge or fractional numbers, and unknown fields, sent as query
strings and as form posts to every page that reads them. The JSON API has its own property test
(tests/api/test_openapi_conformance.py, schemathesis over the OpenAPI document)."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import PASSWORD
from tests.helpers import hx_csrf_token, login

FIELDS = ["q", "page", "per_page", "archive", "category", "year_from", "year_to", "before", "after", "action",
          "actor", "tab", "serial", "code", "relation", "subject_name", "subject_id_number", "email", "password",
          "password2", "name", "id_number", "phone", "purpose", "issuing_archive", "delivery", "archive_code",
          "reference_code", "next", "kind", "lang", "version", "note"]

values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None, categories=("Cs", "Cc", "Lo", "Nd")), max_size=20),
    st.integers(min_value=-10**30, max_value=10**400).map(str),
    st.sampled_from(["1e400", "-1", "0", "NaN", "abc", "", " ", "\x00", "%", "１２", "x" * 10_000,
                     "2024-13-45", "451200", "J001-1985-0001", "王*英", "覃秀兰", "<script>"]),
)
inputs = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=10)), values, max_size=6)


def _encode(data: dict[str, str]) -> str:
    """A query string or form body, byte for byte: lone surrogates go as the bytes they would be."""
    def part(text: str) -> str:
        return quote(text.encode("utf-8", "surrogatepass"), safe="")
    return "&".join(f"{part(k)}={part(v)}" for k, v in data.items())


GET_PAGES = ["/", "/search", "/api/v1/search", "/verify", "/login", "/register", "/apply", "/requests", "/me/records",
             "/staff/queue", "/staff/identity", "/admin/audit", "/account", "/records/451200/J001-1985-0001"]
POST_FORMS = ["/login", "/register", "/apply", "/apply/fields", "/basket/add", "/basket/remove", "/verify",
              "/staff/identity", "/reauth"]

FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(params=["anonymous", "citizen", "clerk", "admin"])
def who(request, app, factory):
    archive = factory.archive(code="451200")
    factory.record(archive, reference_code="J001-1985-0001")
    client = app.test_client()
    if request.param != "anonymous":
        user = factory.user(request.param, email=f"{request.param}@example.cn",
                            archive=archive if request.param == "clerk" else None)
        login(client, user.email, PASSWORD)
    return client


@FAST
@given(data=inputs, page=st.sampled_from(GET_PAGES))
def test_any_query_string_gets_an_answer_not_a_server_error(who, data, page):
    response = who.get(f"{page}?{_encode(data)}")
    assert response.status_code < 500, (page, data, response.status_code)


@FAST
@given(data=inputs, form=st.sampled_from(POST_FORMS))
def test_any_form_post_gets_an_answer_not_a_server_error(who, data, form):
    body = _encode({**data, "csrf_token": hx_csrf_token(who, "/")})
    response = who.post(form, data=body.encode("ascii"), content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500, (form, data, response.status_code)
