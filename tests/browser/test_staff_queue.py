"""The staff queue in a real browser: it opens on the first tab with work, approved requests wait
in their own 待出证 tab, 出具证明 shows what the certificate will say before anything is signed
(with htmx and without JavaScript, once however often the button is pressed, and again after a
revocation, naming the certificate it replaces), and the English search field shows its placeholder whole."""
from __future__ import annotations

import re
from io import BytesIO

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.actions import act
from portal.catalog.demo_data import CITIZEN_EMAIL
from portal.catalog.service import records_of
from portal.certificates.models import Certificate
from portal.db import db
from portal.requests import service
from portal.requests.models import UtilizationRequest
from tests.browser.signing_in import signed_in
from tests.files import pdf_bytes

pytestmark = pytest.mark.browser

ISSUING = "451202"  # 河池市金城江区档案馆: issues for the demo citizen's records it holds itself
HOLDING = "450200"  # 柳州市档案馆: holds records of hers, and has no other work here
CROSS_ISSUING = "451200"  # 河池市档案馆: issues for a record 柳州 holds


def _staff(session, code: str, role: str) -> User:
    return session.scalar(select(User).where(User.email == f"{role}.{code}@demo.cn"))


def _request(server, issuing: str, holder: str, *, approve: bool = True) -> str:
    """The demo citizen's request at `issuing` for a record `holder` holds, accepted, and (`approve`)
    verified and approved; its number."""
    with server["app"].app_context():
        session = db.session
        citizen = session.scalar(select(User).where(User.email == CITIZEN_EMAIL))
        record = next(r for r in records_of(session, citizen) if r.archive.code == holder)
        req, _ = service.submit(session, citizen, service.Application(
            issuing_archive=issuing, records=[(holder, record.reference_code)], relation="self", purpose="pension",
            delivery="download", consent=True))
        act(session, req, "accept", _staff(session, issuing, "clerk"))
        if approve:
            act(session, req.tasks[0], "verify", _staff(session, holder, "clerk"),
                {"note": "与馆藏原件核对一致", "copy": service.Upload("certified_copy", "核实件.pdf", BytesIO(pdf_bytes()))})
            act(session, req, "approve", _staff(session, issuing, "reviewer"))
        return req.number


def _certificates(server, number: str) -> list[tuple[str, str]]:
    """(serial, status) of the request's certificates, oldest first."""
    with server["app"].app_context():
        return [tuple(row) for row in db.session.execute(
            select(Certificate.serial, Certificate.status).join(UtilizationRequest)
            .where(UtilizationRequest.number == number).order_by(Certificate.id)).all()]


def _record(server, number: str) -> tuple[str, str, str]:
    """(title, reference code, holding archive's name) of the request's record."""
    with server["app"].app_context():
        req = db.session.scalar(select(UtilizationRequest).where(UtilizationRequest.number == number))
        record = req.items[0].record
        return record.title, record.reference_code, record.archive.name


def _current_tab(page) -> str:
    return page.locator("#queue-counts a[aria-current=page]").inner_text()


def _count(page, tab: str) -> int:
    return int(page.locator(f'#queue-counts .count-badge[data-tab="{tab}"]').inner_text())


# ---- 1. the first tab with work -----------------------------------------------------------------------

def test_a_holding_archives_clerk_whose_only_work_is_a_verification_lands_on_the_tasks_tab(live_server, browser):
    number = _request(live_server, CROSS_ISSUING, HOLDING, approve=False)
    context, page = signed_in(browser, live_server, f"clerk.{HOLDING}@demo.cn")
    try:
        page.goto(live_server["url"] + "/staff/queue")
        assert _current_tab(page).startswith("协办任务")
        assert page.locator("#queue table").get_by_role("link", name=number).is_visible()
        # A tab chosen is kept, though it is empty.
        page.goto(live_server["url"] + "/staff/queue?tab=to_accept")
        assert _current_tab(page).startswith("待受理")
        assert page.locator(".empty-queue").is_visible()
    finally:
        context.close()


