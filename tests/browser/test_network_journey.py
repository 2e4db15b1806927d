"""Query anywhere, issue locally, in a real browser across two real nodes: the demo citizen on
node alpha searches the whole network, finds a record node beta holds, puts it in the basket,
applies at one of alpha's archives and follows the request; alpha's clerk accepts, beta's clerk
verifies on beta's own staff page, alpha's reviewer approves and issues, and the citizen sees each
cross-node step on the timeline and downloads the certificate. axe on the pages that are new."""
from __future__ import annotations

import re

import pytest

from tests.browser.test_accessibility import violations
from tests.federation.cluster import Node, running
from tests.federation.requests_journey import (ISSUING, PASSWORD, accept, approve_and_issue, detail, sql, token,
                                               wait_for)

HOLDING = "451202"  # holds the demo citizen's open marriage record (1969)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("network")
    a = Node.create(base / "a", "alpha", archives=ISSUING, records=200)
    b = Node.create(base / "b", "beta", archives=f"450200,{HOLDING}", records=200)
    with running(a, b):
        yield a, b


def _log_in(page, node: Node, email: str, lands: str) -> None:
    page.goto(node.url + "/login")
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(re.escape(node.url) + lands))


def test_a_citizen_finds_another_nodes_record_applies_here_and_gets_the_certificate(nodes, browser):
    a, b = nodes
    reference = sql(b, "SELECT r.reference_code FROM record r JOIN archive a ON a.id = r.archive_id WHERE a.code = :c "
                       "AND r.subject_name = '韦秀英' AND r.access_level = 'open'", c=HOLDING)[0][0]
    citizen = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    _log_in(citizen, a, "citizen@demo.cn", "/$")

    # The whole network: beta's record is among the hits, named with its node and archive.
    citizen.goto(a.url + "/search")
    citizen.get_by_label("全网").check()
    citizen.get_by_role("searchbox").fill(reference)
    hit = citizen.locator(f"li.hit[data-node='beta']").filter(has_text=reference)
    hit.wait_for()
    assert "河池市金城江区档案馆" in hit.inner_text() and "beta" in hit.inner_text()
    assert "韦秀英" not in hit.inner_text()  # masked, as every visitor of beta sees it
    assert "scope=network" in citizen.url
    assert violations(citizen) == []
    hit.get_by_role("button", name="加入申请清单").click()
    hit.get_by_text("已加入申请清单").wait_for()

    # Applying here, at alpha's archive, for beta's record.
    citizen.get_by_role("navigation").get_by_role("link", name=re.compile("申请清单")).click()
    citizen.wait_for_url("**/apply")
    assert citizen.locator("ul.basket").get_by_text(reference).count() >= 1 or reference in citizen.content()
    citizen.get_by_label("本人", exact=True).check()
    citizen.get_by_label("利用目的", exact=True).select_option(label="办理养老保险或退休")
    citizen.get_by_label(re.compile("^出证档案馆")).select_option(label="南宁市档案馆")
    citizen.get_by_label("网上下载电子证明").check()
    citizen.get_by_label(re.compile("我同意档案馆为办理本申请处理")).check()
    citizen.get_by_role("button", name="提交申请").click()
    citizen.wait_for_url(re.compile(r".*/requests/450100-\d{4}-\d{6}$"))
    number = citizen.url.rsplit("/", 1)[1]
    assert "河池市金城江区档案馆" in citizen.content()

    # Alpha's clerk accepts; the task travels to beta, whose clerk verifies on beta's own page.
    accept(a, number)
    task = wait_for(lambda: _task_on(b, number), "the task on beta")
    staff = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    _log_in(staff, b, f"clerk.{HOLDING}@demo.cn", "/staff")
    staff.goto(b.url + f"/staff/requests/{number}")
    assert "alpha" in staff.content()
    assert violations(staff) == []
    staff.get_by_label("说明（选填）").fill("已调阅原件核实无误")
    staff.get_by_label(re.compile("核实后的档案复制件")).set_input_files({
        "name": "核实件.pdf", "mimeType": "application/pdf", "buffer": _pdf()})
    staff.get_by_role("button", name="核实无误，提交复制件").click()
    staff.get_by_role("button", name="核实无误，提交复制件").wait_for(state="detached")
    wait_for(lambda: all(t["result"] == "verified" for t in detail(a, number, f"reviewer.{ISSUING}@demo.cn")["tasks"]),
             "beta's answer on alpha")
    assert task["issuing_node"] == "alpha"

    approve_and_issue(a, number)
    # The citizen follows it on alpha: the steps between the nodes, then the certificate.
    citizen.goto(a.url + f"/requests/{number}")
    timeline = citizen.locator("ol.timeline, .timeline").first.inner_text()
    assert "beta" in timeline, timeline
    with citizen.expect_download() as download:
        citizen.get_by_role("link", name=re.compile("下载证明|下载")).first.click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert violations(citizen) == []


def _task_on(b: Node, number: str) -> dict | None:
    status, queue = b.get_json("/api/v1/queue", params={"tab": "tasks"}, token=token(b, f"clerk.{HOLDING}@demo.cn"))
    assert status == 200, queue
    return next((item for item in queue["items"] if item["number"] == number), None)


def _pdf() -> bytes:
    from tests.files import pdf_bytes

    return pdf_bytes(1, "certified-copy")
