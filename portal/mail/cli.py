"""`portal send-mail`: send the outbox once, from cron or by hand."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.db import db


@click.command("send-mail")
@with_appcontext
def send_mail_command() -> None:
    """Send all email that is due now, once (serving processes also send it in the background)."""
    from portal.mail.service import send_pending
    from portal.mail.transports import MailConfigError

    try:
        report = send_pending(db.session, current_app.config, limit=None)
    except MailConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(f"已发送 {report.sent} 封，失败 {report.failed} 封，稍后重试 {report.retried} 封 "
               f"(sent {report.sent}, failed {report.failed}, retry later {report.retried})")
