"""`portal import`: a UTF-8 CSV into the catalog; bad rows reported by line and skipped, whole-file
problems refused before anything is written, re-imports idempotent."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from portal.archives.models import Archive
from portal.audit.models import AuditLog
from portal.catalog import importer
from portal.catalog.importer import HEADER, ImportFileError, import_csv
from portal.catalog.models import Record
from portal.catalog.outbox import SearchOutbox
from portal.core.personal_data import cipher
from tests.factories import make_id_number

ID_NUMBER = make_id_number("451202", "19650312", 123)
BAD_CHECKSUM = ID_NUMBER[:17] + ("1" if ID_NUMBER[17] == "0" else "0")


def row(**values) -> dict:
    base = {"archive_code": "451202", "archive_name": "河池市金城江区档案馆", "reference_code": "J032-1985-0147",
            "category": "marriage", "title": "结婚登记审查处理表", "subject_name": "韦秀英",
            "subject_id_number": ID_NUMBER, "event_date": "1985-03-05", "place": "东江镇那坡村",
            "summary": "双方自愿结婚，准予登记。", "access_level": "open"}
    return {**base, **values}


def write_csv(tmp_path, rows, *, header=HEADER, encoding="utf-8", name="catalog.csv"):
    """Rows are dicts (written in header order) or lists (written as they are)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")  # as Excel writes it
    writer.writerow(header)
    for r in rows:
        writer.writerow([r[c] for c in HEADER] if isinstance(r, dict) else r)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def record(session, reference_code: str) -> Record:
    session.expire_all()
    return session.scalars(select(Record).where(Record.reference_code == reference_code)).one()


def test_good_file_imports_every_row_with_id_numbers_encrypted(session, tmp_path):
    path = write_csv(tmp_path, [row(), row(reference_code="J032-1985-0148", subject_id_number="", event_date="1985"),
                                row(reference_code="J032-1985-0149", access_level="closed")])
    report = import_csv(session, path)
    assert (report.inserted, report.updated, report.unchanged, report.errors) == (3, 0, 0, [])
    assert report.archives_created == ["451202"]
    stored = record(session, "J032-1985-0147")
    assert (stored.archive.code, stored.archive.name) == ("451202", "河池市金城江区档案馆")
    assert (stored.category, stored.title, stored.subject_name, stored.place) == (
        "marriage", "结婚登记审查处理表", "韦秀英", "东江镇那坡村")
    assert (stored.event_year, stored.event_month, stored.event_day) == (1985, 3, 5)
    assert ID_NUMBER not in stored.subject_id_enc
    assert cipher().decrypt(stored.subject_id_enc) == ID_NUMBER
    assert stored.subject_id_hash == cipher().lookup_hash(ID_NUMBER)
    no_id = record(session, "J032-1985-0148")
    assert (no_id.subject_id_enc, no_id.subject_id_hash, no_id.event_month) == (None, None, None)
    assert record(session, "J032-1985-0149").access_level == "closed"
    assert count(session, SearchOutbox) == 3


def test_import_is_written_to_the_audit_log_with_its_counts(session, tmp_path):
    import_csv(session, write_csv(tmp_path, [row(), row(category="nonsense", reference_code="X-1")]),
               source_name="catalog.csv")
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "catalog_import")).one()
    assert entry.object_id == "catalog.csv"
    assert {k: entry.details[k] for k in ("inserted", "updated", "unchanged", "bad")} == {
        "inserted": 1, "updated": 0, "unchanged": 0, "bad": 1}


def test_byte_order_mark_from_excel_is_accepted(session, tmp_path):
    report = import_csv(session, write_csv(tmp_path, [row()], encoding="utf-8-sig"))
    assert (report.inserted, report.errors) == (1, [])


def test_an_uploaded_stream_imports_like_a_file(session, tmp_path):
    data = write_csv(tmp_path, [row()], encoding="utf-8-sig").read_bytes()
    stream = io.BytesIO(data)
    assert import_csv(session, stream).inserted == 1
    assert not stream.closed  # the caller's stream is left to the caller
    assert import_csv(session, io.StringIO(data.decode("utf-8-sig"), newline="")).unchanged == 1


