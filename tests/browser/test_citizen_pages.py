"""The citizen's own pages in a real browser (issue 15): registration shows every problem at once,
staff land on their queue, "My records" says why old records are absent, the personal-information
notice is published, versioned and linked, and small files are not "0 KB"."""
from __future__ import annotations

import re
from io import BytesIO
from urllib.parse import quote

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.notice import NOTICE
from portal.db import db
from portal.requests import service
from tests.browser.signing_in import signed_in
from tests.factories import PASSWORD, Factory, make_id_number
from tests.files import png_bytes

pytestmark = pytest.mark.browser

GOOD_ID = make_id_number(region="110101", born="19900101", seq=321)
BAD_ID = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")


def _in_app(server, work):
    """Run `work(factory)` against the live server's database (people and requests the demo lacks)."""
    with server["app"].app_context():  # its session closes with the context
        return work(Factory(db.session))


def _fill_registration(page, *, name, id_number, email, phone, password, password2, consent):
    page.get_by_label("真实姓名").fill(name)
    page.get_by_label("居民身份证号码").fill(id_number)
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label(re.compile("^手机号码")).fill(phone)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_label("再次输入密码").fill(password2)
    page.get_by_label(re.compile("我已阅读并同意")).set_checked(consent)


# ---- 1. registration errors all at once -----------------------------------------------------------

def test_registration_shows_every_problem_at_once_next_to_its_field_keeping_what_was_typed(live_server, page):
    page.goto(live_server["url"] + "/register")
    _fill_registration(page, name="李小龙", id_number=BAD_ID, email="li.example.cn", phone="12345",
                       password="short1", password2="short2", consent=False)
    page.get_by_role("button", name="注册").click()
    page.locator("#register-errors").wait_for()
    # Keyboard and screen-reader users start on the summary of what to fix.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'register-errors'")

    expected = {"id_number": "身份证号码校验位不正确", "email": "请填写有效的电子邮箱",
                "phone": "请填写有效的手机号或固定电话", "password": "密码至少需要 10 位",
                "password2": "两次输入的密码不一致", "consent": "需要您同意个人信息处理说明才能注册"}
    for field, message in expected.items():
        control = page.locator(f"#{field}")
        assert control.get_attribute("aria-invalid") == "true", field
        described = control.get_attribute("aria-describedby")
        assert message in page.locator(f"#{described}").inner_text(), field
    assert page.locator("#name").get_attribute("aria-invalid") is None
    assert page.locator("#register-errors li").count() == len(expected)
    # What was typed stays; the passwords never come back.
    assert page.get_by_label("真实姓名").input_value() == "李小龙"
    assert page.get_by_label("居民身份证号码").input_value() == BAD_ID
    assert page.get_by_label("电子邮箱").input_value() == "li.example.cn"
    assert page.get_by_label(re.compile("^手机号码")).input_value() == "12345"
    assert page.get_by_label("密码", exact=True).input_value() == ""
    assert page.get_by_label("再次输入密码").input_value() == ""
    # The summary's links lead to the fields.
    page.locator("#register-errors a[href='#id_number']").click()
    assert page.evaluate("document.activeElement.id") == "id_number"


# ---- 2. staff land on their queue -------------------------------------------------------------------

@pytest.mark.parametrize("email", ["clerk.450100@demo.cn", "reviewer.450100@demo.cn", "admin@demo.cn"])
def test_staff_land_on_their_queue_after_login(live_server, browser, email):
    context, page = signed_in(browser, live_server, email)
    try:
        assert re.search(r"/staff/queue(\?.*)?$", page.url), page.url
        assert page.get_by_role("heading", level=1).is_visible()
    finally:
        context.close()


