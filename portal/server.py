"""`portal serve` (and so `make run`): gunicorn with gthread workers — by default one per core,
each with a few threads (PORTAL_WORKERS, PORTAL_THREADS) — and the background work (search-index
sync, mail, draft purge, and rendering certificates for every worker: portal.certificates.renderer)
once, in a process of its own beside them, not once per worker.
PORTAL_DEV=1 keeps Werkzeug's reloading development server (portal.cli).

Shutdown and restart are graceful: gunicorn lets the workers finish the requests under way
(GRACEFUL_SECONDS), and the background process finishes the round it is in. Every piece of
background work lives in the database (the search and mail outboxes), one transaction per round:
whatever is cut short is rolled back and done by the next process, nothing is lost."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from flask import Flask
from gunicorn.app.base import BaseApplication

GRACEFUL_SECONDS = 30


def worker_count() -> int:
    return max(1, int(os.environ.get("PORTAL_WORKERS") or os.cpu_count() or 1))


def thread_count() -> int:
    return max(1, int(os.environ.get("PORTAL_THREADS") or 4))


def run_background() -> None:
    """The background process (`python -m portal.server`): every background worker of the app,
    until SIGTERM or SIGINT. Its settings come from the environment, as the web workers' do."""
    from portal import create_app
    from portal.certificates.renderer import KEY_ENV, SOCKET_ENV, RendererService
    from portal.core.background import start_now, stop_all
    from portal.workers import start_in_each_process

    app = create_app()
    renderer = None
    if os.environ.get(SOCKET_ENV) and os.environ.get(KEY_ENV):
        renderer = RendererService(os.environ[SOCKET_ENV], os.environ[KEY_ENV]).start()
    start_in_each_process(app)  # registers them
    start_now(app)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    stop_all(app)
    if renderer is not None:
        renderer.stop()


class PortalServer(BaseApplication):
    """gunicorn around the app `portal serve` made (its links already point where it serves)."""

    def __init__(self, app: Flask, host: str, port: int, workers: int, threads: int):
        self.app, self.bind = app, f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.workers, self.threads = workers, threads
        self.background: subprocess.Popen | None = None
        # The certificate renderer's socket, in a folder only this user can open, and the key a
        # worker proves it is one of ours with (the workers read both from the app's config).
        self.run_dir = tempfile.mkdtemp(prefix="portal-run-")
        app.config["RENDERER_SOCKET"] = os.path.join(self.run_dir, "renderer.sock")
        app.config["RENDERER_KEY"] = secrets.token_hex(32)
        super().__init__()

    def load_config(self) -> None:
        settings = {
            "bind": self.bind, "workers": self.workers, "worker_class": "gthread", "threads": self.threads,
            "graceful_timeout": GRACEFUL_SECONDS, "timeout": 60, "keepalive": 5,
            "proc_name": "portal", "control_socket_disable": True, "when_ready": self._start_background, "on_exit": self._stop_background,
            "post_fork": self._after_fork,
        }
        for name, value in settings.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        return self.app

    def _start_background(self, _server) -> None:
        # A process of its own, not a thread of the master: the master forks workers, and threads
        # in a process that forks are a classic deadlock. It reads the same settings, and the
        # address links point at (which `portal serve` may have just decided).
        env = {**os.environ, "PORTAL_PUBLIC_URL": self.app.config["PUBLIC_URL"],
               "PORTAL_TRUSTED_HOSTS": ",".join(self.app.config["TRUSTED_HOSTS"]),
               "PORTAL_RENDERER_SOCKET": self.app.config["RENDERER_SOCKET"],
               "PORTAL_RENDERER_KEY": self.app.config["RENDERER_KEY"]}
        self.background = subprocess.Popen([sys.executable, "-m", "portal.server"], env=env)

    def _stop_background(self, _server) -> None:
        if self.background is not None and self.background.poll() is None:
            self.background.terminate()  # SIGTERM: the round under way is finished first
            try:
                self.background.wait(GRACEFUL_SECONDS + 5)
            except subprocess.TimeoutExpired:
                self.background.kill()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def _after_fork(self, _server, _worker) -> None:
        from portal.db import db

        db.dispose(self.app)  # no database connection is shared with the master or a sibling


def serve(app: Flask, host: str, port: int) -> None:
    import gunicorn.http.wsgi

    gunicorn.http.wsgi.SERVER = "portal"  # the Server header: no version banner
    app.config["BACKGROUND_WORKERS"] = "elsewhere"  # the web workers leave it to the background process
    PortalServer(app, host, port, worker_count(), thread_count()).run()


if __name__ == "__main__":
    run_background()