def test_gbk_file_is_refused_with_one_clear_error_and_nothing_imported(session, tmp_path):
    path = write_csv(tmp_path, [row(), row(reference_code="J032-1985-0148")], encoding="gbk")
    with pytest.raises(ImportFileError) as caught:
        import_csv(session, path)
    message = str(caught.value)
    assert "不是 UTF-8 编码" in message and "GBK" in message and "另存为" in message
    assert "第 2 行" in message
    assert count(session, Record) == count(session, Archive) == count(session, SearchOutbox) == 0


def test_non_utf8_bytes_late_in_the_file_still_import_nothing(session, tmp_path):
    rows = [row(reference_code=f"J032-1985-{i:04d}") for i in range(1, 30)]
    path = write_csv(tmp_path, rows)
    path.write_bytes(path.read_bytes() + "J032,坏行".encode("gbk") + b"\r\n")
    with pytest.raises(ImportFileError, match="第 31 行"):
        import_csv(session, path)
    assert count(session, Record) == 0


def test_wrong_header_says_which_columns_are_missing_and_unknown(session, tmp_path):
    header = ["题名" if c == "title" else c for c in HEADER if c != "place"]
    path = write_csv(tmp_path, [[""] * len(header)], header=header)
    with pytest.raises(ImportFileError) as caught:
        import_csv(session, path)
    message = str(caught.value)
    assert "缺少列 title, place" in message and "未知列 题名" in message
    assert ",".join(HEADER) in message  # what the header should have been
    assert count(session, Record) == 0


def test_empty_file_is_refused(session, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportFileError, match="文件是空的"):
        import_csv(session, path)


def test_columns_may_come_in_any_order(session, tmp_path):
    header = list(reversed(HEADER))
    path = write_csv(tmp_path, [[row()[c] for c in header]], header=header)
    assert import_csv(session, path).inserted == 1
    assert record(session, "J032-1985-0147").title == "结婚登记审查处理表"


def test_each_bad_row_is_reported_with_its_line_and_the_good_rows_still_import(session, tmp_path):
    rows = [
        row(summary="第一行摘要\r\n第二行摘要"),                                     # lines 2-3: good, two physical lines
        row(reference_code="R-04", category="婚姻"),                                 # 4
        row(reference_code="R-05", event_date="1985-13"),                            # 5
        row(reference_code="R-06", event_date="1985-02-30"),                         # 6
        row(reference_code="R-07", event_date="85"),                                 # 7
        row(reference_code="R-08", subject_id_number=BAD_CHECKSUM),                  # 8
        row(reference_code="R-09", title=""),                                        # 9
        row(),                                                                       # 10: same 档号 as line 2
        ["451202", "河池市金城江区档案馆", "R-11", "marriage", "结婚登记", "韦秀英"],   # 11: wrong column count
        row(archive_code="459999", archive_name="", reference_code="R-12"),          # 12: unknown archive, no name
        row(reference_code="R-13", title="题" * 301),                                # 13
        row(reference_code="R-14", access_level="公开"),                              # 14
        row(reference_code="R-15"),                                                  # 15: good
    ]
    report = import_csv(session, write_csv(tmp_path, rows))
    reasons = dict(report.errors)
    assert list(reasons) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert "未知类别“婚姻”" in reasons[4]
    assert all("日期格式错误" in reasons[line] for line in (5, 6, 7))
    assert "身份证号码校验位不正确" in reasons[8]
    assert reasons[9] == "缺少题名"
    assert "重复的档号 J032-1985-0147" in reasons[10] and "第 2 行" in reasons[10]
    assert "列数不对" in reasons[11] and "实际 6 列" in reasons[11]
    assert "未知的档案馆代码 459999" in reasons[12]
    assert "题名超过 300 个字" in reasons[13]
    assert "未知开放状态“公开”" in reasons[14]
    assert (report.inserted, report.bad) == (2, 11)
    assert record(session, "J032-1985-0147").summary == "第一行摘要\r\n第二行摘要"
    assert session.scalars(select(Record.reference_code).order_by(Record.reference_code)).all() == [
        "J032-1985-0147", "R-15"]


def test_a_row_with_several_problems_lists_them_all(session, tmp_path):
    report = import_csv(session, write_csv(tmp_path, [row(title="", category="x", event_date="1985-00")]))
    (line, reason), = report.errors
    assert line == 2 and "缺少题名" in reason and "未知类别" in reason and "日期格式错误" in reason


