"""A fresh portal's data for a load run (bench/load/run.py), on one of two backends:

- `embedded`: SQLite in the data directory and the embedded search index (the default, `make run`);
- `postgres-meili`: a PostgreSQL database made for the run on the server --postgres-url names, and
  dropped after it, and a Meilisearch of its own (`.tools/meilisearch`, started as the tests and
  bench/search.py start it) on a fresh directory, stopped and removed after the run.

Made with `portal init-db`, `portal seed-demo --records N` (which also makes the demo citizen's
four requests and builds the search index), `portal keys init`, then N generated requests
(bench/load/add_requests.py: bench/queue.py's generator), then `portal sync-index`.

With a cache directory (bench/out/load/ from the command line), what took long is kept for the
next run of the same backend and size: the data directory without its search index, and for
PostgreSQL a template database (`portal_load_cache_<records>_<requests>`, on the same server).
A run then copies them (`CREATE DATABASE … TEMPLATE …`) and rebuilds the search index from the
database with `portal reindex`, so the index always comes from the code under test. The cache is
made again when any of MADE_FROM (the migrations, the demo data, the generator) changed."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.meili_server import MeiliServer

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BACKENDS = ("embedded", "postgres-meili")
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
CACHE = ROOT / "bench" / "out" / "load"
# What the data is made from: a change to any of these makes the cache again.
MADE_FROM = ("portal/migrations/versions/*.py", "portal/catalog/demo.py", "portal/catalog/demo_data.py",
             "portal/review/demo.py", "bench/queue.py", "bench/load/add_requests.py")
INDEX_FILES = "search.sqlite3*"  # the embedded index, rebuilt by every run
RUN_DATABASE = re.compile(r"portal_load_(\d+)_[0-9a-f]+")


@dataclass
class Prepared:
    env: dict[str, str]  # the environment `portal serve` runs with
    backend: str  # what serves it, with versions: "SQLite 3.40.1, embedded index"
    seconds: float  # how long preparing took
    cached: bool  # whether the data came from the cache


def portal(*args: str, env: dict) -> None:
    subprocess.run([str(BIN / "portal"), *args], env=env, check=True, stdout=subprocess.DEVNULL)


@contextmanager
def prepared(data_dir: Path, backend: str, records: int, requests: int, env: dict, cache: Path | None = None,
             postgres: str = POSTGRES) -> Iterator[Prepared]:
    """The data of a fresh portal in `data_dir` (and, for postgres-meili, its database and search
    engine, which are removed at the end): the environment to serve it with."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: one of {', '.join(BACKENDS)}")
    started = time.perf_counter()
    env = {key: value for key, value in env.items() if key not in ("DATABASE_URL", "MEILI_URL", "MEILI_MASTER_KEY")}
    env.update(PORTAL_DATA_DIR=str(data_dir), SEARCH_BACKEND="embedded")
    slot = cache / f"{backend}-{records}-{requests}" if cache else None
    with ExitStack() as stack:
        with ExitStack() as preparing:
            if slot:  # one run at a time makes or copies a slot
                slot.parent.mkdir(parents=True, exist_ok=True)
                preparing.enter_context(locked(slot.with_suffix(".lock")))
            made = current(slot, postgres)
            if backend == "postgres-meili":
                env["DATABASE_URL"] = stack.enter_context(fresh_database(postgres, made.get("database")))
                meili = MeiliServer.start(indexing_threads=None)  # Meilisearch's own default, as in production
                stack.callback(meili.stop)
                env.update(SEARCH_BACKEND="meilisearch", MEILI_URL=meili.url, MEILI_MASTER_KEY=meili.master_key)
            if made:
                shutil.copytree(slot / "data", data_dir)
                portal("reindex", env=env)
            else:
                make(env, records, requests)
                if slot:
                    store(slot, data_dir, env, postgres, f"portal_load_cache_{records}_{requests}")
                portal("sync-index", env=env)
        yield Prepared(env, describe(env), time.perf_counter() - started, bool(made))


def make(env: dict, records: int, requests: int) -> None:
    portal("init-db", env=env)
    portal("seed-demo", "--records", str(records), env=env)
    portal("keys", "init", env=env)
    if requests:
        subprocess.run([sys.executable, "-m", "bench.load.add_requests", str(requests)], env=env, cwd=ROOT,
                       check=True)


# ---- the cache -------------------------------------------------------------------------------------

def fingerprint() -> str:
    digest = hashlib.sha256()
    for pattern in MADE_FROM:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def current(slot: Path | None, postgres: str) -> dict:
    """What the cache says about the slot ({} when it is missing or out of date)."""
    try:
        made = json.loads((slot / "made.json").read_text())
    except (TypeError, OSError, ValueError):
        return {}
    if made.get("fingerprint") != fingerprint() or made.get("server", postgres) != postgres:
        return {}
    if made.get("database") and not database_exists(postgres, made["database"]):
        return {}
    return made


def store(slot: Path, data_dir: Path, env: dict, postgres: str, database: str) -> None:
    """Keep the data just made (no process uses it yet): the directory, and the database as a template."""
    shutil.rmtree(slot, ignore_errors=True)
    shutil.copytree(data_dir, slot / "data", ignore=shutil.ignore_patterns(INDEX_FILES))
    made = {"fingerprint": fingerprint()}
    if "DATABASE_URL" in env:
        made.update(server=postgres, database=database)
        with admin(postgres) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{made["database"]}"')
            conn.execute(f'CREATE DATABASE "{made["database"]}" TEMPLATE "{make_url(env["DATABASE_URL"]).database}"')
    (slot / "made.json").write_text(json.dumps(made))  # last: a slot without it is not used


@contextmanager
def locked(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# ---- PostgreSQL and Meilisearch ----------------------------------------------------------------------

def admin(postgres: str) -> psycopg.Connection:
    return psycopg.connect(postgres, autocommit=True)


def database_exists(postgres: str, name: str) -> bool:
    with admin(postgres) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


@contextmanager
def fresh_database(postgres: str, template: str | None = None) -> Iterator[str]:
    """A database of this run's own on the server (a copy of `template`, or empty), dropped at the
    end; those of runs that were killed before they could drop theirs go first."""
    name = f"portal_load_{os.getpid()}_{secrets.token_hex(3)}"
    with admin(postgres) as conn:
        for (stale,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'portal\\_load\\_%'"):
            if (match := RUN_DATABASE.fullmatch(stale)) and not pid_alive(int(match.group(1))):
                conn.execute(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin(postgres) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def describe(env: dict) -> str:
    """The database and the search engine, with their versions."""
    if "DATABASE_URL" not in env:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}, embedded index (FTS5)"
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    request = urllib.request.Request(env["MEILI_URL"] + "/version",
                                     headers={"Authorization": f"Bearer {env['MEILI_MASTER_KEY']}"})
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # whatever proxy the environment names
    with direct.open(request, timeout=5) as answer:
        meili = json.load(answer)["pkgVersion"]
    return f"PostgreSQL {postgres}, Meilisearch {meili}"
