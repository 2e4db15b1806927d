"""Real status codes reach the page: htmx is told (base.html's responseHandling) to swap a 409 or a
422 answer, so a clerk whose page is stale, or who left out a required field, reads why in place,
in a real browser, with the address and the rest of the page untouched."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import db
from portal.accounts.models import User
from portal.requests import service
from tests.browser.signing_in import signed_in

pytestmark = pytest.mark.browser


def _waiting_request(server) -> tuple[str, str]:
    """A request of the demo citizen for her open record, waiting to be accepted where it is held:
    its number and that archive's code."""
    _, _, code, reference = server["open_record"].split("/")
    with server["app"].app_context():
        citizen = db.session.scalar(select(User).where(User.email == server["citizen_email"]))
        req, _created = service.submit(db.session, citizen, service.Application(
            relation="self", purpose="pension", issuing_archive=code, delivery="download", consent=True,
            records=[(code, reference)]), [])
        return req.number, code


def test_a_stale_page_shows_who_acted_first_and_a_missing_note_shows_next_to_its_field(browser, live_server):
    number, code = _waiting_request(live_server)
    url = f"{live_server['url']}/staff/requests/{number}"
    context, first = signed_in(browser, live_server, f"clerk.{code}@demo.cn")
    try:
        second = context.new_page()
        second.set_default_timeout(10_000)
        statuses: list[int] = []
        second.on("response", lambda r: "/staff/requests/" in r.url and r.request.method == "POST"
                  and statuses.append(r.status))
        first.goto(url)
        second.goto(url)  # the same clerk in a second tab, before anyone acts
        first.get_by_role("button", name="受理", exact=True).click()
        first.get_by_text("已受理，核实任务已发给保存档案的档案馆。").wait_for()

        second.get_by_role("button", name="受理", exact=True).click()  # stale: the request has moved on
        conflict = second.locator(".conflict")
        conflict.wait_for()
        assert "申请当前状态为" in conflict.inner_text() or "已有新的办理进展" in conflict.inner_text()
        assert "受理" in conflict.inner_text()
        assert statuses == [409] and second.url == url  # swapped in place, no navigation

        # Now in review: asking for more without saying what is refused next to the note (422).
        second.reload()
        second.get_by_role("button", name="要求补充材料").click()
        second.locator("#ask_supplement-note-error").wait_for()
        assert second.locator("#ask_supplement-note-error").inner_text() == "请填写说明"
        assert statuses == [409, 422]
    finally:
        context.close()
