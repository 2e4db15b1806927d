"""An archive admin attaches a scanned PDF with no text layer to an open record, watches the OCR
progress until the text is read, and the public finds a word of it and sees its pages; the pages
pass axe."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.admin.jobs import JobWorker
from portal.catalog.models import Record
from portal.db import db
from tests.admin_pages.copies_files import scanned_pdf
from tests.browser.signing_in import signed_in
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def test_a_scan_is_attached_read_by_ocr_and_found_in_public_search(live_server, browser, page, tmp_path):
    app, url = live_server["app"], live_server["url"]
    with app.app_context():
        record = db.session.scalars(select(Record).join(Record.archive)
                                    .where(Record.access_level == "open", Record.archive.has(code="451200"))
                                    .order_by(Record.id)).first()
        reference, title = record.reference_code, record.title
    scan = tmp_path / "扫描件.pdf"
    scan.write_bytes(scanned_pdf(lines=("林权登记簿 龙滩村集体林地", "河池市林业局")))

    # The job worker `portal serve` runs beside the web workers (portal.server).
    worker = JobWorker(app, 0.5)
    worker.start()
    context, admin = signed_in(browser, live_server, "manager.451200@demo.cn")
    try:
        admin.goto(url + "/admin/")
        admin.get_by_role("link", name="数字化副本").first.click()
        admin.wait_for_url(re.compile(r"/admin/451200/copies"))
        assert violations(admin) == []
        admin.get_by_label("档号").fill(reference)
        admin.get_by_role("button", name="查找").click()
        admin.wait_for_url(re.compile(r"/admin/451200/records/\d+/copies$"))
        admin.get_by_label("PDF 或页面图片（JPG、PNG）").set_input_files(str(scan))
        admin.get_by_role("button", name="上传", exact=True).click()
        admin.wait_for_load_state("networkidle")
        # The background job reads it; the page polls until it says so, without a reload.
        admin.locator("#record-copies").get_by_text("已 OCR 识别").wait_for(timeout=90_000)
        assert violations(admin) == []
        admin.get_by_text("识别出的文字（已遮蔽个人信息）").click()
        assert "龙滩" in admin.locator(".copy-text").inner_text()
    finally:
        context.close()
        worker.stop()

    page.goto(url + "/search?q=龙滩")
    hit = page.locator("#results .hit").first
    hit.wait_for()
    assert title in hit.inner_text() and "龙滩" not in page.locator("#results").inner_text()
    hit.get_by_role("link").first.click()
    page.get_by_role("link", name="查看页面").click()
    image = page.locator("img.copy-page").first
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert violations(page) == []
    page.screenshot(path=str(tmp_path / "copies.png"), full_page=True)
