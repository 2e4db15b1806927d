"""Benchmark: `portal import` of a 100,000-row CSV and `portal seed-demo --records 100000`.

Runs on a fresh SQLite data dir under bench/out/ (or, with --database-url, on a PostgreSQL
database whose public schema it DROPS and recreates), through the same service functions the
commands call, and prints a Markdown snippet for docs. Target: the import well under 60 s.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--seed-records 100000]

With --job (and --xlsx for a workbook instead of a CSV) it measures the browser's path instead
(portal.admin.importing): the upload's checks, the dry-run job and the import job, as the job
worker runs them, for one archive; it prints its figures (docs/admin-import.md holds them).

    .venv/bin/python bench/import_bench.py --job [--xlsx] [--rows 100000]
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import shlex
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, sys.path[0] is bench/, where queue.py would stand in for the standard library's.
sys.path[0] = str(ROOT)

from sqlalchemy import text  # noqa: E402

from bench.common import cpu_model, replace_section  # noqa: E402
from portal import create_app  # noqa: E402
from portal.catalog.demo import RecordGenerator, seed_demo  # noqa: E402
from portal.catalog.demo_data import ARCHIVES  # noqa: E402
from portal.catalog.importer import HEADER, import_csv  # noqa: E402
from portal.db import db, make_engine  # noqa: E402
from portal.migrate import upgrade  # noqa: E402


def write_csv(path: Path, rows: int, seed: int) -> None:
    """The demo generator's rows as an archive would export them (Excel's BOM and CRLF included)."""
    names = {a.code: a.name for a in ARCHIVES}
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(HEADER)
        for r in RecordGenerator(seed).catalog(rows):
            when = "-".join(f"{p:02d}" for p in (r["event_year"], r["event_month"], r["event_day"]) if p)
            writer.writerow([r["archive_code"], names[r["archive_code"]], r["reference_code"], r["category"],
                             r["title"], r["subject_name"], r["subject_id"] or "", when, r["place"], r["summary"],
                             r["access_level"]])


def write_one_archive(path: Path, rows: int, seed: int, code: str, xlsx: bool) -> None:
    """The same rows, all of archive `code` (reference codes made unique across the demo's archives)."""
    cells = ([code, "", f"{r['archive_code']}-{r['reference_code']}", r["category"], r["title"], r["subject_name"],
              r["subject_id"] or "", "-".join(f"{p:02d}" for p in (r["event_year"], r["event_month"], r["event_day"]) if p),
              r["place"], r["summary"], r["access_level"]] for r in RecordGenerator(seed).catalog(rows))
    if xlsx:
        from openpyxl import Workbook
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(HEADER)
        for line in cells:
            sheet.append(line)
        book.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(cells)


def job_path(args) -> None:
    """Upload, dry run and import through the job handlers, twice (the second changes nothing)."""
    from portal.admin import importing, jobs
    from portal.archives.models import Archive

    kind = "xlsx" if args.xlsx else "csv"
    path = args.out / f"catalog-one-archive-{args.rows}.{kind}"
    _, gen_seconds = timed(lambda: write_one_archive(path, args.rows, 42, ARCHIVES[0].code, args.xlsx))
    size_mb = path.stat().st_size / 1e6
    print(f"wrote {path} ({size_mb:.1f} MB) in {gen_seconds:.1f} s", file=sys.stderr)
    app = fresh_app(args.out / "job-data", args.database_url)
    results = []
    with app.app_context():
        archive = Archive(code=ARCHIVES[0].code, name=ARCHIVES[0].name)
        db.session.add(archive)
        db.session.commit()
        for attempt in ("empty DB", "same file again"):
            with path.open("rb") as f:
                job, seconds = timed(lambda: importing.start(db.session, archive, None, f, path.name, "zh_Hans_CN"))
            results.append((f"upload ({kind}): save, check kind and header; {attempt}", seconds, args.rows, ""))
            _, seconds = timed(lambda: jobs.run_pending(db.session))
            check = importing.check_of(db.session, job)
            r = check.result
            results.append((f"dry-run job; {attempt}", seconds, args.rows,
                            f"add {r['inserted']}, update {r['updated']}, unchanged {r['unchanged']}, refused {r['refused']}"))
            jobs.queue(db.session, job)
            _, seconds = timed(lambda: jobs.run_pending(db.session))
            db.session.refresh(job)
            r = job.result
            assert job.status == "done" and r["refused"] == 0, (job.status, job.error, r.get("errors", [])[:3])
            results.append((f"import job; {attempt}", seconds, args.rows,
                            f"added {r['inserted']}, updated {r['updated']}, unchanged {r['unchanged']}"))
    db.dispose(app)
    backend = "PostgreSQL" if args.database_url else f"SQLite {sqlite3.sqlite_version}"
    command = " ".join(shlex.quote(a) for a in [os.path.relpath(sys.executable, ROOT), "bench/import_bench.py",
                                                *sys.argv[1:]])
    lines = [f"Machine: {os.cpu_count()} CPUs (`nproc`), {cpu_model()}; Python {platform.python_version()}; "
             f"{backend}. File: {size_mb:.1f} MB {kind}.", "", f"Command: `{command}`", "",
             "| step | wall time | rows/s | result |", "|---|---:|---:|---|"]
    lines += [f"| {step} | {seconds:.1f} s | {rows / seconds:,.0f} | {note} |" for step, seconds, rows, note in results]
    print("\n".join(lines))


def fresh_app(data_dir: Path, database_url: str | None):
    """An app on an empty, migrated database."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    url = database_url or f"sqlite:///{data_dir / 'portal.db'}"
    if database_url:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"DATA_DIR": data_dir, "DATABASE_URL": url})
    with app.app_context():
        upgrade(db.engine)
    return app


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the imported CSV")
    parser.add_argument("--seed-records", type=int, default=100_000, help="records for seed_demo (0 skips it)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--database-url", help="PostgreSQL URL; its public schema is DROPPED. Default: SQLite")
    parser.add_argument("--job", action="store_true", help="the browser's path: upload, dry-run job, import job")
    parser.add_argument("--xlsx", action="store_true", help="with --job: an XLSX workbook instead of a CSV file")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.job:
        job_path(args)
        return
    backend = "PostgreSQL" if args.database_url else f"SQLite {sqlite3.sqlite_version}"

    csv_path = args.out / f"catalog-{args.rows}.csv"
    _, gen_seconds = timed(lambda: write_csv(csv_path, args.rows, seed=42))
    size_mb = csv_path.stat().st_size / 1e6
    print(f"wrote {csv_path} ({size_mb:.1f} MB) in {gen_seconds:.1f} s", file=sys.stderr)

    results = []
    app = fresh_app(args.out / "import-data", args.database_url)
    with app.app_context():
        report, seconds = timed(lambda: import_csv(db.session, csv_path))
        assert report.inserted == args.rows and not report.errors, report.summary()
        results.append((f"`portal import` {args.rows:,} rows, empty DB", seconds, args.rows, report.summary()))
        report, seconds = timed(lambda: import_csv(db.session, csv_path))
        assert report.unchanged == args.rows, report.summary()
        results.append(("`portal import` same file again", seconds, args.rows, report.summary()))
    db.dispose(app)

    if args.seed_records:
        app = fresh_app(args.out / "seed-data", args.database_url)
        with app.app_context():
            summary, seconds = timed(lambda: seed_demo(db.session, records=args.seed_records, seed=1))
            results.append((f"`portal seed-demo --records {args.seed_records:,}`", seconds, summary.records,
                            f"{summary.records} 条，16 个账号（argon2 默认参数）"))
        db.dispose(app)

    command = " ".join(shlex.quote(a) for a in [os.path.relpath(sys.executable, ROOT), "bench/import_bench.py",
                                                *sys.argv[1:]])
    lines = [f"Machine: {os.cpu_count()} CPUs (`nproc`), {cpu_model()}; Python {platform.python_version()}; "
             f"{backend}. CSV: {size_mb:.1f} MB, UTF-8 with BOM, CRLF.", "",
             f"Command: `{command}`", "", "Target: 100,000 rows import well under a minute on the embedded default.", "",
             "| step | wall time | rows/s | result |", "|---|---:|---:|---|"]
    lines += [f"| {step} | {seconds:.1f} s | {rows / seconds:,.0f} | {note} |" for step, seconds, rows, note in results]
    text = "\n".join(lines)
    print(text)
    section = "import-postgresql" if args.database_url else "import"
    replace_section(ROOT / "docs" / "benchmarks.md", section, f"### Catalog import and demo seeding ({backend})", text)


if __name__ == "__main__":
    main()
