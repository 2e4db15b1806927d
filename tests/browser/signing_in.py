"""A person signed in, in a browser context of their own (so several people can work at once)."""
from __future__ import annotations


def signed_in(browser, server, email, password: str | None = None):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(server["url"] + "/login")
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label("密码").fill(password or server["password"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(server["url"] + "/")
    return context, page