def test_blank_lines_are_skipped_without_shifting_line_numbers(session, tmp_path):
    path = write_csv(tmp_path, [row(), [], [""] * len(HEADER), row(reference_code="R-5", event_date="1985-13")])
    report = import_csv(session, path)
    assert report.inserted == 1 and [line for line, _ in report.errors] == [5]


def test_an_unclosed_quote_stops_reading_and_is_reported_where_the_row_starts(session, tmp_path):
    path = write_csv(tmp_path, [row(), row(reference_code="R-2")])
    with path.open("ab") as f:
        f.write('451202,,R-3,marriage,结婚登记审查处理表,韦秀英,,1985,东江镇,"摘要没有结束引号,open\r\n'.encode())
        f.write("451202,,R-4,marriage,结婚登记审查处理表,韦秀英,,1985,东江镇,摘要,open\r\n".encode())
    report = import_csv(session, path)
    assert report.inserted == 2
    (line, reason), = report.errors
    assert line == 4 and "双引号" in reason and "已停止读取" in reason


def test_dates_keep_their_precision_and_spreadsheet_forms_are_accepted(session, tmp_path):
    dates = {"A": ("1985", (1985, None, None)), "B": ("1985-03", (1985, 3, None)),
             "C": ("1985/3/5", (1985, 3, 5)), "D": ("1000-01-01", (1000, 1, 1))}
    report = import_csv(session, write_csv(tmp_path, [row(reference_code=k, event_date=v[0]) for k, v in dates.items()]))
    assert report.errors == []
    for code, (_, expected) in dates.items():
        stored = record(session, code)
        assert (stored.event_year, stored.event_month, stored.event_day) == expected


@pytest.mark.parametrize("text", ["0999", "2999", "1985-3-", "1985-02-29", "1985-00", "1985-01-00", "一九八五", ""])
def test_impossible_or_malformed_dates_are_refused(session, tmp_path, text):
    report = import_csv(session, write_csv(tmp_path, [row(event_date=text)]))
    assert report.inserted == 0 and ("日期格式错误" in report.errors[0][1] or "缺少日期" in report.errors[0][1])


def test_chinese_category_and_access_labels_are_accepted(session, tmp_path):
    rows = [row(category="婚姻登记", access_level="限制利用"), row(reference_code="R-2", category="林权", access_level="控制使用"),
            row(reference_code="R-3", category="Land_Contract", access_level="")]
    assert import_csv(session, write_csv(tmp_path, rows)).errors == []
    assert (record(session, "J032-1985-0147").category, record(session, "J032-1985-0147").access_level) == (
        "marriage", "restricted")
    assert (record(session, "R-2").category, record(session, "R-2").access_level) == ("forest_rights", "closed")
    assert (record(session, "R-3").category, record(session, "R-3").access_level) == ("land_contract", "open")


def test_unknown_archive_is_created_once_from_its_name(session, factory, tmp_path):
    factory.archive(code="451200", name="河池市档案馆")
    rows = [row(archive_code="451203", archive_name="河池市宜州区档案馆"),
            row(archive_code="451203", archive_name="", reference_code="R-2"),
            row(archive_code="451200", archive_name="", reference_code="R-3")]
    report = import_csv(session, write_csv(tmp_path, rows))
    assert (report.inserted, report.errors, report.archives_created) == (3, [], ["451203"])
    assert session.scalar(select(Archive.name).where(Archive.code == "451203")) == "河池市宜州区档案馆"
    assert count(session, Archive) == 2


def test_reimporting_the_same_file_changes_nothing(session, tmp_path):
    path = write_csv(tmp_path, [row(), row(reference_code="R-2", subject_id_number="", event_date="1985"),
                                row(reference_code="R-3", place="", summary="")])
    assert import_csv(session, path).inserted == 3
    before = dict(session.execute(select(Record.id, Record.updated_at)).all())
    encrypted = dict(session.execute(select(Record.id, Record.subject_id_enc)).all())
    outbox = count(session, SearchOutbox)
    report = import_csv(session, path)
    assert (report.inserted, report.updated, report.unchanged, report.errors) == (0, 0, 3, [])
    session.expire_all()
    assert dict(session.execute(select(Record.id, Record.updated_at)).all()) == before
    assert dict(session.execute(select(Record.id, Record.subject_id_enc)).all()) == encrypted
    assert count(session, SearchOutbox) == outbox


