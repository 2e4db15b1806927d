"""Benchmark: `portal import` of a 100,000-row CSV and `portal seed-demo --records 100000`.

Runs on a fresh SQLite data dir under bench/out/ (or, with --database-url, on a PostgreSQL
database whose public schema it DROPS and recreates), through the same service functions the
commands call, and prints a Markdown snippet for docs. Target: the import well under 60 s.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--seed-records 100000]
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
sys.path.insert(0, str(ROOT))

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
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
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