def test_staff_with_a_next_page_land_there_and_citizens_on_the_home_page(live_server, page):
    page.goto(live_server["url"] + "/login?next=" + live_server["open_record"])
    page.get_by_label("电子邮箱").fill("clerk.450100@demo.cn")
    page.get_by_label("密码").fill(live_server["password"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**" + live_server["open_record"])
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(live_server["url"] + "/")
    page.goto(live_server["url"] + "/login")
    page.get_by_label("电子邮箱").fill(live_server["citizen_email"])
    page.get_by_label("密码").fill(live_server["password"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(live_server["url"] + "/")


# ---- 3. "My records" says why a record may be absent ------------------------------------------------

def _says_why_and_offers_a_name_search(page, server, name):
    section = page.locator("#records-not-listed")
    assert "没有登记身份证号码" in section.inner_text()
    assert section.locator(".own-name").inner_text() == name
    link = section.get_by_role("link", name="前往档案检索")
    assert link.get_attribute("href") == "/search"
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
    assert not [h for h in hrefs if name in h or quote(name) in h], "the name must never be in a link"
    link.click()
    page.wait_for_url(server["url"] + "/search")


def test_my_records_says_old_records_are_not_matched_and_offers_a_name_search(live_server, browser):
    context, page = signed_in(browser, live_server, live_server["citizen_email"])
    try:
        page.goto(live_server["url"] + "/me/records")
        assert page.locator("table.table tbody tr").count() >= 1
        _says_why_and_offers_a_name_search(page, live_server, live_server["citizen_name"])
    finally:
        context.close()


def test_my_records_says_so_when_the_list_is_empty_too(live_server, browser):
    _in_app(live_server, lambda f: f.user(email="empty@example.cn", name="陆小明",
                                          id_number=make_id_number(region="110101", born="19800101", seq=5)))
    context, page = signed_in(browser, live_server, "empty@example.cn", PASSWORD)
    try:
        page.goto(live_server["url"] + "/me/records")
        assert page.locator(".empty").is_visible()
        _says_why_and_offers_a_name_search(page, live_server, "陆小明")
    finally:
        context.close()


# ---- 4. the personal-information notice ------------------------------------------------------------

def test_the_consent_line_and_the_footer_link_to_the_versioned_notice(live_server, page):
    page.goto(live_server["url"] + "/register")
    # One sentence that wraps, not a check box and three columns of text around the link.
    consent = page.locator("label.check").filter(has=page.locator("#privacy-notice-link"))
    assert consent.locator(":scope > *").count() == 2  # the check box and the sentence
    page.locator("label.check").get_by_role("link", name="《个人信息处理说明》").click()
    page.wait_for_url(live_server["url"] + "/privacy")
    assert page.get_by_role("heading", level=1).inner_text() == "个人信息处理说明"
    version = page.locator("#notice-version").inner_text()
    assert NOTICE.version in version and NOTICE.effective.isoformat() in version
    page.goto(live_server["url"] + "/")
    page.locator("footer").get_by_role("link", name="个人信息处理说明").click()
    page.wait_for_url(live_server["url"] + "/privacy")
    page.goto(live_server["url"] + "/privacy?lang=en")
    assert page.get_by_role("heading", level=1).inner_text() == "Personal Information Notice"
    assert f"Version {NOTICE.version}" in page.locator("#notice-version").inner_text()


def test_a_new_account_stores_the_notice_version_and_shows_it_on_the_data_page(live_server, browser, page):
    page.goto(live_server["url"] + "/register")
    _fill_registration(page, name="李小龙", id_number=GOOD_ID, email="consent@example.cn", phone="",
                       password="Dangan2024", password2="Dangan2024", consent=True)
    page.get_by_role("button", name="注册").click()
    page.get_by_text("请查收邮件").first.wait_for()
    stored = _in_app(live_server, lambda f: f.session.scalar(
        select(User.privacy_notice_version).where(User.email == "consent@example.cn")))
    assert stored == NOTICE.version

    context, mine = signed_in(browser, live_server, "consent@example.cn", "Dangan2024")
    try:
        mine.goto(live_server["url"] + "/account/data")
        assert f"版本 {NOTICE.version}" in mine.locator("#consent-version").inner_text()
    finally:
        context.close()


# ---- 5. file sizes ---------------------------------------------------------------------------------

def test_a_small_upload_reads_in_bytes_not_0_kb(live_server, browser):
    proof = png_bytes(8, 6)
    assert len(proof) < 1024  # the case that used to read "0 KB"

    def make(f):
        applicant = f.user(email="sizes@example.cn", name="覃小丽",
                           id_number=make_id_number(region="110101", born="19700101", seq=9))
        return f.request(applicant, uploads=[service.Upload("supplement", "户口簿.png", BytesIO(proof))]).number

    number = _in_app(live_server, make)
    context, page = signed_in(browser, live_server, "sizes@example.cn", PASSWORD)
    try:
        page.goto(live_server["url"] + f"/requests/{number}")
        item = page.locator("li", has=page.get_by_role("link", name="户口簿.png"))
        assert f"{len(proof)} 字节" in item.inner_text()
        assert "0 KB" not in page.content()
        page.goto(live_server["url"] + f"/requests/{number}?lang=en")
        assert f"{len(proof)} bytes" in page.locator("li", has=page.get_by_role("link", name="户口簿.png")).inner_text()
    finally:
        context.close()
