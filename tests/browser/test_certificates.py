"""Certificates and verification, in a real browser (issue 15): every page of the signed file is
numbered out of all its pages, the copies included; the 核实内容 is a statement of the verified
facts, the clerk's note printed only when they ticked it; no certificate is signed with a link to
this machine outside development; serials do not look like request numbers, and /verify says
which kind of number was typed; `portal serve` makes links point at the port it serves."""
from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import time
from email import policy
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from portal.certificates.document import chinese_date
from portal.core.clock import china_today
from tests.browser.signing_in import apply_for_two_records_held_elsewhere, signed_in
from tests.browser.test_cross_archive import CODES, ISSUING, _open_from_queue
from tests.factories import make_id_number
from tests.files import pdf_bytes
from tests.helpers import free_port, wait_for_http

pytestmark = pytest.mark.browser

PRINTED_NOTE = "卷内另有1999年更正通知一份"
INTERNAL_NOTE = "原件装订处破损，已送修复"


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _verify(browser, server, contexts, holder, number, copy: Path, note: str, print_note: bool):
    context, clerk = signed_in(browser, server, f"clerk.{CODES[holder]}@demo.cn")
    contexts.append(context)
    _open_from_queue(clerk, server, "协办任务", number)
    task = clerk.locator("article.task", has_text=holder)
    if print_note:
        # Ticked without a note: refused, and the tick is kept for the second try.
        task.get_by_label("在证明上打印此说明").check()
        task.get_by_label(re.compile("核实后的档案复制件")).set_input_files(str(copy))
        task.get_by_role("button", name="核实无误，提交复制件").click()
        task = clerk.locator("article.task", has_text=holder)
        task.get_by_text("要在证明上打印说明，请填写说明").wait_for()
        assert task.get_by_label("在证明上打印此说明").is_checked()
    task.get_by_label("说明（选填）").fill(note)
    task.get_by_label(re.compile("核实后的档案复制件")).set_input_files(str(copy))
    task.get_by_role("button", name="核实无误，提交复制件").click()
    answered = clerk.locator("article.task", has_text=holder)
    answered.get_by_text("已核实").wait_for()
    # Staff see whether the note goes on the certificate.
    assert ("（印在证明上）" if print_note else "（不印在证明上）") in answered.inner_text()


def _issue(reviewer) -> None:
    """出具证明, and its confirmation where the page asks for one."""
    reviewer.get_by_role("button", name="出具证明").click()
    reviewer.locator(".confirm-issue button, .certificate-panel .serial, .conflict").first.wait_for()
    confirm = reviewer.get_by_role("button", name="确认出具并签名")
    if confirm.count():
        confirm.click()


