"""Query anywhere, issue locally, in a real browser: the demo citizen applies at 南宁市档案馆 for
records held by two other archives; Nanning's clerk accepts; one holding archive verifies with a
certified copy, the other reports not found; Nanning's reviewer approves and issues the signed
certificate; the citizen downloads it, and its QR code opens the verification page."""
from __future__ import annotations

import hashlib
import re
import subprocess
from io import BytesIO

import pytest
import zxingcpp
from PIL import Image

from portal.catalog.demo_data import ARCHIVES
from tests.browser.signing_in import apply_for_two_records_held_elsewhere, signed_in
from tests.files import pdf_bytes

pytestmark = pytest.mark.browser

ISSUING = "南宁市档案馆"
CODES = {archive.name: archive.code for archive in ARCHIVES}


def _open_from_queue(page, server, tab_label, number):
    page.get_by_role("link", name="审批队列").click()
    page.wait_for_url(re.compile(r"/staff/queue"))
    page.locator("#queue-counts").get_by_role("link", name=re.compile(tab_label)).click()
    page.get_by_role("link", name=number).click()
    page.wait_for_url(re.compile(rf"/staff/requests/{number}$"))


def test_apply_at_one_archive_verify_at_two_others_approve_at_the_first(live_server, browser, tmp_path):
    contexts = []
    try:
        # The citizen picks two of her records held by two archives other than Nanning's.
        number, chosen, citizen = apply_for_two_records_held_elsewhere(browser, live_server, ISSUING, contexts)
        (holder_b, _), (holder_c, _) = chosen.items()

        # Nanning's clerk accepts: one verification task goes to each holding archive.
        context, clerk_a = signed_in(browser, live_server, "clerk.450100@demo.cn")
        contexts.append(context)
        _open_from_queue(clerk_a, live_server, "待受理", number)
        clerk_a.get_by_role("button", name="受理").click()
        clerk_a.locator(".flash").wait_for()
        tasks = clerk_a.locator("article.task")
        assert tasks.count() == 2
        assert sorted(tasks.nth(i).locator("h3").inner_text().split()[0] for i in range(2)) == sorted(chosen)

        # The first holding archive verifies, with the certified copy.
        context, clerk_b = signed_in(browser, live_server, f"clerk.{CODES[holder_b]}@demo.cn")
        contexts.append(context)
        _open_from_queue(clerk_b, live_server, "协办任务", number)
        assert clerk_b.get_by_role("button", name="受理").count() == 0
        assert clerk_b.get_by_role("button", name="审核通过").count() == 0
        copy = tmp_path / "核实件.pdf"
        copy.write_bytes(pdf_bytes())
        clerk_b.get_by_label("说明（选填）").fill("已调阅原件，与目录一致")
        clerk_b.get_by_label(re.compile("核实后的档案复制件")).set_input_files(str(copy))
        clerk_b.get_by_role("button", name="核实无误，提交复制件").click()
        clerk_b.locator(f"article.task", has_text=holder_b).get_by_text("已核实").wait_for()

        # The second reports not found, after confirming.
        context, clerk_c = signed_in(browser, live_server, f"clerk.{CODES[holder_c]}@demo.cn")
        contexts.append(context)
        _open_from_queue(clerk_c, live_server, "协办任务", number)
        clerk_c.once("dialog", lambda dialog: dialog.accept())
        clerk_c.get_by_label("查找范围和结果").fill("已查 1950—2000 年全部案卷，未找到")
        clerk_c.get_by_role("button", name="报告未找到").click()
        clerk_c.locator(f"article.task", has_text=holder_c).get_by_text("未找到").first.wait_for()

        # Nanning's reviewer approves, now that both have answered.
        context, reviewer_a = signed_in(browser, live_server, "reviewer.450100@demo.cn")
        contexts.append(context)
        _open_from_queue(reviewer_a, live_server, "待审批", number)
        reviewer_a.get_by_role("button", name="审核通过").click()
        reviewer_a.locator(".status-panel .badge", has_text="已通过").wait_for()
        reviewer_a.screenshot(path=str(tmp_path / "approved.png"), full_page=True)

        # The citizen's open page refreshes itself (a reload here would race that refresh), and
        # shows both archives' answers on the timeline.
        citizen.locator(".status-panel .badge", has_text="已通过").wait_for()
        timeline = citizen.locator(".timeline").inner_text()
        assert "已调阅原件，与目录一致" in timeline and "未找到" in timeline
        assert citizen.get_by_role("link", name="核实件.pdf").count() == 0, "the certified copy comes with the certificate"

        # Nanning's reviewer issues the certificate: signed, numbered, with its verification code.
        reviewer_a.get_by_role("button", name="出具证明").click()
        reviewer_a.get_by_role("button", name="确认出具并签名").click()  # after the preview of what it will say
        panel = reviewer_a.locator(".certificate-panel")
        panel.locator(".serial").wait_for()
        serial = panel.locator(".serial").inner_text()
        assert re.fullmatch(rf"ZM-{CODES[ISSUING]}-\d{{4}}-\d{{6}}", serial)

        # The citizen's page refreshes to "issued" and she downloads the PDF.
        citizen.locator(".status-panel .badge", has_text="已出证").wait_for()
        with citizen.expect_download() as download:
            citizen.get_by_role("link", name="下载证明（PDF）").click()
        certificate = tmp_path / "certificate.pdf"
        download.value.save_as(certificate)
        data = certificate.read_bytes()
        assert data.startswith(b"%PDF-") and download.value.suggested_filename == f"{serial}.pdf"
        assert hashlib.sha256(data).hexdigest() in reviewer_a.locator(".certificate-panel .hash").inner_text()

        # Whoever receives it scans the QR code on page 1, which opens the verification page.
        page_image = subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(certificate)],
                                    capture_output=True, check=True, timeout=60).stdout
        [qr] = zxingcpp.read_barcodes(Image.open(BytesIO(page_image)))
        assert qr.text.startswith(live_server["url"] + "/verify?") and serial in qr.text
        context = browser.new_context(locale="zh-CN")  # a pension office clerk, not signed in
        contexts.append(context)
        reader = context.new_page()
        reader.goto(qr.text)
        reader.locator(".verdict-valid").wait_for()
        facts = reader.locator(".facts").inner_text()
        name = live_server["citizen_name"]
        assert serial in facts and f"{name[0]}*{name[-1]}" in facts and name not in reader.content()
        reader.screenshot(path=str(tmp_path / "verified.png"), full_page=True)
    finally:
        for context in contexts:
            context.close()
