"""Real nodes for the federation tests: each a `portal serve` process (gunicorn and its background
process) of its own, with its own data dir, keys, database (SQLite, or a PostgreSQL database of
its own) and search engine (embedded, or a Meilisearch process of its own), on its own port.

    a = Node.create(tmp_path / "a", "alpha")                       # SQLite + embedded
    b = Node.create(tmp_path / "b", "beta", postgres=True, meili=True)
    a.cli("seed-demo", "--records", "200")   # any `portal` command, with the node's settings
    link(a, b)                                 # each adds the other as a peer
    a.start(); b.start()
    ... a.url, b.get("/api/v1/search", q="婚姻") ...
    b.stop(); b.start()                        # down and back, same port and data
    close(a, b)

Plain helpers (no pytest imports), so a benchmark or `make run-network` could reuse them."""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import free_port
from tests.meili_server import MeiliServer

PORTAL = Path(sys.executable).with_name("portal")
REPO = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Settings every test node shares: fast background rounds, no rate limits in the way of a journey,
# certificates signed with a link to this machine (a demo on one machine may).
BASE_ENV = {
    "PORTAL_DEMO": "1", "PORTAL_WORKERS": "1", "PORTAL_THREADS": "4", "PYTHONUNBUFFERED": "1",
    "PORTAL_MAIL_SEND_INTERVAL": "0.5", "PORTAL_SEARCH_SYNC_INTERVAL": "0.5", "PORTAL_FEDERATION_INTERVAL": "0.5",
    "PORTAL_SEARCH_CACHE_SECONDS": "0", "PORTAL_RATE_LIMITS": "off",
}
DROPPED = ("PORTAL_PUBLIC_URL", "PORTAL_TRUSTED_HOSTS", "DATABASE_URL", "PORTAL_DEV", "SEARCH_BACKEND", "MEILI_URL",
           "MEILI_MASTER_KEY", "PORTAL_DATA_DIR", "SECRET_KEY", "PORTAL_DATA_KEY")


@dataclass
class Node:
    name: str
    port: int
    data_dir: Path
    env: dict
    meili: MeiliServer | None = None
    pg_database: str | None = None
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    _public_key: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def create(cls, folder: Path, name: str, *, postgres: bool = False, meili: bool = False,
               archives: str = "", records: int = 300, extra_env: dict | None = None) -> "Node":
        """A node, its database migrated and its identity made (`portal node init`); with `archives`
        (comma-separated demo archive codes), their demo data, indexed, and their signing keys.
        Not started."""
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in DROPPED}
        env.update(BASE_ENV, PORTAL_DATA_DIR=str(folder / "data"), PORTAL_PUBLIC_URL=f"http://127.0.0.1:{port}",
                   **(extra_env or {}))
        node = cls(name=name, port=port, data_dir=folder / "data", env=env, log_path=folder / "serve.log")
        if postgres:
            if not PG_URL:
                raise RuntimeError("PORTAL_TEST_POSTGRES_URL is not set")
            node.pg_database = f"fed_{name}_{os.getpid()}_{secrets.token_hex(3)}"
            _admin_sql(f'CREATE DATABASE "{node.pg_database}"')
            env["DATABASE_URL"] = _with_database(PG_URL, node.pg_database)
        if meili:
            node.meili = MeiliServer.start()
            env.update(SEARCH_BACKEND="meilisearch", MEILI_URL=node.meili.url, MEILI_MASTER_KEY=node.meili.master_key)
        node.setup("--name", name, "--url", node.url,
                   *(("--archives", archives, "--records", str(records)) if archives else ()))
        return node

    def setup(self, *args: str) -> None:
        """tests/federation/setup_node.py in one process, with this node's settings."""
        done = subprocess.run([sys.executable, "-m", "tests.federation.setup_node", *args], env=self.env,
                              capture_output=True, text=True, timeout=600, cwd=REPO)
        if done.returncode != 0:
            raise AssertionError(f"setting up {self.name} failed:\n{done.stdout}\n{done.stderr}")

    def cli(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """`portal ARGS` with this node's settings."""
        done = subprocess.run([str(PORTAL), *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"portal {' '.join(args)} on {self.name} failed ({done.returncode}):\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done

    @property
    def public_key(self) -> str:
        if self._public_key is None:
            from cryptography.hazmat.primitives import serialization

            from portal.federation.node import public_key_text

            key = serialization.load_pem_private_key((self.data_dir / "keys" / "node.key.pem").read_bytes(), None)
            self._public_key = public_key_text(key.public_key())
        return self._public_key

    def start(self) -> "Node":
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([str(PORTAL), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"node {self.name} ended: {self.log_path.read_text()[-4000:]}")
            try:
                with _DIRECT.open(self.url + "/healthz", timeout=1):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise AssertionError(f"node {self.name} never answered: {self.log_path.read_text()[-4000:]}")

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it (graceful: the round under way finishes)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(45)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        if self.meili is not None:
            self.meili.stop()
            self.meili = None
        if self.pg_database:
            _admin_sql(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
            self.pg_database = None

    # ---- HTTP, as a browser-less client would ------------------------------------------------

    def request(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
                token: str | None = None, headers: dict | None = None, timeout: float = 30):
        """(status, headers, body bytes) of one plain HTTP call to this node."""
        url = self.url + path + (("?" + urllib.parse.urlencode(params)) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with _DIRECT.open(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def get_json(self, path: str, **kwargs):
        status, _headers, data = self.request("GET", path, **kwargs)
        return status, (json.loads(data) if data else None)

    def post_json(self, path: str, body: dict | None = None, **kwargs):
        status, _headers, data = self.request("POST", path, body=body if body is not None else {}, **kwargs)
        return status, (json.loads(data) if data else None)

    def token(self, email: str, password: str) -> str:
        status, answer = self.post_json("/api/v1/tokens", {"email": email, "password": password})
        assert status in (200, 201), (status, answer)
        return answer["token"]


def link(*nodes: Node) -> None:
    """Every node trusts every other (as `portal peers add` would: tests/test_signatures.py runs the command)."""
    for a in nodes:
        a.setup(*(arg for b in nodes if b is not a for arg in ("--peer", b.name, b.url, b.public_key)))


@contextmanager
def running(*nodes: Node):
    """The nodes linked (each trusts the others) and started for the `with` block; closed after
    it, whatever happens (a module fixture: `with running(a, b): yield a, b`)."""
    try:
        link(*nodes)
        for node in nodes:
            node.start()
        yield nodes
    finally:
        close(*nodes)


def close(*nodes: Node) -> None:
    for node in nodes:
        node.close()


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin_sql(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()