def test_a_certificate_numbers_every_page_states_the_facts_and_is_told_from_a_request(live_server, browser,
                                                                                      tmp_path):
    app, contexts = live_server["app"], []
    try:
        number, chosen, _citizen = apply_for_two_records_held_elsewhere(browser, live_server, ISSUING, contexts)
        holder_b, holder_c = chosen
        context, clerk_a = signed_in(browser, live_server, "clerk.450100@demo.cn")
        contexts.append(context)
        _open_from_queue(clerk_a, live_server, "待受理", number)
        clerk_a.get_by_role("button", name="受理").click()
        clerk_a.locator(".flash").wait_for()

        # Two certified copies of two pages each: the file has more pages than the certificate.
        copy = tmp_path / "核实件.pdf"
        copy.write_bytes(pdf_bytes(2, "certified copy"))
        _verify(browser, live_server, contexts, holder_b, number, copy, PRINTED_NOTE, print_note=True)
        _verify(browser, live_server, contexts, holder_c, number, copy, INTERNAL_NOTE, print_note=False)

        context, reviewer = signed_in(browser, live_server, "reviewer.450100@demo.cn")
        contexts.append(context)
        _open_from_queue(reviewer, live_server, "待审批", number)
        reviewer.get_by_role("button", name="审核通过").click()
        reviewer.locator(".status-panel .badge", has_text="已通过").wait_for()

        # In production, a portal whose public address is this machine signs nothing: it says why.
        app.config["DEV"] = False
        try:
            _issue(reviewer)
            alert = reviewer.locator(".conflict")
            alert.wait_for()
            assert "指向本机" in alert.inner_text() and "PORTAL_PUBLIC_URL" in alert.inner_text()
            assert reviewer.locator(".certificate-panel .serial").count() == 0
        finally:
            app.config["DEV"] = True
        reviewer.goto(f"{live_server['url']}/staff/requests/{number}")
        _issue(reviewer)
        serial = reviewer.locator(".certificate-panel .serial").inner_text()
        assert re.fullmatch(rf"ZM-{CODES[ISSUING]}-\d{{4}}-\d{{6}}", serial)

        with reviewer.expect_download() as download:
            reviewer.get_by_role("link", name=re.compile("下载证明")).first.click()
        data = Path(download.value.path()).read_bytes()
        pages = [_compact(page.extract_text()) for page in PdfReader(BytesIO(data)).pages]
        total = len(pages)
        assert total >= 5  # the certificate, then 2 + 2 pages of copies
        for n, text in enumerate(pages, start=1):
            assert f"第{n}页，共{total}页" in text, (n, text[-80:])

        # 核实内容: what each archive verified, on which day, and found; one note printed, as ticked.
        body = "".join(pages)
        today = chinese_date(china_today())
        for holder in (holder_b, holder_c):
            assert re.search(rf"{holder}于{today}核实档号[^：]+：已找到，与馆藏原件一致。", body), holder
        assert f"说明：{PRINTED_NOTE}" in body
        assert INTERNAL_NOTE not in body

        code = re.search(r"验证码：([A-Z0-9]{8})", body).group(1)
        reader_context = browser.new_context(locale="zh-CN")
        contexts.append(reader_context)
        reader = reader_context.new_page()

        def check(serial_typed: str, lang: str = "") -> str:
            reader.goto(live_server["url"] + "/verify" + (f"?lang={lang}" if lang else ""))
            reader.locator("#serial").fill(serial_typed)
            reader.locator("#code").fill(code)
            reader.locator("#code").press("Enter")
            reader.locator(".verdict").first.wait_for()
            shape = reader.locator(".number-shape")
            return shape.inner_text() if shape.count() else ""

        # The certificate's own number: valid, and no word about number shapes.
        assert check(serial) == "" and reader.locator(".verdict-valid").count() == 1
        # The request's number: told what it is and where the certificate's number is printed ...
        told = check(number)
        assert "申请编号" in told and "ZM" in told and "右上角" in told
        assert reader.locator(".verdict-valid").count() == 0
        # ... exactly as for a request number that does not exist: the shape is all it tells.
        assert check("450100-1999-999999") == told
        assert "不是证明编号的格式" in check("证明123")
        english = check(number, lang="en")
        assert "request number" in english and "ZM" in english
        # Typed without a code: told at once, not only after a code was found as well.
        reader.goto(live_server["url"] + "/verify?lang=zh")
        reader.locator("#serial").fill(number)
        reader.locator("#serial").press("Enter")
        reader.locator("#code-error").wait_for()
        assert reader.locator(".number-shape").inner_text() == told
    finally:
        for context in contexts:
            context.close()


def test_portal_serve_makes_links_point_at_the_port_it_serves(browser, tmp_path):
    """No PORTAL_PUBLIC_URL: the reset link emailed points at --port, not at 5000."""
    portal = Path(sys.executable).with_name("portal")
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_PUBLIC_URL", "PORTAL_TRUSTED_HOSTS")}
    env.update(PORTAL_DATA_DIR=str(tmp_path / "data"), SEARCH_BACKEND="embedded", PORTAL_MAIL_SEND_INTERVAL="0.2",
               PORTAL_MAIL_FOLDER=str(tmp_path / "mail"), PYTHONUNBUFFERED="1")
    env.pop("DATABASE_URL", None)
    run = dict(env=env, capture_output=True, text=True, timeout=120, check=True)
    subprocess.run([str(portal), "init-db"], **run)
    subprocess.run([str(portal), "create-user", "--role", "citizen", "--email", "port@example.cn", "--password",
                    "Port-test-passw0rd", "--name", "张三", "--id-number", make_id_number()], **run)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(portal), "serve", "--port", str(port)], env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url, server, log)
        context = browser.new_context(locale="zh-CN")
        try:
            page = context.new_page()
            page.goto(url + "/password/forgot")
            page.get_by_label("电子邮箱").fill("port@example.cn")
            page.get_by_role("button", name=re.compile("发送|重设|提交")).first.click()
            page.wait_for_load_state()
        finally:
            context.close()
        deadline, sent = time.monotonic() + 30, []
        while not sent and time.monotonic() < deadline:
            sent = list((tmp_path / "mail").glob("**/*.eml"))
            time.sleep(0.2)
        assert sent, log.read_text()
        message = email.message_from_bytes(sent[0].read_bytes(), policy=policy.default)
        text = message.get_body(preferencelist=("plain",)).get_content()
        links = re.findall(r"https?://[^\s]+", text)
        assert links and all(link.startswith(f"{url}/") for link in links), links
    finally:
        server.terminate()
        server.wait(timeout=10)
