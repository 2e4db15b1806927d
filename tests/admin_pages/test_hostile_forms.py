"""Every form of the administration posted empty, or with nonsense in each field: a clear answer
(4xx), never a 500."""
from __future__ import annotations

import pytest

from tests.admin_pages.staff_world import post, sign_in, world  # noqa: F401 (fixture)

NONSENSE = {"role": "\u202eadmin", "name": "\x00", "email": "a@b", "phone": "１３８", "code": "../x",
            "region": "r" * 10000, "task_due_working_days": "-0", "id_number": "４５１２" * 10, "account": "-1",
            "citizen": "1e3", "key": "k" * 5000, "kind": "records", "records": "/\n/\n" * 1000,
            "version": "99999999999",
            "decision": "open", "items": "-5", "scope": "category", "category": "<b>", "review_on": "2023-02-30",
            "year_from": "١٩٨٠", "year_to": "0", "release": "1", "note": "x" * 100000, "q": "%_\\"}


@pytest.mark.parametrize("who, paths", [
    ("archive_admin", ["staff/invite", "staff/{clerk}/role", "staff/{clerk}/disable", "staff/{clerk}/enable",
                       "staff/{clerk}/resend", "archive", "archive/seal", "copies/zip", "records/999999999/copies",
                       "appraisal/new", "appraisal/1/decide", "appraisal/1/appraise_first", "appraisal/1/cancel"]),
    ("clerk", ["counter/lookup", "counter/citizen", "counter/submit", "counter/requests/X-1/accept",
               "counter/requests/X-1/verify", "copies/zip"]),
])
@pytest.mark.parametrize("data", [{}, NONSENSE], ids=["empty", "nonsense"])
def test_no_form_answers_500(client, world, who, paths, data):
    sign_in(client, world.people[who])
    for path in paths:
        url = f"/admin/{world.a.code}/" + path.format(clerk=world.people["clerk"].id)
        response = post(client, url, data)
        assert response.status_code < 500, (url, response.status_code)
