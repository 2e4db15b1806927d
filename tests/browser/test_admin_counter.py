"""Counter intake in a real browser: a clerk registers a walk-in (a new, verified account) for a record
of their own archive, found through the catalog look-up; accepts and verifies at once; a reviewer
approves and issues; the certificate PDF downloads from the counter page. axe finds nothing serious."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.archives.models import Archive
from portal.db import db
from tests.browser.counter_steps import apply_at_counter, approve_and_issue, create_walk_in_account, print_certificate
from tests.browser.signing_in import signed_in
from tests.browser.test_accessibility import violations
from tests.factories import Factory, make_id_number
from tests.files import pdf_bytes

pytestmark = pytest.mark.browser

CODE = "451202"
WALK_IN = "蓝桂芳"
NUMBER = make_id_number(region="451202", born="19520808", seq=284)


def test_a_walk_in_is_registered_accepted_verified_and_issued_on_the_spot(live_server, browser, tmp_path):
    with live_server["app"].app_context():
        archive = db.session.scalar(select(Archive).where(Archive.code == CODE))
        record = Factory(db.session).record(archive, reference_code="J009-1978-0042", subject_name=WALK_IN,
                                            subject_id_number=NUMBER, title="招工登记表", category="employment")
        reference = record.reference_code
    url, contexts = live_server["url"], []
    try:
        context, clerk = signed_in(browser, live_server, f"clerk.{CODE}@demo.cn")
        contexts.append(context)
        clerk.get_by_role("link", name="现场接待").first.click()
        clerk.wait_for_url(re.compile(rf"/admin/{CODE}/counter$"))
        assert violations(clerk) == []

        # A wrong check digit: said next to the field, the number kept.
        wrong = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")
        clerk.get_by_label(re.compile("^身份证号码")).fill(wrong)
        clerk.get_by_role("button", name="查找").click()
        clerk.get_by_text("身份证号码校验位不正确").wait_for()
        assert clerk.get_by_label(re.compile("^身份证号码")).input_value() == wrong
        clerk.get_by_label(re.compile("^身份证号码")).fill(NUMBER)
        clerk.get_by_role("button", name="查找").click()
        clerk.get_by_text("没有这个身份证号码的账号").wait_for()
        assert NUMBER not in clerk.url

        create_walk_in_account(clerk, WALK_IN)
        assert violations(clerk) == []
        number = apply_at_counter(clerk, CODE, reference)
        clerk.get_by_text("查档接待员在查档大厅现场登记").wait_for()

        clerk.get_by_role("button", name="受理（已当面核对身份证）").click()
        clerk.get_by_role("button", name="核实并提交复制件").wait_for()
        copy = tmp_path / "copy.pdf"
        copy.write_bytes(pdf_bytes())
        clerk.get_by_label("档案复制件（PDF 或图片）").set_input_files(str(copy))
        clerk.get_by_role("button", name="核实并提交复制件").click()
        clerk.get_by_text("本馆已核实").wait_for()
        assert violations(clerk) == []

        context, reviewer = signed_in(browser, live_server, f"reviewer.{CODE}@demo.cn")
        contexts.append(context)
        reviewer.goto(f"{url}/staff/requests/{number}")
        approve_and_issue(reviewer)
        assert print_certificate(clerk).startswith(b"%PDF")
    finally:
        for context in contexts:
            context.close()
