"""Importing catalog records from a CSV or XLSX file (`portal import`, and the import pages of
portal.admin.importing), as archives export them from their own systems or from spreadsheets.

A file that cannot be read as a whole (not UTF-8, wrong header) is refused before anything is
written. Otherwise each bad row is reported with its line number and skipped, and the good rows
are written in batches, one transaction each with their search-outbox rows, so that 100,000 rows
take seconds. Rows are matched on (archive code, reference code): importing the same file again
changes nothing. A dry run (the import page's report) goes through the same checks and writes
nothing."""
from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO, TextIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from portal.archives.models import Archive
from portal.audit.service import log
from portal.catalog.csv_input import ImportFileError, Rows, column_layout, csv_rows
from portal.catalog.xlsx_input import open_table
from portal.core.punctuation import punct
from portal.catalog.models import Record
from portal.catalog.outbox import queue_index
from portal.core.categories import ACCESS_LEVELS, CATEGORIES
from portal.core.idnumber import InvalidIdNumber, normalize_id_number
from portal.core.personal_data import cipher
from portal.core.clock import utcnow

__all__ = ["HEADER", "ImportFileError", "ImportReport", "import_csv", "import_file", "import_rows"]

HEADER = ("archive_code", "archive_name", "reference_code", "category", "title", "subject_name",
          "subject_id_number", "event_date", "place", "summary", "access_level")
BATCH_SIZE = 2000
MAX_CELL_CHARS = 4000  # a summary is a paragraph; a longer cell is a column mix-up
# What decides whether a re-imported row changed. ID numbers compare by lookup hash: the
# encryption is randomized, so the same number never encrypts to the same text twice.
COMPARED = ("category", "title", "subject_name", "subject_id_hash", "event_year", "event_month", "event_day",
            "place", "summary", "access_level")
# People export from spreadsheets that show the Chinese labels, so both forms are accepted.
_CATEGORY = {**{code: code for code in CATEGORIES}, **{label: code for code, label in CATEGORIES.items()}}
_ACCESS = {**{code: code for code in ACCESS_LEVELS}, **{label: code for code, label in ACCESS_LEVELS.items()}, "": "open"}
# Spreadsheets rewrite 1985-03-05 as 1985/3/5, so the separator and zero-padding are lenient.
_DATE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
_REQUIRED = (("archive_code", _l("缺少档案馆代码")), ("reference_code", _l("缺少档号")), ("title", _l("缺少题名")))
_LIMITS = (("archive_code", 12, _l("档案馆代码")), ("archive_name", 100, _l("档案馆名称")),
           ("reference_code", 64, _l("档号")), ("title", 300, _l("题名")), ("subject_name", 50, _l("姓名")),
           ("place", 200, _l("地点")))
# A Core insert on the table: the ORM's bulk insert splits rows into a statement per pattern of
# NULL values, which made 100,000 rows ~3x slower. Every column is given explicitly anyway.
_INSERT = insert(Record.__table__).returning(Record.__table__.c.id)


@dataclass
class ImportReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    archives_created: list[str] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        return _("新增 %(inserted)s 条，更新 %(updated)s 条，未变 %(unchanged)s 条，错误 %(bad)s 行",
                 inserted=self.inserted, updated=self.updated, unchanged=self.unchanged, bad=self.bad)


Progress = Callable[[int, int | None], None]


def import_csv(session: Session, source: str | os.PathLike | BinaryIO | TextIO, progress: Progress | None = None,
               *, actor=None, source_name: str = "") -> ImportReport:
    """Import a CSV file (path or open file); `progress(lines_done, lines_total)` after each batch.
    Raises ImportFileError, before writing anything, when the file cannot be read at all."""
    with ExitStack() as stack:
        return import_rows(session, csv_rows(source, stack), progress, actor=actor, source_name=source_name)


def import_file(session: Session, path: str | os.PathLike, progress: Progress | None = None, *, actor=None,
                source_name: str = "") -> ImportReport:
    """Import a CSV or XLSX file (what it holds decides, not its name); no row limit."""
    with ExitStack() as stack:
        table = open_table(path, str(path), stack, capped=False)
        return import_rows(session, table, progress, actor=actor, source_name=source_name)