# ---- 2. 待出证 -------------------------------------------------------------------------------------------

def test_approved_requests_wait_in_the_to_issue_tab_and_leave_it_when_issued(live_server, browser):
    number = _request(live_server, ISSUING, ISSUING)
    context, page = signed_in(browser, live_server, f"reviewer.{ISSUING}@demo.cn")
    try:
        page.goto(live_server["url"] + "/staff/queue?tab=done")
        tabs = page.locator("#queue-counts a").all_inner_texts()
        labels = [re.sub(r"\s*\d+$", "", t.strip()) for t in tabs]
        assert labels.index("待出证") == labels.index("待审批") + 1 and labels.index("已办结") == labels.index("待出证") + 1
        assert page.locator("#queue table").get_by_role("link", name=number).count() == 0  # not "done" yet
        waiting = _count(page, "to_issue")
        done = _count(page, "done")
        assert waiting >= 1

        page.locator("#queue-counts").get_by_role("link", name=re.compile("待出证")).click()
        page.wait_for_url(re.compile(r"tab=to_issue"))
        page.get_by_role("link", name=number).click()
        page.wait_for_url(re.compile(rf"/staff/requests/{number}$"))
        page.get_by_role("button", name="出具证明").click()
        page.get_by_role("button", name="确认出具并签名").click()
        page.locator(".certificate-panel .serial").wait_for()
        # The counts on the page follow at once (out of band), then the queue agrees.
        assert _count(page, "to_issue") == waiting - 1 and _count(page, "done") == done + 1
        page.locator("#queue-counts").get_by_role("link", name=re.compile("已办结")).click()
        page.wait_for_url(re.compile(r"tab=done"))
        assert page.locator("#queue table").get_by_role("link", name=number).is_visible()

        page.goto(live_server["url"] + "/staff/queue?tab=to_issue&lang=en")
        assert _current_tab(page).startswith("To issue")
    finally:
        context.close()


def test_another_archives_reviewer_never_sees_the_to_issue_request(live_server, browser):
    number = _request(live_server, ISSUING, ISSUING)
    context, page = signed_in(browser, live_server, f"reviewer.{CROSS_ISSUING}@demo.cn")
    try:
        page.goto(live_server["url"] + "/staff/queue?tab=to_issue")
        assert page.get_by_role("link", name=number).count() == 0
        assert _count(page, "to_issue") == 0
    finally:
        context.close()


def test_a_clerk_opening_a_request_to_issue_is_told_a_reviewer_issues_it(live_server, browser):
    number = _request(live_server, ISSUING, ISSUING)
    context, page = signed_in(browser, live_server, f"clerk.{ISSUING}@demo.cn")
    try:
        page.goto(live_server["url"] + f"/staff/requests/{number}")
        assert "审核员出具证明" in page.locator("#issue-by-reviewer").inner_text()
        assert page.get_by_role("button", name="出具证明").count() == 0
    finally:
        context.close()


# ---- 3. a preview before signing ---------------------------------------------------------------------

def test_issuing_shows_what_the_certificate_will_say_and_signs_only_once_confirmed(live_server, browser):
    number = _request(live_server, ISSUING, ISSUING)
    title, reference_code, holder = _record(live_server, number)
    context, page = signed_in(browser, live_server, f"reviewer.{ISSUING}@demo.cn")
    try:
        page.goto(live_server["url"] + f"/staff/requests/{number}")
        page.get_by_label("说明（选填）").fill("已核对")
        page.get_by_role("button", name="出具证明").click()
        preview = page.locator(".certificate-preview")
        preview.wait_for()
        text = preview.inner_text()
        name = live_server["citizen_name"]
        for expected in ("档案查询结果证明", title, reference_code, holder, name, "河池市金城江区档案馆", "演示印章"):
            assert expected in text, expected
        masked = page.locator(".preview-subject-id").inner_text()
        assert re.fullmatch(r"\d{6}\*{8}\w{4}", masked), masked
        assert page.get_by_label("说明（选填）").input_value() == "已核对"  # what was typed is kept
        assert _certificates(live_server, number) == []  # nothing signed yet

        page.get_by_role("button", name="确认出具并签名").dblclick()
        page.locator(".certificate-panel .serial").wait_for()
        [(serial, status)] = _certificates(live_server, number)  # one, however often it was pressed
        assert status == "valid" and page.locator(".certificate-panel .serial").inner_text() == serial
    finally:
        context.close()


