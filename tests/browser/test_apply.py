"""Applying in a real browser: the demo citizen finds their records, puts two in the basket,
applies with an upload, follows the request, and sees the archive's step arrive by itself."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.actions import act
from portal.db import db
from portal.requests.models import UtilizationRequest
from tests.files import png_bytes

pytestmark = pytest.mark.browser


def _log_in(page, server):
    page.goto(server["url"] + "/login")
    page.get_by_label("电子邮箱").fill(server["citizen_email"])
    page.get_by_label("密码").fill(server["password"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(server["url"] + "/")


def test_citizen_applies_for_two_of_their_records_with_an_upload(live_server, page, console, tmp_path):
    _log_in(page, live_server)
    page.get_by_role("link", name="我的档案").click()
    page.wait_for_url("**/me/records")
    rows = page.locator("table.table tbody tr")
    assert rows.count() >= 2
    titles = [rows.nth(i).locator("td a").first.inner_text() for i in range(2)]
    page.evaluate("window.__sameDocument = true")
    for i in range(2):
        rows.nth(i).get_by_role("button", name="加入申请清单").click()
        rows.nth(i).get_by_text("已加入申请清单").wait_for()
    assert page.evaluate("window.__sameDocument") is True, "adding to the basket must not reload the page"
    assert page.locator("#basket-count").inner_text() == "2"

    page.get_by_role("navigation").get_by_role("link", name=re.compile("申请清单")).click()
    page.wait_for_url("**/apply")
    basket = page.locator("ul.basket")
    for title in titles:
        assert basket.get_by_text(title).is_visible()

    # Choosing a relation brings in the fields it needs (htmx), and choosing another takes them away.
    page.get_by_label("继承人").check()
    page.get_by_label("死亡证明").wait_for()
    assert page.get_by_label("档案当事人姓名").is_visible()
    page.get_by_label("本人", exact=True).check()
    page.get_by_text("为本人申请无需证明材料").wait_for()
    assert page.get_by_label("死亡证明").count() == 0

    proof = tmp_path / "户口簿.png"
    proof.write_bytes(png_bytes())
    page.get_by_label("其他材料").set_input_files(str(proof))
    page.get_by_label("利用目的", exact=True).select_option(label="办理养老保险或退休")
    page.get_by_label(re.compile("^出证档案馆")).select_option(label="南宁市档案馆")
    page.get_by_label("网上下载电子证明").check()
    page.get_by_label(re.compile("我同意档案馆为办理本申请处理")).check()
    page.screenshot(path=str(tmp_path / "apply.png"), full_page=True)
    page.get_by_role("button", name="提交申请").click()

    page.wait_for_url(re.compile(r"/requests/450100-\d{4}-\d{6}$"))
    number = page.url.rsplit("/", 1)[1]
    assert number in page.locator(".flash").inner_text()
    assert page.locator(".status-panel .badge").inner_text() == "已提交"
    for title in titles:
        assert page.get_by_text(title).is_visible()
    assert page.get_by_role("link", name="户口簿.png").is_visible()
    page.screenshot(path=str(tmp_path / "request.png"), full_page=True)

    page.get_by_role("link", name="我的申请").first.click()
    page.wait_for_url("**/requests")
    row = page.locator("table.table tbody tr", has_text=number)
    assert row.locator(".badge").inner_text() == "已提交"
    assert re.search(r"\d{4}-\d{2}-\d{2}", row.inner_text()), "the promised completion date is shown"
    assert console.problems == []

    # The archive accepts; the open request page notices by itself.
    page.get_by_role("link", name=number).click()
    page.wait_for_url("**/requests/" + number)
    app = live_server["app"]
    with app.app_context():
        request = db.session.scalar(select(UtilizationRequest).where(UtilizationRequest.number == number))
        clerk = db.session.scalar(select(User).where(User.email == "clerk.450100@demo.cn"))
        act(db.session, request, "accept", clerk)
    page.locator(".status-panel .badge", has_text="审核中").wait_for(timeout=10_000)
    assert page.locator(".timeline").get_by_text("受理").is_visible()

    # Withdrawing asks for confirmation first.
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_label("说明").fill("已在其他渠道办理")
    page.get_by_role("button", name="撤回申请").click()
    page.locator(".status-panel .badge", has_text="已撤回").wait_for()
    assert questions and "撤回" in questions[0]
    assert page.get_by_text("已在其他渠道办理").is_visible()
    assert page.get_by_role("button", name="撤回申请").count() == 0
    assert console.problems == []
