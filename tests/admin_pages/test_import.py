"""Catalog import in the browser: the dry run's report, confirm → a background job → rows written,
a re-import that changes nothing, and the refused rows downloaded (with what they held, audited)."""
from __future__ import annotations

import csv
import io
import os

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditLog
from portal.catalog.models import Record
from portal.core.personal_data import cipher
from tests.admin_pages.importing import (BAD_ID, ID_NUMBER, OTHER, OWN, latest_job, mixed_rows, post, row, run_jobs,
                                         signed_in, table, upload)
from tests.helpers import parse, select_one, text, texts


@pytest.fixture
def archives(factory):
    own, other = factory.archive(OWN, "河池市金城江区档案馆"), factory.archive(OTHER, "河池市档案馆")
    factory.record(own, reference_code="R-1", subject_id_number=ID_NUMBER, subject_name="韦秀英",
                   title="结婚登记审查处理表", summary="准予登记。")
    factory.record(own, reference_code="R-2", subject_id_number=ID_NUMBER, subject_name="韦秀英")
    session = factory.session
    for r in session.scalars(select(Record)):  # as the file has them
        r.place, r.event_month, r.event_day = "东江镇", 3, 5
    session.commit()
    return own, other


def report_of(html) -> dict[str, str]:
    return dict(zip(texts(html, ".import-report dt"), texts(html, ".import-report dd")))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_dry_run_reports_new_changed_unchanged_and_refused_rows(client, factory, session, archives, kind):
    signed_in(client, factory, archive=archives[0])
    response = upload(client, OWN, table(mixed_rows(), kind), f"catalog.{kind}")
    assert response.status_code == 303
    job = latest_job(session)
    assert job.status == "draft" and response.headers["Location"].endswith(f"/admin/{OWN}/import/{job.id}")
    page = client.get(f"/admin/{OWN}/import/{job.id}").get_data(as_text=True)
    assert "正在检查文件" in page and select_one(page, "progress") is not None
    assert run_jobs(session) == 1
    page = client.get(f"/admin/{OWN}/import/{job.id}").get_data(as_text=True)
    assert report_of(page) == {"将新增": "1", "将更新": "1", "未变": "1", "拒绝": "3"}
    refused = [[text(td) for td in tr.select("td")] for tr in parse(page).select(".refused-rows tbody tr")]
    assert [line for line, _reason in refused] == ["5", "6", "7"]
    assert "nonsense" in refused[0][1] and OTHER in refused[1][1] and "校验位" in refused[2][1]
    assert ID_NUMBER not in page and BAD_ID not in page  # the report names lines, not people
    assert session.scalar(select(func.count()).select_from(Record)) == 2  # a dry run writes nothing
    assert select_one(page, "form[action$='/confirm'] button") is not None


def test_confirming_runs_the_import_once_and_a_reimport_changes_nothing(client, factory, session, archives):
    signed_in(client, factory, archive=archives[0])
    upload(client, OWN, table(mixed_rows()))
    run_jobs(session)
    job = latest_job(session)
    path = job.file_path
    page = f"/admin/{OWN}/import/{job.id}"
    assert os.path.exists(path)
    for _click in range(2):  # a double click
        assert post(client, f"{page}/confirm", page).status_code == 303
    assert latest_job(session).status == "queued"
    assert run_jobs(session) == 1  # queued once
    job = latest_job(session)
    assert job.status == "done" and job.percent == 100 and not os.path.exists(path)
    assert {k: job.result[k] for k in ("inserted", "updated", "unchanged", "refused")} == \
        {"inserted": 1, "updated": 1, "unchanged": 1, "refused": 3}
    html = client.get(page).get_data(as_text=True)
    assert "导入完成" in html and parse(html).select_one("progress")["value"] == "100"
    assert parse(html).select_one("#import-status").get("hx-trigger") is None  # polling stops
    assert session.scalar(select(Record.title).where(Record.reference_code == "R-2")) == "离婚登记表"
    new = session.scalar(select(Record).where(Record.reference_code == "R-3"))
    assert new.archive_id == archives[0].id and cipher().decrypt(new.subject_id_enc) == ID_NUMBER
    assert session.scalar(select(func.count()).select_from(Record).where(Record.archive_id == archives[1].id)) == 0
    logged = session.scalars(select(AuditLog).where(AuditLog.action == "catalog_import")).one()
    assert logged.object_id == f"admin_job:{job.id}" and ID_NUMBER not in str(logged.details)

    upload(client, OWN, table(mixed_rows()))
    run_jobs(session)
    again = latest_job(session)
    post(client, f"/admin/{OWN}/import/{again.id}/confirm", f"/admin/{OWN}/import/{again.id}")
    run_jobs(session)
    assert {k: latest_job(session).result[k] for k in ("inserted", "updated", "unchanged")} == \
        {"inserted": 0, "updated": 0, "unchanged": 3}