def test_without_javascript_the_preview_is_a_page_and_confirming_issues(live_server, browser):
    number = _request(live_server, ISSUING, ISSUING)
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(live_server["url"] + "/login")
        page.get_by_label("电子邮箱").fill(f"reviewer.{ISSUING}@demo.cn")
        page.get_by_label("密码").fill(live_server["password"])
        page.get_by_role("button", name="登录").click()
        page.goto(live_server["url"] + f"/staff/requests/{number}")
        page.get_by_role("button", name="出具证明").click()
        assert page.get_by_role("heading", name=re.compile("确认出具证明")).is_visible()
        assert "档案查询结果证明" in page.locator(".certificate-preview").inner_text()
        assert _certificates(live_server, number) == []
        page.get_by_role("button", name="确认出具并签名").click()
        page.wait_for_url(re.compile(rf"/staff/requests/{number}$"))
        [(serial, _)] = _certificates(live_server, number)
        assert page.locator(".certificate-panel .serial").inner_text() == serial
    finally:
        context.close()


def test_after_a_revocation_a_new_certificate_can_be_issued_and_says_which_it_replaces(live_server, browser):
    number = _request(live_server, ISSUING, ISSUING)
    context, page = signed_in(browser, live_server, f"reviewer.{ISSUING}@demo.cn")
    try:
        page.goto(live_server["url"] + f"/staff/requests/{number}")
        page.get_by_role("button", name="出具证明").click()
        page.get_by_role("button", name="确认出具并签名").click()
        first = page.locator(".certificate-panel .serial")
        first.wait_for()
        old = first.inner_text()

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_label("撤销原因").fill("当事人姓名有误")
        page.get_by_role("button", name="撤销证明").click()
        page.locator(".certificate-panel .badge", has_text="已撤销").wait_for()
        assert f"这份证明将替代已撤销的证明 {old}" in page.locator(".staff-actions").inner_text()

        page.get_by_role("button", name="出具证明").click()
        page.locator(".certificate-preview").wait_for()
        assert f"这份证明将替代已撤销的证明 {old}" in page.locator(".replaces-certificate").inner_text()
        page.get_by_role("button", name="确认出具并签名").click()
        page.locator(".certificate-panel .badge", has_text="有效").wait_for()
        new = page.locator(".certificate-panel .serial").inner_text()
        assert new != old
        assert old in page.locator(".certificate-panel .replaces-certificate").inner_text()
        assert _certificates(live_server, number) == [(old, "revoked"), (new, "valid")]
        assert page.get_by_role("button", name="出具证明").count() == 0  # the new one stands
    finally:
        context.close()


# ---- 4. the search field in English ------------------------------------------------------------------

PLACEHOLDER_FITS = """input => {
    const style = getComputedStyle(input);
    const context = document.createElement("canvas").getContext("2d");
    context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return [context.measureText(input.placeholder).width, room, input.scrollWidth <= input.clientWidth];
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_queue_search_fields_placeholder_is_shown_whole(live_server, browser, lang):
    context, page = signed_in(browser, live_server, f"clerk.{ISSUING}@demo.cn")
    try:
        page.goto(live_server["url"] + f"/staff/queue?lang={lang}")
        field = page.locator(".queue-filters input[name=find]")
        text_width, room, no_scroll = field.evaluate(PLACEHOLDER_FITS)
        assert field.get_attribute("placeholder") == ("Request number or name" if lang == "en" else "申请编号或姓名")
        assert no_scroll and text_width <= room, (text_width, room)
    finally:
        context.close()
