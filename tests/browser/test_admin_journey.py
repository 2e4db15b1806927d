"""Issue 13's whole journey in real Chromium, one browser context per person, on the live server:

1. 河池市档案馆's archive admin imports a CSV file with two refused rows: reads the dry run's
   report, downloads the refused rows, confirms, watches the progress bar reach 100 %;
2. attaches a scanned PDF (image only, no text layer) to an open record of that import; the OCR
   job reads it, and an anonymous visitor finds a word of the scan through public search;
3. makes an appraisal batch of the imported records that are due (formed in 1936, closed); two
   reviewers take the first and second reviews, the admin decides: the records open, and the
   visitor sees them in the archive's open catalogue and in public search;
4. a clerk registers a walk-in at the counter for an imported record of the walk-in's, accepts and
   verifies it; a reviewer approves and issues; the clerk prints the certificate (a PDF);
5. the admin reads the month's statistics: one more person served, one more certificate issued.

The job worker `portal serve` runs beside the web workers is started here (JobWorker); the search
index is drained (sync_outbox) in the app context only to wait for it."""
from __future__ import annotations

import csv
import io
import re

import pytest

from portal.accounts.service import create_user
from portal.admin.jobs import JobWorker
from portal.catalog.importer import HEADER
from portal.catalog.indexing import get_index, sync_outbox
from portal.db import db
from tests.admin_pages.copies_files import scanned_pdf
from tests.browser.counter_steps import apply_at_counter, approve_and_issue, create_walk_in_account, print_certificate
from tests.browser.signing_in import signed_in
from tests.factories import make_id_number

pytestmark = pytest.mark.browser

CODE = "451200"
ADMIN = f"manager.{CODE}@demo.cn"
REVIEWER, SECOND_REVIEWER, CLERK = f"reviewer.{CODE}@demo.cn", f"reviewer.journey.{CODE}@demo.cn", f"clerk.{CODE}@demo.cn"
WALK_IN = "蓝桂芳"
WALK_IN_NUMBER = make_id_number(region="451202", born="19520808", seq=284)
SCANNED = "J-1990-0003"           # the open record the scan is attached to
SCAN_WORD = "龙滩村"              # only in the scan
DUE = ("J-1936-0001", "J-1936-0002")  # closed, formed 90 years ago: due for appraisal
WALK_IN_RECORD = "J-2008-0042"    # the walk-in's own record (restricted, not yet due)


def catalog_file() -> bytes:
    def row(ref, **values):
        base = {"archive_code": CODE, "archive_name": "", "reference_code": ref, "category": "marriage",
                "title": "结婚登记审查处理表", "subject_name": "覃丽", "subject_id_number": "",
                "event_date": "1990-05-06", "place": "金城江区", "summary": "", "access_level": "open"}
        return [{**base, **values}[c] for c in HEADER]
    rows = [row(f"J-1990-{i:04d}") for i in range(1, 6)]
    rows += [row(ref, category="forest_rights", title=f"民国山林执照存根 {n}", subject_name="韦国安",
                 event_date="1936-03-02", place="南丹县", access_level="closed") for n, ref in enumerate(DUE, 1)]
    rows.append(row(WALK_IN_RECORD, category="employment", title="招工登记表", subject_name=WALK_IN,
                    subject_id_number=WALK_IN_NUMBER, event_date="2008-07-01", access_level="restricted"))
    rows += [row("J-1990-0900", category="nonsense"), row("J-1990-0901", archive_code="450100")]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([HEADER, *rows])
    return out.getvalue().encode("utf-8-sig")


@pytest.fixture(scope="module")
def second_reviewer(live_server):
    """The demo has one reviewer per archive: a second one for the second review."""
    with live_server["app"].app_context():
        create_user(db.session, role="reviewer", email=SECOND_REVIEWER, password=live_server["password"],
                    name="黄复审", archive_code=CODE)
    return SECOND_REVIEWER


class Worker:
    """The background job worker, switched on and off so that pages are seen waiting for it."""

    def __init__(self, app):
        self.app, self.worker = app, None

    def start(self):
        if self.worker is None:
            self.worker = JobWorker(self.app, 0.5)
            self.worker.start()

    def stop(self):
        if self.worker is not None:
            self.worker.stop()
            self.worker = None


def _sync_index(live_server) -> None:
    with live_server["app"].app_context():
        sync_outbox(db.session, get_index())


def _search(page, url: str, words: str):
    """A visitor types in the public search box; the hits come as they type (htmx)."""
    page.goto(url + "/search")
    page.get_by_label("检索关键词").fill(words)
    page.wait_for_url(re.compile(r"/search\?.*q="))
    page.get_by_role("heading", name=re.compile("共找到")).wait_for()
    page.wait_for_load_state("networkidle")
    return page.locator("#results .hit")


