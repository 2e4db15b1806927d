"""Start and stop a private Meilisearch server for tests.

Plain helper module (no pytest imports) so any conftest or benchmark can reuse it::

    server = MeiliServer.start()      # raises MeiliServerError with the reason
    ... server.url, server.master_key ...
    server.pause()                    # engine down: connections are refused
    server.resume()                   # back on the same port, with the same data
    server.stop()

The server listens on a free 127.0.0.1 port and keeps its database, dumps
and snapshots in its own temporary directory, which ``stop`` removes.
The binary is ``$MEILI_BINARY`` or ``<repo>/.tools/meilisearch``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.helpers import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = REPO_ROOT / ".tools" / "meilisearch"

# Talk to the local server directly even if the environment names an HTTP proxy.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MeiliServerError(RuntimeError):
    """The server could not be started; the message says why."""


class _PortTaken(MeiliServerError):
    pass


def binary_path() -> Path:
    return Path(os.environ.get("MEILI_BINARY") or DEFAULT_BINARY)


@dataclass
class MeiliServer:
    url: str
    master_key: str
    workdir: Path
    command: list[str] = field(repr=False)
    timeout: float = 30.0
    process: subprocess.Popen | None = field(default=None, repr=False)
    log: IO[bytes] | None = field(default=None, repr=False)

    @classmethod
    def start(cls, binary: str | Path | None = None, timeout: float = 30.0,
              indexing_threads: int | None = 1) -> MeiliServer:
        """``indexing_threads=1`` keeps a 2-core test machine responsive; None is
        Meilisearch's own default (benchmarks)."""
        exe = Path(binary) if binary else binary_path()
        if not exe.is_file() or not os.access(exe, os.X_OK):
            raise MeiliServerError(f"Meilisearch binary not found or not executable: {exe}")
        for _ in range(3):
            server = cls._prepare(exe, timeout, indexing_threads)
            try:
                server._launch()
                return server
            except _PortTaken:
                server.stop()  # another process grabbed the free port first; pick another
            except BaseException:
                server.stop()
                raise
        raise MeiliServerError("Meilisearch could not bind a free port in 3 attempts")

    @classmethod
    def _prepare(cls, exe: Path, timeout: float, indexing_threads: int | None) -> MeiliServer:
        workdir = Path(tempfile.mkdtemp(prefix="meili-test-"))
        port = free_port()
        key = secrets.token_hex(24)  # hex: a key starting with "-" would read as an option
        command = [
            str(exe),
            "--http-addr", f"127.0.0.1:{port}",
            f"--master-key={key}",
            "--env", "development",
            "--no-analytics",
            "--db-path", str(workdir / "data.ms"),
            "--dump-dir", str(workdir / "dumps"),
            "--snapshot-dir", str(workdir / "snapshots"),
        ]
        if indexing_threads is not None:
            command += ["--max-indexing-threads", str(indexing_threads)]
        return cls(url=f"http://127.0.0.1:{port}", master_key=key, workdir=workdir, command=command,
                   timeout=timeout)

    def _launch(self) -> None:
        """Run the server process and wait until /health answers."""
        if self.log is None:
            self.log = open(self.workdir / "meili.log", "ab")  # noqa: SIM115 - closed by stop()
        try:
            self.process = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT,
                                            cwd=self.workdir)
        except OSError as exc:
            raise MeiliServerError(f"cannot run {self.command[0]}: {exc}") from exc
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_tail()
                if "Address already in use" in tail:
                    raise _PortTaken(tail)
                raise MeiliServerError(f"Meilisearch exited with code {self.process.returncode}: {tail}")
            if self.healthy():
                return
            time.sleep(0.05)
        self._terminate()
        raise MeiliServerError(f"Meilisearch did not become healthy within {self.timeout:.0f}s: "
                               f"{self.log_tail()}")

    def healthy(self) -> bool:
        try:
            with _DIRECT.open(self.url + "/health", timeout=1) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, chars: int = 2000) -> str:
        if self.log is not None:
            self.log.flush()
        try:
            return (self.workdir / "meili.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def pause(self) -> None:
        """Stop the process but keep its data: the engine is down until resume()."""
        self._terminate()

    def resume(self) -> None:
        """Start again on the same port with the same key and data."""
        if self.process is None or self.process.poll() is not None:
            self._launch()

    def _terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop(self) -> None:
        """Stop the server and delete its data."""
        self._terminate()
        if self.log is not None:
            self.log.close()
            self.log = None
        shutil.rmtree(self.workdir, ignore_errors=True)