def import_rows(session: Session, rows: Rows, progress: Progress | None = None, *, actor=None, source_name: str = "",
                dry_run: bool = False, archive_code: str | None = None) -> ImportReport:
    """Import a table's rows (portal.catalog.csv_input.Rows, from a CSV or XLSX file). A dry run
    writes nothing and reports what an import would do. With `archive_code`, rows of any other
    archive are refused (an archive's own import page) and no archive is created."""
    report = ImportReport()
    layout = column_layout(rows.header, HEADER)
    archives = dict(session.execute(select(Archive.code, Archive.id).where(Archive.node.is_(None))).all())
    new_archives: dict[str, str] = {}  # code → name, created with the batch that first needs them
    seen: dict[tuple[str, str], int] = {}
    batch: list[dict] = []
    line = 1
    for start, cells, stopped in rows.rows:
        line = start
        if stopped:
            report.errors.append((start, stopped))
            break
        if not any(c.strip() for c in cells):
            continue  # blank lines and the empty rows spreadsheets leave at the end
        row, problems = _check_row(cells, layout)
        if row:
            key = (row["archive_code"], row["reference_code"])
            code = row["archive_code"]
            if archive_code is not None and code != archive_code:
                problems.append(_("不属于本馆：此行的档案馆代码为 %(code)s，本页只导入 %(own)s 的条目",
                                  code=code, own=archive_code))
            elif key in seen:
                problems.append(_("重复的档号 %(code)s（与第 %(line)s 行相同）", code=key[1], line=seen[key]))
            if archive_code is None and code not in archives and code not in new_archives and not row["archive_name"]:
                problems.append(_("未知的档案馆代码 %(code)s：新建档案馆须填写 archive_name", code=code))
        if problems:
            report.errors.append((start, punct("semicolon").join(problems)))
            continue
        seen[key] = start
        if code not in archives:
            new_archives.setdefault(code, row["archive_name"])
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            _write_batch(session, batch, archives, new_archives, report, dry_run)
            if not dry_run and report.inserted + report.updated + report.unchanged == BATCH_SIZE:
                _refresh_statistics(session)
            batch = []
            if progress:
                progress(line, rows.total)
    _write_batch(session, batch, archives, new_archives, report, dry_run)
    if progress:
        progress(rows.total or line, rows.total)
    if dry_run:
        session.rollback()
        return report
    log(session, "catalog_import", actor=actor, object_type="catalog", object_id=source_name[:80],
        inserted=report.inserted, updated=report.updated, unchanged=report.unchanged, bad=report.bad,
        archives_created=report.archives_created)
    session.commit()
    return report


