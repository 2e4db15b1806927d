"""The server's certificate renderer (portal.certificates.renderer) in a process of its own, as
`portal serve` runs it in the background process: the same bytes as rendering in the worker, a
missing font reported as such, callers without the key refused, and a renderer that cannot be
reached costs nothing but the worker's memory (it renders itself)."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client

import pytest
from flask import Flask

from portal.certificates import pdf, renderer
from portal.certificates.document import Attachment
from tests.certificate_pdf.conftest import found_content
from tests.files import pdf_bytes, png_bytes

SERVE = """
import sys, threading
from portal.certificates.renderer import RendererService
RendererService(sys.argv[1], sys.argv[2]).start()
print("ready", flush=True)
threading.Event().wait()
"""


def _start(address: str, key: str, **env) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", SERVE, address, key], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, **env})
    assert process.stdout.readline().strip() == "ready"
    return process


def _stop(process: subprocess.Popen) -> None:
    process.kill()
    process.wait(10)
    process.stdout.close()


@pytest.fixture
def running(tmp_path):
    address, key = str(tmp_path / "renderer.sock"), secrets.token_hex(32)
    process = _start(address, key)
    yield address, key, process
    _stop(process)


def _app(address: str | None, key: str | None) -> Flask:
    app = Flask(__name__)
    app.config.update(RENDERER_SOCKET=address, RENDERER_KEY=key)
    return app


def test_the_renderer_process_draws_the_same_bytes_as_the_worker(running):
    address, key, process = running
    content = found_content(attachments=(
        Attachment("扫描件.png", png_bytes(40, 30)), Attachment("原件.pdf", pdf_bytes(pages=2))))
    with _app(address, key).app_context():
        drawn = renderer.render(content)
    assert drawn == pdf.render(content)
    assert process.poll() is None


def test_a_caller_without_the_key_is_refused_and_the_renderer_goes_on(running):
    address, key, _ = running
    with pytest.raises(AuthenticationError):
        Client(address, family="AF_UNIX", authkey=b"not-the-key")
    with _app(address, key).app_context():
        assert renderer.render(found_content()).startswith(b"%PDF-")


def test_missing_fonts_in_the_renderer_are_reported_as_missing_fonts(tmp_path):
    address, key = str(tmp_path / "renderer.sock"), secrets.token_hex(32)
    (tmp_path / "no-fonts").mkdir()
    process = _start(address, key, PORTAL_CERTIFICATE_FONT_DIR=str(tmp_path / "no-fonts"))
    try:
        with _app(address, key).app_context(), pytest.raises(pdf.FontsMissing) as missing:
            renderer.render(found_content())
        assert missing.value.missing == list(pdf.REQUIRED_FAMILIES)
    finally:
        _stop(process)


def test_a_renderer_that_cannot_be_reached_leaves_the_worker_to_render(tmp_path, caplog):
    gone = str(tmp_path / "renderer.sock")  # nothing listens there
    started = time.monotonic()
    with _app(gone, secrets.token_hex(32)).app_context():
        drawn = renderer.render(found_content())
    assert drawn == pdf.render(found_content())
    assert time.monotonic() - started < 30  # no waiting on a renderer that is not there
    assert "rendering in this process" in caplog.text