def test_a_changed_row_is_updated_and_queued_once(session, tmp_path):
    import_csv(session, write_csv(tmp_path, [row(), row(reference_code="R-2")]))
    unchanged_before = record(session, "R-2").updated_at
    stored = record(session, "J032-1985-0147")
    created, updated = stored.created_at, stored.updated_at
    outbox_before = set(session.scalars(select(SearchOutbox.id)))
    report = import_csv(session, write_csv(tmp_path, [row(title="结婚登记申请书"), row(reference_code="R-2")]))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    changed = record(session, "J032-1985-0147")
    assert changed.title == "结婚登记申请书" and changed.updated_at > updated
    assert changed.created_at == created
    assert record(session, "R-2").updated_at == unchanged_before
    new_rows = session.scalars(select(SearchOutbox).where(SearchOutbox.id.not_in(outbox_before))).all()
    assert [o.record_id for o in new_rows] == [changed.id]


def test_a_changed_id_number_is_encrypted_anew(session, tmp_path):
    import_csv(session, write_csv(tmp_path, [row()]))
    other = make_id_number("451202", "19700101", 456)
    report = import_csv(session, write_csv(tmp_path, [row(subject_id_number=other.lower())]))
    assert report.updated == 1
    stored = record(session, "J032-1985-0147")
    assert cipher().decrypt(stored.subject_id_enc) == other
    assert stored.subject_id_hash == cipher().lookup_hash(other)
    assert import_csv(session, write_csv(tmp_path, [row(subject_id_number="")])).updated == 1
    assert record(session, "J032-1985-0147").subject_id_enc is None


def test_rows_spanning_several_batches_import_like_one_batch(session, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 3)
    rows = [row(reference_code=f"R-{i}") for i in range(8)] + [row(reference_code="R-1")]
    report = import_csv(session, write_csv(tmp_path, rows))
    assert (report.inserted, [line for line, _ in report.errors]) == (8, [10])
    assert count(session, SearchOutbox) == 8
    report = import_csv(session, write_csv(tmp_path, rows[:4] + [row(reference_code="R-9")]))
    assert (report.inserted, report.unchanged) == (1, 4)


def test_progress_is_reported_in_lines(session, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    calls = []
    import_csv(session, write_csv(tmp_path, [row(reference_code=f"R-{i}") for i in range(5)]),
               progress=lambda done, total: calls.append((done, total)))
    assert calls == [(3, 6), (5, 6), (6, 6)]


def _invoke(app, *args):
    return app.test_cli_runner().invoke(args=["import", *map(str, args)])


def test_cli_prints_the_summary_and_exits_0(app, session, tmp_path):
    result = _invoke(app, write_csv(tmp_path, [row(), row(reference_code="R-2")]))
    assert result.exit_code == 0, result.output
    assert "导入完成：新增 2 条，更新 0 条，未变 0 条，错误 0 行" in result.stdout
    again = _invoke(app, tmp_path / "catalog.csv")
    assert "新增 0 条，更新 0 条，未变 2 条" in again.stdout and again.exit_code == 0


def test_cli_lists_bad_rows_and_exits_1(app, session, tmp_path):
    result = _invoke(app, write_csv(tmp_path, [row(), row(reference_code="R-2", category="未知")]))
    assert result.exit_code == 1
    assert "第 3 行：未知类别“未知”" in result.stderr
    assert "新增 1 条" in result.stdout and "错误 1 行" in result.stdout


def test_cli_refuses_a_gbk_file_with_exit_2_and_no_traceback(app, session, tmp_path):
    result = _invoke(app, write_csv(tmp_path, [row()], encoding="gbk"))
    assert result.exit_code == 2
    assert "不是 UTF-8 编码" in result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert count(session, Record) == 0


def test_cli_refuses_a_wrong_header_with_exit_2(app, session, tmp_path):
    result = _invoke(app, write_csv(tmp_path, [], header=["a", "b"]))
    assert result.exit_code == 2 and "表头不正确" in result.stderr
