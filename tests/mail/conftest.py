"""A real SMTP server on loopback (aiosmtpd), and helpers to read what it received."""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    """A loopback port nothing listens on (the OS picked it; it stays closed until we start a server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Collector:
    """aiosmtpd handler: keeps every message it accepted; refuses recipients listed in `refuse`."""

    refuse: set[str] = field(default_factory=set)
    received: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.received)


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.handler = Collector()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[EmailMessage]:
        return self.handler.messages()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_server(smtp_port):
    """Not yet listening: tests call start() (and may first try while it is down)."""
    server = SmtpServer(smtp_port)
    yield server
    server.stop()


@pytest.fixture
def smtp_app(app, smtp_port):
    app.config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_port, SMTP_SECURITY="none",
                      SMTP_TIMEOUT=5, MAIL_FROM="档案利用服务平台 <noreply@archives.example.cn>")
    return app