def test_the_progress_partial_polls_until_done_and_then_announces(client, factory, session, archives):
    signed_in(client, factory, archive=archives[0])
    upload(client, OWN, table([row(reference_code="R-9")]))
    job = latest_job(session)
    url = f"/admin/{OWN}/import/{job.id}"
    partial = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and parse(partial).select_one("#import-status")["hx-trigger"] == "every 1s"
    run_jobs(session)
    post(client, f"{url}/confirm", url)
    run_jobs(session)
    partial = parse(client.get(url, headers={"HX-Request": "true"}))
    assert partial.select_one("#import-status").get("hx-trigger") is None
    announce = partial.select_one("[hx-swap-oob='innerHTML:#import-announce']")
    assert announce is not None and "导入完成" in text(announce)
    full = parse(client.get(url))
    assert full.select_one("#import-announce")["role"] == "status"


def test_the_refused_rows_download_holds_them_as_they_were_and_is_audited(client, factory, session, archives):
    admin = signed_in(client, factory, archive=archives[0])
    upload(client, OWN, table(mixed_rows(), "xlsx"), "catalog.xlsx")
    run_jobs(session)
    job = latest_job(session)
    response = client.get(f"/admin/{OWN}/import/{job.id}/refused.csv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["行号", "原因", "archive_code"]
    assert [(r[0], r[4]) for r in rows[1:]] == [("5", "R-4"), ("6", "R-5"), ("7", "R-6")]
    assert rows[3][8] == BAD_ID  # the person's own file, back to them to correct
    logged = session.scalars(select(AuditLog).where(AuditLog.action == "catalog_import_refused_download")).one()
    assert logged.actor_id == admin.id and logged.details == {"rows": 3}
    post(client, f"/admin/{OWN}/import/{job.id}/cancel", f"/admin/{OWN}/import/{job.id}")
    assert latest_job(session).status == "cancelled" and not os.path.exists(job.file_path)
    assert client.get(f"/admin/{OWN}/import/{job.id}/refused.csv").status_code == 410
    assert post(client, f"/admin/{OWN}/import/{job.id}/confirm", f"/admin/{OWN}/import/{job.id}").status_code == 303
    assert latest_job(session).status == "cancelled"  # a cancelled import cannot be confirmed


def test_the_landing_page_lists_the_import_and_catalog_sections(client, factory, archives):
    signed_in(client, factory, archive=archives[0])
    links = [a["href"] for a in parse(client.get("/admin/")).select(".admin-sections a")]
    assert f"/admin/{OWN}/import" in links and f"/admin/{OWN}/records" in links


def test_a_database_error_leaves_no_row_data_in_the_jobs_error_or_the_log():
    from sqlalchemy.exc import IntegrityError

    from portal.admin import importing
    with pytest.raises(RuntimeError) as raised, importing._plain_errors():
        raise IntegrityError("INSERT INTO record (subject_name) VALUES (?)", {"subject_name": "韦秀英"},
                             ValueError("duplicate key"))
    assert "韦秀英" not in str(raised.value) and raised.value.__suppress_context__


def test_a_dry_run_that_failed_can_be_cancelled_and_its_file_goes(client, factory, session, archives):
    signed_in(client, factory, archive=archives[0])
    upload(client, OWN, table([row(reference_code="R-9")]))
    job = latest_job(session)
    check = latest_job(session, "import_check")
    check.status, check.error = "failed", "OSError: disk"
    session.commit()
    url = f"/admin/{OWN}/import/{job.id}"
    page = client.get(url).get_data(as_text=True)
    assert "检查文件时出错" in page and "OSError" not in page
    post(client, f"{url}/cancel", url)
    assert latest_job(session).status == "cancelled" and not os.path.exists(job.file_path)
