"""What the import page refuses, each with a clear message next to the field and nothing kept or
queued: a picture named .csv, a broken or bombed zip, an old .xls, too big, too many rows, a wrong
header; a too-long cell refuses its row only."""
from __future__ import annotations

import io
import os
import zipfile

import pytest
from sqlalchemy import func, select

from portal.admin import importing
from portal.admin.models import AdminJob
from portal.catalog import xlsx_input
from tests.admin_pages.importing import OWN, latest_job, row, run_jobs, signed_in, table, upload
from tests.helpers import parse, text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def admin(client, factory):
    archive = factory.archive(OWN, "河池市金城江区档案馆")
    return signed_in(client, factory, archive=archive)


def refused(response) -> str:
    assert response.status_code == 422
    return text(parse(response).select_one("#file-error"))


def bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * (3 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize("data, name, says", [
    (PNG, "catalog.csv", "不是 CSV 或 XLSX"),
    (b"PK\x03\x04 broken", "catalog.xlsx", "不是有效的 XLSX"),
    (PNG, "catalog.xlsx", "不是有效的 XLSX"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "catalog.xls", ".xls"),
    (b"a,b\r\n", "catalog.pdf", "CSV 或 XLSX"),
    ("archive_code,标题\r\n".encode("gb18030"), "catalog.csv", "UTF-8"),
    (b"archive_code,title\r\n", "catalog.csv", "缺少列"),
    (b"", "catalog.csv", "文件是空的"),
])
def test_a_file_that_is_not_a_catalog_table_is_refused_with_a_message(client, session, admin, data, name, says):
    assert says in refused(upload(client, OWN, data, name))
    assert session.scalar(select(func.count()).select_from(AdminJob)) == 0
    folder = importing.current_app.config["UPLOAD_FOLDER"] / "imports"
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing kept


def test_a_zip_bomb_is_refused_before_it_is_inflated(client, session, admin, monkeypatch):
    monkeypatch.setattr(xlsx_input, "MAX_XLSX_UNCOMPRESSED", 2 * 1024 * 1024)
    assert "解压后过大" in refused(upload(client, OWN, bomb(), "catalog.xlsx"))


def test_a_file_over_the_size_limit_is_refused(client, session, admin, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UPLOAD_BYTES", 1024)
    assert "超过" in refused(upload(client, OWN, table([row(reference_code=f"R-{i}") for i in range(20)])))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_file_over_the_row_limit_is_refused(client, session, admin, monkeypatch, kind):
    monkeypatch.setattr(xlsx_input, "MAX_ROWS", 3)
    response = upload(client, OWN, table([row(reference_code=f"R-{i}") for i in range(5)], kind), f"c.{kind}")
    if kind == "csv":
        assert "超过 3 行" in refused(response)
    else:  # a workbook is opened by the dry run, which refuses the file and drops the import
        assert response.status_code == 303
        run_jobs(session)
        assert "超过 3 行" in latest_job(session, "import_check").result["file_error"]
        assert latest_job(session).status == "cancelled"


def test_a_too_long_cell_refuses_its_row_only(client, session, admin):
    upload(client, OWN, table([row(), row(reference_code="R-2", summary="长" * 5000)]))
    run_jobs(session)
    check = latest_job(session, "import_check")
    assert (check.result["inserted"], check.result["refused"]) == (1, 1)
    assert check.result["errors"][0][0] == 3 and "4000" in check.result["errors"][0][1]


def test_a_workbook_whose_rows_cannot_be_read_reports_where_it_stopped(client, session, admin):
    data = table([row(), row(reference_code="R-2")], "xlsx")
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as dst:
        for entry in src.infolist():
            body = src.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                body = body[:body.index(b"<row r=\"3\"") + 12]  # cut in the middle of line 3
            dst.writestr(entry, body)
    response = upload(client, OWN, broken.getvalue(), "catalog.xlsx")
    if response.status_code == 422:  # openpyxl may find the damage while reading the header
        assert "XLSX" in refused(response)
        return
    run_jobs(session)
    check = latest_job(session, "import_check")
    assert check.status == "done" and (check.result.get("file_error") or check.result["errors"])


def test_a_workbook_over_the_row_limit_without_a_dimension_is_refused_by_the_dry_run(client, session, admin,
                                                                                      monkeypatch):
    from openpyxl import Workbook
    book = Workbook(write_only=True)  # writes no <dimension>: the row count is known only by reading
    sheet = book.create_sheet()
    from portal.catalog.importer import HEADER
    sheet.append(HEADER)
    for i in range(5):
        sheet.append([row(reference_code=f"R-{i}")[c] for c in HEADER])
    out = io.BytesIO()
    book.save(out)
    monkeypatch.setattr(xlsx_input, "MAX_ROWS", 3)
    response = upload(client, OWN, out.getvalue(), "catalog.xlsx")
    if response.status_code == 422:
        assert "超过 3 行" in refused(response)
        return
    run_jobs(session)
    check, job = latest_job(session, "import_check"), latest_job(session)
    assert "超过 3 行" in check.result["file_error"]
    assert job.status == "cancelled" and not os.path.exists(job.file_path)
    page = client.get(f"/admin/{OWN}/import/{job.id}").get_data(as_text=True)
    assert "超过 3 行" in page and "确认导入" not in page


def test_a_workbook_with_a_wrong_header_is_refused_by_the_dry_run_with_its_message(client, session, admin):
    assert upload(client, OWN, table([["451202", "R-1"]], "xlsx", header=["archive_code", "档号"]),
                  "catalog.xlsx").status_code == 303
    run_jobs(session)
    job = latest_job(session)
    page = client.get(f"/admin/{OWN}/import/{job.id}").get_data(as_text=True)
    assert "表头不正确" in page and "确认导入" not in page and job.status == "cancelled"


def test_portal_import_reads_a_workbook_too_through_the_same_path(app, session, tmp_path):
    from portal.catalog.models import Record
    from tests.factories import Factory
    Factory(session).archive(OWN, "河池市金城江区档案馆")
    path = tmp_path / "目录.xlsx"
    path.write_bytes(table([row(), row(reference_code="R-2", event_date="1985/3/5")], "xlsx"))
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "新增 2 条" in result.output
    assert session.scalar(select(func.count()).select_from(Record)) == 2
