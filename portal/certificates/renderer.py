"""Certificates are rendered in one process for the whole server, not in every web worker.

Typst keeps what it read to render a certificate — the four Noto CJK collections (93 MB) and its
caches, about 110 MB — for the life of the process. Under `portal serve` (portal.server) the
background process renders for every worker: the workers send it a certificate's content over a
Unix socket (multiprocessing.connection, in a private folder, with a key made for that run) and
get the PDF back; Typst works without the GIL, so renders from several workers run at once.

Everywhere else — the development server, the CLI, tests — and whenever the renderer cannot be
reached (it is still starting, or gone), the worker renders itself, as before: a certificate is
never refused because of where it is drawn. The bytes are the same either way (the PDF depends
only on its content).
"""
from __future__ import annotations

import logging
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener

from flask import current_app

from portal.certificates import pdf
from portal.certificates.document import CertificateContent

log = logging.getLogger(__name__)

SOCKET_ENV, KEY_ENV = "PORTAL_RENDERER_SOCKET", "PORTAL_RENDERER_KEY"
# A render takes tens of milliseconds; one that takes this long is stuck.
TIMEOUT_SECONDS = 60


class RendererFailed(RuntimeError):
    """The renderer took the content and could not render it (Typst's error in the message)."""


def render(content: CertificateContent) -> bytes:
    """The certificate's unsigned PDF: from the server's renderer when it has one, else here."""
    address, key = current_app.config.get("RENDERER_SOCKET"), current_app.config.get("RENDERER_KEY")
    if not address or not key:
        return pdf.render(content)
    try:
        conn = Client(address, family="AF_UNIX", authkey=key.encode())
    except OSError as exc:  # not listening yet, or gone: render here rather than refuse
        log.warning("certificate renderer at %s unreachable (%s): rendering in this process", address, exc)
        return pdf.render(content)
    with conn:
        conn.send(content)
        if not conn.poll(TIMEOUT_SECONDS):
            raise RendererFailed(f"certificate renderer gave no answer in {TIMEOUT_SECONDS} s")
        kind, value = conn.recv()
    if kind == "pdf":
        return value
    if kind == "fonts_missing":
        raise pdf.FontsMissing(value)
    raise RendererFailed(value)


class RendererService:
    """The renderer's side: a thread that accepts workers' connections, one thread per render."""

    def __init__(self, address: str, key: str) -> None:
        self.listener = Listener(address, family="AF_UNIX", authkey=key.encode())
        self._thread = threading.Thread(target=self._accept, name="certificate-renderer", daemon=True)
        self._closed = threading.Event()

    def start(self) -> RendererService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closed.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn = self.listener.accept()
            except (OSError, EOFError, AuthenticationError):  # closed by stop(), or a caller without the key
                if self._closed.is_set():
                    return
                log.warning("certificate renderer: a connection without the key was refused")
                continue
            threading.Thread(target=self._serve, args=(conn,), name="certificate-render", daemon=True).start()

    @staticmethod
    def _serve(conn: Connection) -> None:
        with conn:
            try:
                content = conn.recv()
                answer: tuple[str, object] = ("pdf", pdf.render(content))
            except pdf.FontsMissing as exc:
                answer = ("fonts_missing", exc.missing)
            except Exception as exc:  # noqa: BLE001 — the worker raises it; the details are logged here
                log.exception("certificate renderer")
                answer = ("error", f"certificate renderer: {exc}")
            try:
                conn.send(answer)
            except OSError:  # the worker gave up waiting
                log.warning("certificate renderer: the worker left before its answer")
