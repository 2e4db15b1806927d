"""The network admin creates an archive and invites its administrator; she sets her password from
the email and invites a clerk; the clerk sets his from the email and lands on his queue; disabled,
he is signed out at his next click. The
pages on the way have no serious accessibility violation (axe)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.db import db
from portal.mail.models import MailOutbox
from tests.browser.signing_in import signed_in
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser

CODE = "451281"


def _link_to(server, address: str) -> str:
    with server["app"].app_context():
        body = db.session.scalars(select(MailOutbox.body).where(MailOutbox.to_address == address)
                                  .order_by(MailOutbox.id.desc())).first()
    assert body, f"no email to {address}"
    link = re.search(r"https?://\S+/welcome/\S+", body).group(0)
    assert link.startswith(server["url"])  # PUBLIC_URL, as configured
    return link


def _invite(page, name: str, email: str, role: str) -> None:
    page.get_by_role("link", name="邀请工作人员").click()
    page.get_by_label("真实姓名").fill(name)
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label("角色").select_option(label=role)
    page.get_by_role("button", name="发送邀请").click()
    page.get_by_text(f"已向 {email} 发送邀请邮件").wait_for()


def _accept(browser, link: str, password: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(link)
    page.get_by_label("新密码", exact=True).fill(password)
    page.get_by_label("再次输入新密码").fill(password)
    page.get_by_role("button", name="设置密码并登录").click()
    return context, page


def test_an_archive_and_its_staff_are_set_up_in_the_browser(live_server, browser):
    url = live_server["url"]
    contexts = []
    try:
        context, admin = signed_in(browser, live_server, "admin@demo.cn")
        contexts.append(context)
        admin.goto(url + "/admin/")
        admin.get_by_role("link", name="新建档案馆").click()
        admin.get_by_role("button", name="新建档案馆").click()  # empty: every problem at once
        assert admin.locator("p.error").count() >= 3
        admin.get_by_label("档案馆代码").fill(CODE)
        admin.get_by_label("档案馆名称").fill("南丹县档案馆")
        admin.get_by_label("所在地区").fill("河池市")
        admin.get_by_label("联系电话").fill("0778-7212345")
        admin.get_by_label("协办时限（工作日）").fill("5")
        assert violations(admin) == []
        admin.get_by_role("button", name="新建档案馆").click()
        admin.wait_for_url(f"{url}/admin/{CODE}/staff")
        _invite(admin, "莫丽华", "manager.451281@example.cn", "档案馆管理员")
        assert violations(admin) == []

        context, manager = _accept(browser, _link_to(live_server, "manager.451281@example.cn"), "Nandan2031x")
        contexts.append(context)
        manager.wait_for_url(f"{url}/admin/")
        manager.get_by_role("link", name="工作人员").click()
        _invite(manager, "韦志刚", "clerk.451281@example.cn", "查档接待员")
        assert "已邀请，未设置密码" in manager.locator("table.staff-table").inner_text()

        context, clerk = _accept(browser, _link_to(live_server, "clerk.451281@example.cn"), "Chadang2031y")
        contexts.append(context)
        clerk.wait_for_url(f"{url}/staff/queue")
        manager.reload()
        row = manager.locator("table.staff-table tr", has_text="韦志刚")
        assert "正常" in row.inner_text()
        assert violations(manager) == []

        # He leaves: disabled, his open page is signed out at his next click.
        row.get_by_role("button", name="停用").click()
        manager.get_by_text("已停用韦志刚的账号").wait_for()
        clerk.reload()
        assert "/login" in clerk.url
    finally:
        for context in contexts:
            context.close()
