"""A person signed in, in a browser context of their own (so several people can work at once), and
the citizen's first step of the cross-archive journey."""
from __future__ import annotations

import re


def signed_in(browser, server, email, password: str | None = None):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(server["url"] + "/login")
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label("密码").fill(password or server["password"])
    page.get_by_role("button", name="登录").click()
    # Citizens land on the home page, staff on their queue.
    page.wait_for_url(lambda url: url.startswith(server["url"]) and "/login" not in url)
    return context, page


def apply_for_two_records_held_elsewhere(browser, server, issuing: str, contexts: list):
    """The demo citizen applies at the archive named `issuing` for two of her records held by two
    other archives: the request number, {holding archive's name: record title} and her page, on
    the request. Her browser context is added to `contexts` (the caller closes them)."""
    context, citizen = signed_in(browser, server, server["citizen_email"])
    contexts.append(context)
    citizen.goto(server["url"] + "/me/records")
    rows = citizen.locator("table.table tbody tr")
    chosen: dict[str, str] = {}
    for i in range(rows.count()):
        archive = rows.nth(i).locator("td").nth(1).inner_text()
        if archive != issuing and archive not in chosen and len(chosen) < 2:
            chosen[archive] = rows.nth(i).locator("td a").first.inner_text()
            rows.nth(i).get_by_role("button", name="加入申请清单").click()
            rows.nth(i).get_by_text("已加入申请清单").wait_for()
    assert len(chosen) == 2
    citizen.goto(server["url"] + "/apply")
    citizen.get_by_label("本人", exact=True).check()
    citizen.get_by_label("利用目的", exact=True).select_option(label="办理养老保险或退休")
    citizen.get_by_label(re.compile("^出证档案馆")).select_option(label=issuing)
    citizen.get_by_label(re.compile("我同意档案馆为办理本申请处理")).check()
    citizen.get_by_role("button", name="提交申请").click()
    citizen.wait_for_url(re.compile(r"/requests/\d{6}-\d{4}-\d{6}$"))
    return citizen.url.rsplit("/", 1)[1], chosen, citizen