def _summary(page, url: str) -> dict[str, int]:
    """The statistics page's main figures, as the admin reads them."""
    page.goto(url + "/admin/")
    page.get_by_role("link", name="利用统计").first.click()
    page.wait_for_url(f"**/admin/{CODE}/statistics")
    rows = page.locator("#stats-summary ~ .table-scroll tbody tr")
    rows.first.wait_for()
    return {rows.nth(i).locator("th").inner_text(): int(rows.nth(i).locator("td").inner_text())
            for i in range(rows.count()) if rows.nth(i).locator("td").inner_text().isdigit()}


def _open_batch(page, url: str, batch: str) -> None:
    """A member of staff goes to the batch from the archive's pages."""
    page.goto(url + "/admin/")
    page.get_by_role("link", name="开放鉴定").first.click()
    page.get_by_role("link", name=batch, exact=True).click()
    page.wait_for_url(re.compile(rf"/admin/{CODE}/appraisal/\d+$"))


def _bulk(page, decision: str) -> None:
    form = page.locator("#bulk-form")
    form.get_by_label("本批次全部档案").check()
    form.get_by_label("鉴定意见").select_option(label=decision)
    form.get_by_role("button", name="作出意见").click()
    page.get_by_text(f"已对 {len(DUE)} 条档案作出意见。").wait_for()


