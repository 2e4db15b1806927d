"""The `portal` command line."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from portal.db import db


def _create_app(*_args) -> Flask:
    from portal import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main() -> None:
    """档案利用服务平台 — archive-utilization portal."""


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database schema, or migrate it to the latest version."""
    from portal.migrate import upgrade

    upgrade(db.engine)
    click.echo("数据库已就绪 (database ready)")


@click.command("create-user")
@click.option("--role", type=click.Choice(["citizen", "clerk", "reviewer", "archive_admin", "admin"]), required=True)
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option("--id-number", default=None)
@click.option("--phone", default="")
@click.option("--archive", "archive_code", default=None, help="archive code, required for clerks, reviewers and archive admins")
@click.option("--verified", is_flag=True, help="the citizen's identity was checked (ID card seen): verified at once")
@with_appcontext
def create_user_command(role, email, password, name, id_number, phone, archive_code, verified) -> None:
    """Create a citizen or a staff account, with the same checks as the web forms. A citizen is
    unverified (self-asserted) unless --verified says their ID card was checked."""
    from portal.accounts.service import create_user
    from portal.core.errors import ValidationFailed

    try:
        user = create_user(db.session, role=role, email=email, password=password, name=name,
                           id_number=id_number, phone=phone, archive_code=archive_code, verified=verified)
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            click.echo(f"{field}: {message}", err=True)
        sys.exit(2)
    level = "，身份已核验 (verified)" if user.is_verified else ("，身份未核验 (unverified)" if user.role == "citizen" else "")
    click.echo(f"已创建用户 {user.email}（{user.role}{level}）")


@click.command("set-password")
@click.option("--email", required=True)
@click.password_option(help="asked for twice when not given")
@with_appcontext
def set_password_command(email: str, password: str) -> None:
    """An administrator sets a new password for an account (staff get no reset link by email). The
    account's sessions, tokens and reset links end."""
    from portal.accounts.service import set_password
    from portal.core.errors import ValidationFailed

    try:
        user = set_password(db.session, email, password)
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            click.echo(f"{field}: {message}", err=True)
        sys.exit(2)
    click.echo(f"已为 {user.email} 设置新密码，其已登录的会话和访问令牌均已失效 (password set; sessions and tokens ended)")


@click.command("archive-task-days")
@click.argument("archive_code")
@click.argument("days", type=int)
@with_appcontext
def archive_task_days_command(archive_code: str, days: int) -> None:
    """Set how many working days ARCHIVE_CODE has to answer verification tasks (default 4)."""
    from portal.archives.service import set_task_due_days
    from portal.core.errors import ValidationFailed

    try:
        archive = set_task_due_days(db.session, archive_code, days)
    except ValidationFailed as exc:
        for message in exc.errors.values():
            click.echo(str(message), err=True)
        sys.exit(2)
    click.echo(f"{archive.name}：协办任务时限 {archive.task_due_working_days} 个工作日")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the portal: gunicorn (PORTAL_WORKERS processes, one per core by default, with
    PORTAL_THREADS threads each) and the background work once beside them (portal.server);
    PORTAL_DEV=1: Werkzeug's development server, reloading when the code changes."""
    import os
    from urllib.parse import urlsplit

    from portal.config import served_url

    app = current_app._get_current_object()
    if not os.environ.get("PORTAL_PUBLIC_URL"):
        # Links in emails and certificates point where this process serves, not at port 5000.
        app.config["PUBLIC_URL"] = served_url(host, port)
        if not os.environ.get("PORTAL_TRUSTED_HOSTS"):
            # The same list object the host check holds (portal.web): requests for that name are served.
            trusted, name = app.config["TRUSTED_HOSTS"], urlsplit(app.config["PUBLIC_URL"]).hostname
            if name not in trusted:
                trusted.append(name)
    click.echo(f"档案利用服务平台: http://{host}:{port}/  (Ctrl+C 退出)")
    if app.config.get("DEV"):
        _serve_for_development(app, host, port)
    else:
        from portal.server import serve

        serve(app, host, port)


def _serve_for_development(app: Flask, host: str, port: int) -> None:
    from werkzeug.serving import WSGIRequestHandler, run_simple

    from portal.workers import start_in_each_process

    class QuietHandler(WSGIRequestHandler):
        """No "Server: Werkzeug/3.x Python/3.x" banner: versions help only an attacker."""
        server_version, sys_version = "portal", ""

    start_in_each_process(app)
    run_simple(host, port, app, threaded=True, use_reloader=True, request_handler=QuietHandler)


def register_cli(app: Flask) -> None:
    from portal.catalog.cli import import_command, reindex_command, seed_demo_command, sync_index_command
    from portal.certificates.cli import keys_group
    from portal.mail.cli import send_mail_command
    from portal.actions.cli import act_command
    from portal.appraisal.cli import appraisal_group
    from portal.federation.cli import node_group, peers_group

    for command in (init_db_command, create_user_command, archive_task_days_command, serve_command, import_command,
                    seed_demo_command, sync_index_command, reindex_command, send_mail_command, keys_group, act_command,
                    purge_drafts_command, set_password_command, appraisal_group, node_group, peers_group):
        app.cli.add_command(command)


@click.command("purge-drafts")
@with_appcontext
def purge_drafts_command() -> None:
    """Delete draft uploads (files kept from application forms that failed their checks) older than
    their lifetime (7 days), rows and files. Serving processes also do it every hour."""
    from portal.requests.drafts import purge_drafts

    click.echo(f"已删除 {purge_drafts(db.session)} 个过期的暂存文件 (expired drafts deleted)")
