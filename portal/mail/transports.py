"""Where a finished message goes: a folder of .eml files (development) or an SMTP server."""
from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from portal.core.clock import utcnow


class MailConfigError(ValueError):
    """The mail settings name a transport or security mode that does not exist."""


class Transport(Protocol):
    def send(self, message: EmailMessage, outbox_id: int) -> None:
        """Deliver the message or raise; `outbox_id` names it where a name is useful."""


class FolderTransport:
    """Writes each message to `folder` as `<timestamp>-<outbox id>.eml`, for development and tests."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, message: EmailMessage, outbox_id: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%d-%H%M%S-%f}-{outbox_id}.eml"
        # Written under a hidden temporary name and renamed into place, so whoever watches the
        # folder never reads half a message.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(message.as_bytes())
            os.replace(tmp, self.folder / name)
        except BaseException:
            os.unlink(tmp)
            raise


class SmtpTransport:
    """Sends through the configured SMTP server, one connection per message."""

    def __init__(self, config: dict):
        self.host, self.port = config["SMTP_HOST"], config["SMTP_PORT"]
        self.user, self.password = config["SMTP_USER"], config["SMTP_PASSWORD"]
        self.security, self.timeout = config["SMTP_SECURITY"], config["SMTP_TIMEOUT"]
        if self.security not in ("none", "starttls", "ssl"):
            raise MailConfigError(f"SMTP_SECURITY 应为 none、starttls 或 ssl，当前为 {self.security!r} "
                                  f"(must be none, starttls or ssl)")

    def send(self, message: EmailMessage, outbox_id: int) -> None:
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=_tls())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=_tls())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()  # verifies the server's certificate and host name


def transport_for(config: dict) -> Transport:
    kind = config["MAIL_TRANSPORT"]
    if kind == "folder":
        return FolderTransport(config["MAIL_FOLDER"])
    if kind == "smtp":
        return SmtpTransport(config)
    raise MailConfigError(f"MAIL_TRANSPORT 应为 folder 或 smtp，当前为 {kind!r} (must be folder or smtp)")
