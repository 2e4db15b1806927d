"""`portal serve` is a production server: gunicorn with gthread workers (PORTAL_WORKERS) and the
background work in one process of its own beside them — not once per worker — which sends the
mail; SIGTERM stops them all, gracefully. PORTAL_DEV=1 keeps Werkzeug's reloading server."""
from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.factories import make_id_number
from tests.helpers import free_port, wait_for_http

PORTAL = Path(sys.executable).with_name("portal")


@pytest.fixture
def data(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_PUBLIC_URL", "PORTAL_TRUSTED_HOSTS",
                                                               "DATABASE_URL", "PORTAL_DEV")}
    env.update(PORTAL_DATA_DIR=str(tmp_path / "data"), SEARCH_BACKEND="embedded", PORTAL_MAIL_SEND_INTERVAL="0.2",
               PYTHONUNBUFFERED="1", PORTAL_WORKERS="2", PORTAL_THREADS="2")
    run = dict(env=env, capture_output=True, text=True, timeout=120, check=True)
    subprocess.run([str(PORTAL), "init-db"], **run)
    subprocess.run([str(PORTAL), "create-user", "--role", "citizen", "--email", "serve@example.cn", "--password",
                    "Serve-test-passw0rd", "--name", "张三", "--id-number", make_id_number()], **run)
    return env, tmp_path


def _children(pid: int) -> list[str]:
    """The command lines of a process's children."""
    out = subprocess.run(["ps", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def _renders_certificates(server_pid: int) -> str:
    """The background process renders certificates for the workers: it answers on the socket
    `portal serve` gave it (the workers have the same address and key in their config)."""
    from flask import Flask

    from portal.certificates import renderer
    from tests.certificate_pdf.conftest import found_content

    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(server_pid)], capture_output=True, text=True).stdout
    background = next(int(line.split()[0]) for line in out.splitlines() if line.endswith("-m portal.server"))
    environ = dict(item.split("=", 1) for item in
                   Path(f"/proc/{background}/environ").read_text().split("\0") if "=" in item)
    app = Flask(__name__)
    app.config.update(RENDERER_SOCKET=environ[renderer.SOCKET_ENV], RENDERER_KEY=environ[renderer.KEY_ENV])
    deadline = time.monotonic() + 30
    while not os.path.exists(app.config["RENDERER_SOCKET"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert os.path.exists(app.config["RENDERER_SOCKET"])
    assert (os.stat(os.path.dirname(app.config["RENDERER_SOCKET"])).st_mode & 0o777) == 0o700
    with app.app_context():
        assert renderer.render(found_content()).startswith(b"%PDF-")
    return app.config["RENDERER_SOCKET"]


def _serve(env, tmp_path, **extra):
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(PORTAL), "serve", "--port", str(port)], env={**env, **extra}, stdout=out,
                                  stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(url, server, log)
    return server, url, log


def _forgot_password(url: str) -> None:
    """Ask for a reset link, as a browser would (the form's CSRF token from the page)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page = opener.open(url + "/password/forgot").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "email": "serve@example.cn"}).encode()
    opener.open(urllib.request.Request(url + "/password/forgot", data=body, headers={"Referer": url + "/"}))


def test_gunicorn_workers_and_one_background_process_that_sends_the_mail(data):
    env, tmp_path = data
    server, url, log = _serve(env, tmp_path)
    try:
        with urllib.request.urlopen(url + "/healthz") as answer:
            assert answer.status == 200 and answer.headers["Server"] == "portal"
        # gunicorn boots its workers one after the other: the first may answer before the second is up.
        deadline, children = time.monotonic() + 30, _children(server.pid)
        while sum("portal serve" in c for c in children) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            children = _children(server.pid)
        assert sum("portal serve" in c for c in children) == 2, children  # PORTAL_WORKERS
        assert sum(c.endswith("-m portal.server") for c in children) == 1, children
        assert "gthread" in log.read_text()
        renderer_socket = _renders_certificates(server.pid)

        _forgot_password(url)
        deadline, sent = time.monotonic() + 30, []
        while not sent and time.monotonic() < deadline:
            sent = list((tmp_path / "data" / "mail").glob("**/*.eml"))
            time.sleep(0.2)
        assert len(sent) == 1, log.read_text()
        message = email.message_from_bytes(sent[0].read_bytes(), policy=email.policy.default)
        assert f"{url}/password/reset/" in message.get_body(preferencelist=("plain",)).get_content()
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(40) == 0, log.read_text()
    assert _children(server.pid) == []  # the workers and the background process are gone too
    assert not os.path.exists(os.path.dirname(renderer_socket))  # its folder is removed
    assert "Traceback" not in log.read_text(), log.read_text()


def test_portal_dev_keeps_the_reloading_development_server(data):
    env, tmp_path = data
    server, url, log = _serve(env, tmp_path, PORTAL_DEV="1")
    try:
        assert "gunicorn" not in log.read_text()
        assert not any(c.endswith("-m portal.server") for c in _children(server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
