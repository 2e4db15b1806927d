"""Catalog commands: import a CSV, seed demo data."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(path: str) -> None:
    """Import catalog records from a UTF-8 CSV file."""


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load deterministic demo data."""