def test_an_archives_own_work_from_import_to_statistics(browser, live_server, second_reviewer, tmp_path):
    url = live_server["url"]
    worker = Worker(live_server["app"])
    contexts = []

    def person(email):
        context, page = signed_in(browser, live_server, email)
        contexts.append(context)
        return page

    try:
        admin = person(ADMIN)
        visitor_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        contexts.append(visitor_context)
        visitor = visitor_context.new_page()
        visitor.set_default_timeout(10_000)

        # 1. The import: dry run, its report, the refused rows, confirmation, the progress bar.
        admin.goto(url + "/admin/")
        admin.get_by_role("link", name="导入目录").click()
        admin.get_by_label("目录文件（CSV 或 XLSX）").set_input_files(
            {"name": "目录.csv", "mimeType": "text/csv", "buffer": catalog_file()})
        admin.get_by_role("button", name="上传并检查").click()
        admin.wait_for_url(re.compile(rf"/admin/{CODE}/import/\d+$"))
        admin.get_by_role("heading", name="正在检查文件").wait_for()
        worker.start()
        admin.get_by_role("heading", name="检查报告").wait_for(timeout=30_000)
        report = dict(zip(admin.locator(".import-report dt").all_inner_texts(),
                          admin.locator(".import-report dd").all_inner_texts()))
        assert report == {"将新增": "8", "将更新": "0", "未变": "0", "拒绝": "2"}
        with admin.expect_download() as download:
            admin.get_by_role("link", name=re.compile("下载拒绝的行")).click()
        refused = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
        assert [r[0] for r in refused[1:]] == ["10", "11"]  # file lines: the header is line 1
        assert "J-1990-0900" in refused[1] and "nonsense" in refused[1]
        assert "J-1990-0901" in refused[2] and "450100" in refused[2]
        worker.stop()
        admin.get_by_role("button", name="确认导入").click()
        admin.get_by_role("heading", name="正在导入").wait_for()
        assert admin.locator("progress").get_attribute("value") == "0"
        worker.start()
        admin.get_by_role("heading", name="导入完成").wait_for(timeout=30_000)
        assert admin.locator("progress").get_attribute("value") == "100"
        assert "导入完成：新增 8 条" in admin.locator("#import-status").inner_text()

        # 2. A scan without a text layer, attached to an open imported record, read by OCR, found by anyone.
        scan = tmp_path / "扫描件.pdf"
        scan.write_bytes(scanned_pdf(lines=(f"林权登记簿 {SCAN_WORD}集体林地", "河池市林业局")))
        admin.goto(url + "/admin/")
        admin.get_by_role("link", name="数字化副本").first.click()
        admin.get_by_label("档号").fill(SCANNED)
        admin.get_by_role("button", name="查找").click()
        admin.wait_for_url(re.compile(rf"/admin/{CODE}/records/\d+/copies$"))
        admin.get_by_label("PDF 或页面图片（JPG、PNG）").set_input_files(str(scan))
        admin.get_by_role("button", name="上传", exact=True).click()
        admin.locator("#record-copies").get_by_text("已 OCR 识别").wait_for(timeout=90_000)
        _sync_index(live_server)
        hits = _search(visitor, url, SCAN_WORD)
        assert hits.count() == 1
        assert hits.first.get_by_role("link").first.get_attribute("href").endswith(f"/records/{CODE}/{SCANNED}")

        # 3. Open appraisal: the admin makes the batch, two reviewers review, the admin decides.
        admin.goto(url + "/admin/")
        admin.get_by_role("link", name="开放鉴定").first.click()
        admin.get_by_role("link", name="新建鉴定批次").click()
        admin.get_by_label("起始年份").fill("1936")
        admin.get_by_label("结束年份").fill("1936")
        admin.get_by_role("button", name="预览").click()
        admin.get_by_text(f"到期待鉴定的档案：{len(DUE)} 条").wait_for()
        admin.get_by_role("button", name="按此范围建立鉴定批次").click()
        admin.wait_for_url(re.compile(rf"/admin/{CODE}/appraisal/\d+$"))
        batch = re.match(r"第 \d+ 批", admin.get_by_role("heading", level=1).inner_text()).group(0)
        items = admin.locator(".appraisal-items tbody tr")
        assert sorted(ref for ref in DUE if any(ref in t for t in items.all_inner_texts())) == sorted(DUE)

        first = person(REVIEWER)
        _open_batch(first, url, batch)
        _bulk(first, "开放")
        first.get_by_role("button", name="完成初审").click()
        first.get_by_text("复审中").first.wait_for()

        second = person(SECOND_REVIEWER)
        _open_batch(second, url, batch)
        _bulk(second, "同意上一阶段的意见")
        second.get_by_role("button", name="完成复审").click()
        second.get_by_text("审定中").first.wait_for()

        _open_batch(admin, url, batch)
        _bulk(admin, "同意上一阶段的意见")
        admin.get_by_role("button", name="审定并公布").click()
        admin.get_by_text(f"已审定：{len(DUE)} 条档案已开放，并已列入开放目录。").wait_for()
        admin.get_by_role("link", name="开放目录").last.click()
        admin.wait_for_url(re.compile(rf"/archives/{CODE}/open-catalogue/\d+$"))

        # The visitor finds them in public search, and from a record its archive's open catalogue.
        _sync_index(live_server)
        hits = _search(visitor, url, "民国山林执照存根")
        found = " ".join(hits.all_inner_texts())
        assert "民国山林执照存根 1" in found and "民国山林执照存根 2" in found
        hits.first.get_by_role("link").first.click()
        visitor.wait_for_url(re.compile(rf"/records/{CODE}/J-1936-000\d$"))
        visitor.get_by_role("link", name="开放目录").click()
        visitor.wait_for_url(f"{url}/archives/{CODE}/open-catalogue")
        visitor.locator(".open-catalogue a").first.click()
        visitor.wait_for_url(admin.url)
        listed = visitor.locator(".open-catalogue-records tbody tr td:first-child").all_inner_texts()
        assert sorted(listed) == sorted(DUE)
        assert "韦国安" not in visitor.content()  # names are masked in public

        # 4. + 5. The month's figures before the walk-in; the walk-in; the figures after.
        before = _summary(admin, url)

        clerk = person(CLERK)
        clerk.get_by_role("link", name="现场接待").first.click()
        clerk.wait_for_url(re.compile(rf"/admin/{CODE}/counter$"))
        clerk.get_by_label(re.compile("^身份证号码")).fill(WALK_IN_NUMBER)
        clerk.get_by_role("button", name="查找").click()
        clerk.get_by_text("没有这个身份证号码的账号").wait_for()
        create_walk_in_account(clerk, WALK_IN)
        number = apply_at_counter(clerk, CODE, WALK_IN_RECORD)
        clerk.get_by_role("button", name="受理（已当面核对身份证）").click()
        clerk.get_by_role("button", name="核实并提交复制件").wait_for()
        clerk.get_by_label("档案复制件（PDF 或图片）").set_input_files(str(scan))
        clerk.get_by_role("button", name="核实并提交复制件").click()
        clerk.get_by_text("本馆已核实").wait_for()

        first.get_by_role("link", name="审批队列").click()
        first.get_by_role("link", name=number).click()
        approve_and_issue(first)
        assert print_certificate(clerk).startswith(b"%PDF")

        after = _summary(admin, url)
        assert after["接待人次"] == before["接待人次"] + 1
        assert after["出具证明：档案查询结果证明"] == before["出具证明：档案查询结果证明"] + 1
    finally:
        for context in contexts:
            context.close()
        worker.stop()
