"""`portal appraisal due`: how many records of an archive are due for open appraisal, by category
(the same rule as the proposal of a new batch, portal.appraisal.service.due_conditions)."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.appraisal.service import Proposal, due_by_category
from portal.archives.models import Archive
from portal.core.categories import category_label
from portal.core.clock import china_today
from portal.db import db


@click.group("appraisal")
def appraisal_group() -> None:
    """开放鉴定 — open appraisal."""


@appraisal_group.command("due")
@click.option("--archive", "code", required=True, help="the archive's code")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="count to this date (YYYY-MM-DD), China time; default today")
@click.option("--category", default="", help="only this category (code)")
@with_appcontext
def due_command(code: str, as_of, category: str) -> None:
    """Records not yet open, formed 25 or more years before the date, in no batch under way and
    not postponed past it: the total, then one line per category (code, count, label)."""
    archive = db.session.scalar(select(Archive).where(Archive.code == code))
    if archive is None:
        click.echo(f"没有代码为 {code} 的档案馆 (no archive {code})", err=True)
        sys.exit(2)
    day = as_of.date() if as_of else china_today()
    counts = due_by_category(db.session, archive.id, Proposal(category=category, as_of=day))
    click.echo(f"{archive.code} {day.isoformat()} 到期待鉴定 (due): {sum(counts.values())}")
    for name, n in counts.items():
        click.echo(f"{name}\t{n}\t{category_label(name)}")
