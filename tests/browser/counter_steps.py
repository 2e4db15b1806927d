"""A clerk's steps at the counter (现场接待), shared by the counter's browser test and the
administration journey: from "no account with this ID number", the walk-in's verified account;
then their request for one record of the archive."""
from __future__ import annotations

import re
from pathlib import Path


def create_walk_in_account(clerk, name: str, phone: str = "13907780000") -> None:
    clerk.get_by_label("姓名（照证件）").fill(name)
    clerk.get_by_label("联系电话").fill(phone)
    clerk.get_by_role("button", name="已核对身份证，建立已核验的账号").click()
    clerk.get_by_text(f"申请人：{name}（已核验身份）").wait_for()


def apply_at_counter(clerk, code: str, reference: str) -> str:
    """The record found through the catalog look-up, for the walk-in themself; the request's number."""
    clerk.get_by_label("查找档案（档号或题名）").fill(reference)
    clerk.locator(f"[data-add-record='{code}/{reference}']").click()
    assert clerk.get_by_label(re.compile("^档号")).input_value() == f"{code}/{reference}"
    clerk.get_by_label("本人", exact=True).check()
    clerk.get_by_label("利用目的", exact=True).select_option(label="办理养老保险或退休")
    clerk.get_by_label("到出证档案馆领取").check()
    clerk.get_by_label("当事人已当面阅读并同意《个人信息处理说明》").check()
    clerk.get_by_role("button", name="提交申请").click()
    clerk.wait_for_url(re.compile(rf"/admin/{code}/counter/requests/{code}-\d{{4}}-\d{{6}}$"))
    return clerk.url.rsplit("/", 1)[1]


def approve_and_issue(reviewer) -> None:
    """On the staff request page: approve, then issue (the preview confirmed)."""
    reviewer.get_by_role("button", name="审核通过").click()
    reviewer.locator(".status-panel .badge", has_text="已通过").wait_for()
    reviewer.get_by_role("button", name="出具证明").click()
    reviewer.get_by_role("button", name="确认出具并签名").click()
    reviewer.locator(".certificate-panel .serial").wait_for()


def print_certificate(clerk) -> bytes:
    """The counter page, reloaded once issued: the certificate PDF its print link downloads."""
    clerk.reload()
    with clerk.expect_download() as download:
        clerk.get_by_role("link", name="打印证明（PDF）").click()
    return Path(download.value.path()).read_bytes()
