"""Open appraisal in real browsers: the archive's manager makes a batch from the proposal, two
reviewers take the first and second reviews, the manager decides; the records are then in the
public open catalogue (names masked) and in public search. Three people, three browser contexts."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.accounts.service import create_user
from portal.archives.models import Archive
from portal.catalog.indexing import get_index, sync_outbox
from portal.catalog.models import Record
from portal.db import db
from tests.browser.signing_in import signed_in
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def old_records(live_server):
    """Two closed records of 河池市档案馆 formed in 1901, and a second reviewer there."""
    with live_server["app"].app_context():
        hechi = db.session.scalar(select(Archive).where(Archive.code == "451200"))
        for i in range(2):
            db.session.add(Record(archive=hechi, reference_code=f"Q-1901-{i}", category="forest_rights",
                                  title=f"蓝桂芳山林执照存根 {i}", subject_name="蓝桂芳", event_year=1901,
                                  access_level="closed"))
        db.session.commit()
        create_user(db.session, role="reviewer", email="reviewer2.451200@demo.cn", password=live_server["password"],
                    name="黄复审", archive_code="451200")
    return "蓝桂芳山林执照存根"


def _bulk(page, decision: str) -> None:
    form = page.locator("#bulk-form")
    form.get_by_label("本批次全部档案").check()
    form.get_by_label("鉴定意见").select_option(label=decision)
    form.get_by_role("button", name="作出意见").click()
    page.get_by_text("已对 2 条档案作出意见。").wait_for()


def test_three_people_take_a_batch_to_the_open_catalogue(live_server, browser, old_records):
    url = live_server["url"]
    contexts = []
    try:
        context, manager = signed_in(browser, live_server, "manager.451200@demo.cn")
        contexts.append(context)
        manager.goto(url + "/admin/")
        manager.get_by_role("link", name="开放鉴定").first.click()
        manager.get_by_role("link", name="新建鉴定批次").click()
        manager.get_by_label("起始年份").fill("1901")
        manager.get_by_label("结束年份").fill("1901")
        manager.get_by_role("button", name="预览").click()
        manager.get_by_text("到期待鉴定的档案：2 条").wait_for()
        assert violations(manager) == []
        manager.get_by_role("button", name="按此范围建立鉴定批次").click()
        manager.wait_for_url(re.compile(r"/admin/451200/appraisal/\d+$"))
        batch_page = manager.url
        assert manager.locator(".appraisal-items tbody tr").count() == 2
        assert violations(manager) == []

        context, first = signed_in(browser, live_server, "reviewer.451200@demo.cn")
        contexts.append(context)
        first.goto(batch_page)
        _bulk(first, "开放")
        first.get_by_role("button", name="完成初审").click()
        first.get_by_text("复审中").first.wait_for()
        first.get_by_text("您已进行本批次的初审，复审须由另一人进行。").wait_for()  # and nothing to take it with
        assert first.locator("#bulk-form").count() == 0
        assert first.get_by_role("button", name="完成复审").count() == 0

        context, second = signed_in(browser, live_server, "reviewer2.451200@demo.cn")
        contexts.append(context)
        second.goto(batch_page)
        _bulk(second, "同意上一阶段的意见")
        second.get_by_role("button", name="完成复审").click()
        second.get_by_text("审定中").first.wait_for()

        manager.goto(batch_page)
        _bulk(manager, "同意上一阶段的意见")
        manager.get_by_role("button", name="审定并公布").click()
        manager.get_by_text("已审定：2 条档案已开放，并已列入开放目录。").wait_for()
        manager.get_by_role("link", name="开放目录").last.click()

        public = browser.new_context(locale="zh-CN")
        contexts.append(public)
        visitor = public.new_page()
        visitor.goto(manager.url)
        rows = visitor.locator(".open-catalogue-records tbody tr")
        assert rows.count() == 2
        assert "蓝*芳山林执照存根 0" in rows.first.inner_text() and "蓝桂芳" not in visitor.content()
        assert violations(visitor) == []
        with live_server["app"].app_context():
            sync_outbox(db.session, get_index())
        visitor.goto(url + "/search?q=山林执照存根")
        visitor.get_by_text("蓝*芳山林执照存根 1").first.wait_for()
    finally:
        for context in contexts:
            context.close()
