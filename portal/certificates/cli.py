"""`portal keys init`: signing keys for every archive, from a development CA."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.db import db


@click.group("keys")
def keys_group() -> None:
    """Signing keys for certificates (证明签章密钥)."""


@keys_group.command("init")
@click.option("--force", is_flag=True,
              help="Replace the archives' existing keys and certificates (the CA is always kept).")
@with_appcontext
def init_command(force: bool) -> None:
    """Create a development CA and a signing key and certificate for each archive that has none.

    Writes into SIGNING_KEYS_DIR (PORTAL_SIGNING_KEYS_DIR, default DATA_DIR/keys). Existing keys
    are kept, so running it again after adding an archive only adds that archive's key. Keys are
    encrypted with PORTAL_SIGNING_KEY_PASSPHRASE when it is set."""
    from sqlalchemy import select

    from portal.archives.models import Archive
    from portal.certificates.service import passphrase
    from portal.certificates.signing import init_keys

    keys_dir = current_app.config["SIGNING_KEYS_DIR"]
    archives = [(a.code, a.name) for a in db.session.scalars(select(Archive).where(Archive.node.is_(None)).order_by(Archive.code))]
    if not archives:
        click.echo("数据库中还没有档案馆，先运行 portal seed-demo 或导入目录 (no archives in the database yet)", err=True)
        sys.exit(1)
    try:
        written = init_keys(keys_dir, archives, force=force, passphrase=passphrase())
    except (RuntimeError, ValueError, TypeError) as exc:
        click.echo(f"无法创建签章密钥 (cannot create signing keys): {exc}", err=True)
        sys.exit(2)
    names = {path.name for path in written}
    if "ca.cert.pem" in names:
        click.echo(f"已创建开发测试根证书 (created development CA): {keys_dir / 'ca.cert.pem'}")
    for code, name in archives:
        if f"{code}.cert.pem" in names:
            click.echo(f"已创建 {code} {name} 的签章密钥 (created key and certificate)")
        else:
            click.echo(f"保留 {code} {name} 的现有签章密钥 (kept existing key)")
    click.echo(f"密钥目录 (keys folder): {keys_dir}")
