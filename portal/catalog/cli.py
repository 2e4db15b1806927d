"""Catalog commands: import a CSV, seed demo data. They print; the work is in importer and demo."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from tqdm import tqdm

from portal.db import db

# Beyond this many, a list of bad rows stops helping: the file needs fixing as a whole.
MAX_ERRORS_SHOWN = 200


def _progress_bar(unit: str, desc: str, total: int | None = None):
    """A tqdm bar on stderr (only on a terminal, so logs and pipes stay clean), and a hook for
    services that report (done, total) rather than increments."""
    bar = tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, disable=not sys.stderr.isatty(),
               dynamic_ncols=True)

    def update(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    return bar, update


def _sync_index() -> None:
    """Bring the search index up to date now; if the engine is down the changes stay queued."""
    from portal.catalog.indexing import sync_after_commit

    if waiting := sync_after_commit():
        click.echo(f"检索服务暂不可用：{waiting} 条变更已排队，恢复后自动同步（或运行 portal sync-index）", err=True)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(path: Path) -> None:
    """Import catalog records from a UTF-8 CSV file or an Excel workbook (.xlsx, first sheet).

    Header: archive_code,archive_name,reference_code,category,title,subject_name,
    subject_id_number,event_date,place,summary,access_level. Bad rows are listed and skipped;
    exit status 1 if there were any, 2 if the file could not be read at all."""
    from sqlalchemy.exc import IntegrityError

    from portal.catalog.importer import ImportFileError, import_file

    bar, update = _progress_bar("行", "导入")
    try:
        with bar:
            report = import_file(db.session, path, progress=update, source_name=path.name)
    except ImportFileError as exc:
        click.echo(f"无法导入 {path.name}：{exc}", err=True)
        sys.exit(2)
    except IntegrityError:
        # Another import wrote the same rows meanwhile; batches already committed are whole.
        db.session.rollback()
        click.echo("导入中断：同一批档号正被另一个导入写入。请稍后重新导入整个文件，已导入的行不会重复。", err=True)
        sys.exit(2)
    _sync_index()
    for line, reason in report.errors[:MAX_ERRORS_SHOWN]:
        click.echo(f"第 {line} 行：{reason}", err=True)
    if report.bad > MAX_ERRORS_SHOWN:
        click.echo(f"……另有 {report.bad - MAX_ERRORS_SHOWN} 行错误未列出", err=True)
    if report.archives_created:
        click.echo(f"新建档案馆：{', '.join(report.archives_created)}")
    click.echo(f"导入完成：{report.summary()}")
    if report.bad:
        click.echo("有错误的行已跳过，其余行已导入；改正后可重新导入整个文件，已导入的行不会重复。", err=True)
        sys.exit(1)


@click.command("seed-demo")
@click.option("--records", default=2000, show_default=True, type=click.IntRange(min=0),
              help="number of catalog records (the demo citizen's are always included)")
@click.option("--seed", default=1, show_default=True, type=int, help="the same seed gives the same data")
@click.option("--if-empty", is_flag=True, help="do nothing if any archive exists (used by `make run`)")
@click.option("--archives", default=None, help="only these demo archives, comma-separated codes (one node of a "
              "two-node demo: `make run-network`)")
@with_appcontext
def seed_demo_command(records: int, seed: int, if_empty: bool, archives: str | None) -> None:
    """Load deterministic demo data: 7 archives (or --archives), their staff, a demo citizen and RECORDS records."""
    from sqlalchemy import select

    from portal.archives.models import Archive
    from portal.catalog.demo import DemoDataExists, seed_demo

    session = db.session
    if if_empty and session.scalar(select(Archive.id).limit(1)):
        click.echo("数据库中已有档案馆，跳过演示数据 (database not empty, demo data skipped)")
        return
    bar, update = _progress_bar("条", "生成演示数据")
    try:
        with bar:
            codes = {code.strip() for code in archives.split(",") if code.strip()} if archives else None
            summary = seed_demo(session, records=records, seed=seed, progress=update, codes=codes)
    except DemoDataExists as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    _rebuild_index()  # one bulk load is much faster than draining every new record through the outbox
    from portal.review.demo import seed_demo_requests

    # The demo requests involve the Hechi archives; a node holding only some archives skips them.
    numbers = seed_demo_requests(session) if not archives or {"451200", "451202", "451203"} <= codes else []
    access = "，".join(f"{level} {summary.by_access[level]}" for level in ("open", "restricted", "closed"))
    click.echo(f"已生成演示数据：{len(summary.archives)} 个档案馆，{summary.records} 条档案条目（{access}），种子 {seed}")
    if numbers:
        click.echo(f"演示利用申请 (demo requests)：{'、'.join(numbers)}")
    click.echo("演示账号 (see README.md, section 演示账号 / Demo accounts)，统一密码 / password: " + summary.password)
    for account in summary.accounts:
        click.echo(f"  {account.email:<26} {account.role:<9} {account.name}  {account.note}")


def _rebuild_index() -> bool:
    """Rebuild the search index from the database, with a progress bar; False if the engine is down."""
    from sqlalchemy import func, select

    from portal.catalog.indexing import get_index, reindex
    from portal.catalog.models import Record
    from search_index import SearchUnavailable

    total = db.session.scalar(select(func.count()).select_from(Record))
    bar, _ = _progress_bar("条", "重建索引", total)
    try:
        with bar:
            count = reindex(db.session, get_index(), progress=bar.update)
    except SearchUnavailable as exc:
        db.session.rollback()
        click.echo(f"检索服务不可用，索引未重建（变更仍在队列中，恢复后运行 portal reindex）：{exc}", err=True)
        return False
    click.echo(f"已重建检索索引：{count} 条档案")
    return True


@click.command("sync-index")
@with_appcontext
def sync_index_command() -> None:
    """Apply queued catalog changes to the search index."""
    from portal.catalog.indexing import get_index, pending_count, sync_outbox
    from search_index import SearchUnavailable

    try:
        applied = sync_outbox(db.session, get_index())
    except SearchUnavailable as exc:
        db.session.rollback()
        click.echo(f"检索服务不可用，{pending_count(db.session)} 条变更仍在队列中，恢复后会自动同步：{exc}", err=True)
        sys.exit(1)
    click.echo(f"已同步 {applied} 条变更到检索索引")


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the database."""
    if not _rebuild_index():
        sys.exit(1)
