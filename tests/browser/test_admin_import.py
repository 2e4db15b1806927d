"""An archive admin imports a catalog file in the browser: uploads it, reads the dry run's report
of refused rows, downloads them, confirms, and watches the progress bar reach 100 % (the test
starts the job worker `make run` starts), then the page announces the result; then edits one of
the imported records."""
from __future__ import annotations

import csv
import io
import re

import pytest

from portal.admin.jobs import JobWorker
from portal.catalog.importer import HEADER
from tests.browser.signing_in import signed_in
from tests.browser.test_accessibility import violations


def catalog_file() -> bytes:
    def row(ref, **values):
        base = {"archive_code": "451200", "archive_name": "", "reference_code": ref, "category": "marriage",
                "title": "结婚登记审查处理表", "subject_name": "覃丽", "subject_id_number": "",
                "event_date": "1990-05-06", "place": "金城江区", "summary": "", "access_level": "open"}
        return [{**base, **values}[c] for c in HEADER]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([HEADER, *(row(f"T-1990-{i:04d}") for i in range(1, 41)),
                      row("T-1990-0900", category="nonsense"), row("T-1990-0901", archive_code="450100")])
    return out.getvalue().encode("utf-8-sig")


@pytest.fixture
def job_worker(live_server):
    """Starts the job worker `portal run` and `portal serve` run beside the web workers; the test
    starts it after each page is shown, so the page is seen waiting and then polling to the end."""
    class Switch:
        worker = None

        def start(self):
            self.worker = JobWorker(live_server["app"], 0.5)
            self.worker.start()

        def stop(self):
            if self.worker is not None:
                self.worker.stop()
                self.worker = None

    switch = Switch()
    yield switch
    switch.stop()


def test_an_archive_admin_imports_a_file_with_refused_rows(browser, live_server, job_worker):
    context, page = signed_in(browser, live_server, "manager.451200@demo.cn")
    try:
        page.goto(live_server["url"] + "/admin/")
        page.get_by_role("link", name="导入目录").click()
        page.get_by_label("目录文件（CSV 或 XLSX）").set_input_files(
            {"name": "目录.csv", "mimeType": "text/csv", "buffer": catalog_file()})
        page.get_by_role("button", name="上传并检查").click()
        page.wait_for_url(re.compile(r"/admin/451200/import/\d+$"))
        page.get_by_role("heading", name="正在检查文件").wait_for()
        job_worker.start()
        page.get_by_role("heading", name="检查报告").wait_for()
        report = dict(zip(page.locator(".import-report dt").all_inner_texts(),
                          page.locator(".import-report dd").all_inner_texts()))
        assert report == {"将新增": "40", "将更新": "0", "未变": "0", "拒绝": "2"}
        assert page.locator(".refused-rows tbody tr td:first-child").all_inner_texts() == ["42", "43"]
        assert "检查完成" in page.locator("#import-announce").text_content()  # read out once, by the live region
        assert violations(page) == []

        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("下载拒绝的行")).click()
        rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
        assert [r[0] for r in rows[1:]] == ["42", "43"] and rows[2][2] == "450100"

        job_worker.stop()
        page.get_by_role("button", name="确认导入").click()
        page.get_by_role("heading", name="正在导入").wait_for()
        assert page.locator("progress").get_attribute("value") == "0"
        job_worker.start()
        page.get_by_role("heading", name="导入完成").wait_for(timeout=30_000)
        assert "导入完成" in page.locator("#import-announce").text_content()
        bar = page.locator("progress")
        assert bar.get_attribute("value") == "100"
        assert "导入完成：新增 40 条" in page.locator("#import-status").inner_text()
        page.reload()  # the job page is its own URL: the result is still there
        assert page.locator("progress").get_attribute("value") == "100"
        assert page.get_by_role("button", name="确认导入").count() == 0
        assert violations(page) == []

        # The imported record, found in the catalog list and edited by hand.
        page.goto(live_server["url"] + "/admin/451200/records")
        page.get_by_label("按档号或题名查找").fill("T-1990-0007")
        page.get_by_role("button", name="查找").click()
        page.get_by_role("link", name="T-1990-0007").click()
        assert violations(page) == []
        page.get_by_label("题名").fill("结婚登记审查处理表（补）")
        page.get_by_role("button", name="保存").click()
        page.get_by_text("已保存").wait_for()
        assert page.get_by_label("题名").input_value() == "结婚登记审查处理表（补）"
    finally:
        context.close()