def _refresh_statistics(session: Session) -> None:
    """PostgreSQL plans each batch's look-up of reference codes from the table's statistics. For a
    table that was (nearly) empty when they were last taken they say "a few rows", and every look-up
    then reads all of the archive's rows (100 ms a batch at 80,000 rows: an import of 100,000 took
    minutes). One ANALYZE after the first batch gives the plan that uses the unique index."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE record"))
        session.commit()


def _check_row(cells: list[str], layout: list[int]) -> tuple[dict | None, list[str]]:
    """The row as record values, or the reasons it cannot be imported."""
    if any(len(c) > MAX_CELL_CHARS for c in cells):
        return None, [_("有单元格超过 %(limit)s 个字", limit=MAX_CELL_CHARS)]
    extra = cells[len(HEADER):]
    if len(cells) < len(HEADER) or any(c.strip() for c in extra):
        return None, [_("列数不对：应为 %(expected)s 列，实际 %(actual)s 列（内容含英文逗号时须用英文双引号括起来）",
                        expected=len(HEADER), actual=len(cells))]
    v = {name: cells[i].strip() for name, i in zip(HEADER, layout)}
    problems = [str(message) for name, message in _REQUIRED if not v[name]]
    problems += [_("%(field)s超过 %(limit)s 个字", field=label, limit=limit)
                 for name, limit, label in _LIMITS if len(v[name]) > limit]
    category = _CATEGORY.get(v["category"]) or _CATEGORY.get(v["category"].lower())
    if not category:
        problems.append(_("未知类别“%(value)s”", value=v["category"]) if v["category"] else _("缺少类别"))
    access = _ACCESS.get(v["access_level"]) or _ACCESS.get(v["access_level"].lower())
    if not access:
        problems.append(_("未知开放状态“%(value)s”（应为 open/restricted/closed 或 开放/限制利用/控制使用）",
                          value=v["access_level"]))
    when, problem = _parse_date(v["event_date"])
    if problem:
        problems.append(problem)
    id_number = id_hash = None
    if v["subject_id_number"]:
        try:
            id_number = normalize_id_number(v["subject_id_number"])
            id_hash = cipher().lookup_hash(id_number)
        except InvalidIdNumber as exc:
            problems.append(str(exc.args[0]))
    if problems:
        return None, problems
    return {"archive_code": v["archive_code"], "archive_name": v["archive_name"], "reference_code": v["reference_code"],
            "category": category, "title": v["title"], "subject_name": v["subject_name"], "subject_id": id_number,
            "subject_id_hash": id_hash, "event_year": when[0], "event_month": when[1], "event_day": when[2],
            "place": v["place"], "summary": v["summary"], "access_level": access}, []


def _parse_date(text: str) -> tuple[tuple[int, int | None, int | None] | None, str | None]:
    if not text:
        return None, _("缺少日期 event_date")
    match = _DATE.match(text)
    if not match:
        return None, _("日期格式错误“%(value)s”：应为 YYYY、YYYY-MM 或 YYYY-MM-DD", value=text)
    year, month, day = (int(g) if g else None for g in match.groups())
    today = date.today()
    if not 1000 <= year <= today.year:
        return None, _("日期格式错误“%(value)s”：年份应在 1000 至 %(year)s 之间", value=text, year=today.year)
    try:
        when = date(year, 1 if month is None else month, 1 if day is None else day)
    except ValueError:
        return None, _("日期格式错误“%(value)s”：没有这一天", value=text)
    if when > today:
        return None, _("日期格式错误“%(value)s”：晚于今天", value=text)
    return (year, month, day), None


# The same rules for a record edited by hand (portal.catalog.editing).
parse_date = _parse_date
CATEGORY_CODES = _CATEGORY


def _same(old, new) -> bool:
    # Rows written elsewhere may hold NULL where an import writes "": both mean "not given".
    return old == new or (not old and not new)


def _write_batch(session: Session, batch: list[dict], archives: dict[str, int], new_archives: dict[str, str],
                 report: ImportReport, dry_run: bool = False) -> None:
    """Insert the new rows, update the changed ones, queue both for indexing, commit (a dry run
    only counts them)."""
    if not batch:
        return
    if dry_run:  # rows of an archive still to be created are all new
        report.inserted += sum(1 for r in batch if r["archive_code"] not in archives)
        batch = [r for r in batch if r["archive_code"] in archives]
    for code in dict.fromkeys(r["archive_code"] for r in batch):
        if code not in archives:
            archive = Archive(code=code, name=new_archives[code])
            session.add(archive)
            session.flush()
            archives[code] = archive.id
            report.archives_created.append(code)
    wanted: dict[int, list[str]] = defaultdict(list)
    for r in batch:
        wanted[archives[r["archive_code"]]].append(r["reference_code"])
    existing = {}
    for archive_id, refs in wanted.items():
        for i in range(0, len(refs), 500):  # stays under every backend's bound-parameter limit
            query = select(Record.id, Record.reference_code, *(getattr(Record, c) for c in COMPARED)).where(
                Record.archive_id == archive_id, Record.reference_code.in_(refs[i:i + 500]))
            existing.update({(archive_id, row.reference_code): row for row in session.execute(query)})
    now = utcnow()
    inserts, updates, rekeyed = [], [], []
    for r in batch:
        archive_id = archives[r["archive_code"]]
        values = {c: r[c] for c in COMPARED}
        old = existing.get((archive_id, r["reference_code"]))
        if old is None:
            inserts.append(r if dry_run else {
                **values, "archive_id": archive_id, "reference_code": r["reference_code"],
                "subject_id_enc": _encrypt(r["subject_id"]), "created_at": now, "updated_at": now})
        elif all(_same(getattr(old, c), values[c]) for c in COMPARED):
            report.unchanged += 1
        elif dry_run or old.subject_id_hash == r["subject_id_hash"]:
            updates.append({**values, "id": old.id, "updated_at": now})
        else:
            rekeyed.append({**values, "id": old.id, "updated_at": now, "subject_id_enc": _encrypt(r["subject_id"])})
    if dry_run:
        report.inserted += len(inserts)
        report.updated += len(updates) + len(rekeyed)
        return
    ids = list(session.execute(_INSERT, inserts).scalars()) if inserts else []
    # ORM bulk UPDATE by primary key wants the same keys in every row, hence two groups.
    for group in (updates, rekeyed):
        if group:
            session.execute(update(Record), group)
    queue_index(session, ids + [u["id"] for u in updates + rekeyed])
    session.commit()
    report.inserted += len(ids)
    report.updated += len(updates) + len(rekeyed)


def _encrypt(id_number: str | None) -> str | None:
    return cipher().encrypt(id_number) if id_number else None
