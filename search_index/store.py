"""SQLite storage for the embedded backend: schema, connections, writes.

Tables (one set, or a ``_new`` set while a rebuild loads):

* ``fts``   contentless FTS5 index of pre-tokenised text, rowid = packed key
* ``docs``  key → id and the original document as JSON (for hits, highlights
            and for deleting from the contentless index, which needs the
            exact tokens it was given)
* ``agg``   document counts per (year, category, archive, access) key, kept
            in step with every write, so an empty query's total and facets
            are a scan of at most a few hundred thousand small rows
* ``years`` document counts per year field, to split searches into
            parts of similar size that run on separate cores
* ``codes`` category/archive code → small int (persistent, never reused,
            so a cached copy can be stale but never wrong)
* ``meta``  next sequence number and the index format fingerprint
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import fts, text
from .base import validate_doc
from .names import NameKeys, name_tokens
from .text import index_tokens

SQLITE_MAX_PARAMS = 500  # stay far below SQLITE_MAX_VARIABLE_NUMBER
TABLES = ("fts", "docs", "agg", "years")  # the set a rebuild replaces


def fingerprint() -> str:
    """What an index file must have been built with to be usable as it is."""
    return f"{text.fingerprint()}/layout {fts.LAYOUT_VERSION}"


def create_tables(con: sqlite3.Connection, suffix: str = "") -> None:
    con.executescript(f"""
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS codes(
            kind TEXT NOT NULL, code TEXT NOT NULL, idx INTEGER NOT NULL,
            PRIMARY KEY(kind, code), UNIQUE(kind, idx));
        CREATE TABLE IF NOT EXISTS docs{suffix}(
            key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS agg{suffix}(key INTEGER PRIMARY KEY, n INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS years{suffix}(yf INTEGER PRIMARY KEY, n INTEGER NOT NULL);
        CREATE VIRTUAL TABLE IF NOT EXISTS fts{suffix} USING fts5(
            {", ".join(fts.COLUMNS)}, content='', tokenize='ascii', prefix='1');
    """)


def fts_columns(doc: dict) -> tuple[str, ...]:
    """Token strings for the FTS5 columns, in fts.COLUMNS order."""
    # The year is there as a word too: citizens type "婚姻登记 1985".
    meta = " ".join([*(str(doc.get(k) or "") for k in ("category_label", "place", "archive_name")),
                     str(doc["year"])])
    return (
        index_tokens(doc.get("title")),
        doc["name_tokens"],
        index_tokens(doc.get("reference_code")),
        fts.ALL_TOKEN + " " + index_tokens(meta),
        # A digitized copy's text is found like the summary (never shown: highlights read the
        # title and summary only).
        " ".join(filter(None, (index_tokens(doc.get("summary")), index_tokens(doc.get("copy_text"))))),
    )


# A validated document, its stored JSON and its FTS5 column tokens.
Prepared = tuple[dict, str, tuple[str, ...]]


def stored_form(doc: dict, keys: NameKeys) -> dict:
    """The document as the index keeps it: the full name replaced by its tokens (names.py).
    A document read back from the index is in this form already."""
    if "name_tokens" in doc:
        return doc
    validate_doc(doc)
    tokens = " ".join(name_tokens(keys, doc["subject_name"], doc["subject_mask"]))
    return {**doc, "subject_name": "", "name_tokens": tokens}


def prepare(docs: list[dict], keys: NameKeys) -> list[Prepared]:
    """Validate and tokenise (no database needed, so it can overlap writing)."""
    latest = {d["id"]: d for d in (stored_form(d, keys) for d in docs)}  # last one wins
    return [(d, json.dumps(d, ensure_ascii=False, sort_keys=True), fts_columns(d))
            for d in latest.values()]


class Pool:
    """Small pool of connections, each used by one thread at a time.

    Not thread-local: Werkzeug's threaded server starts a thread per
    request, which would leave one connection behind per request.
    """

    def __init__(self, path: Path, max_idle: int = 16) -> None:
        self.path = path
        self.max_idle = max_idle
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.closed = False

    def _open(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        # Takes effect only in a new file: lets a rebuild hand the old tables' pages back to the
        # disk (incremental_vacuum after the swap) instead of keeping the file at twice the size.
        con.execute("PRAGMA auto_vacuum=INCREMENTAL")
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        # Memory-mapped reads avoid copying index pages into each connection's cache.
        con.execute("PRAGMA mmap_size=2147483648")
        con.execute("PRAGMA cache_size=-32000")
        # Facet counting adds rows into this per-connection table (see
        # embedded.py): an index upsert per row beats GROUP BY's sorter.
        con.execute("PRAGMA temp_store=MEMORY")
        con.execute("CREATE TEMP TABLE IF NOT EXISTS facet_groups("
                    "k INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        return con

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self.closed:
                raise sqlite3.ProgrammingError("search index is closed")
            con = self._idle.pop() if self._idle else None
        if con is None:
            con = self._open()
        try:
            yield con
        finally:
            if con.in_transaction:
                con.rollback()
            with self._lock:
                keep = not self.closed and len(self._idle) < self.max_idle
                if keep:
                    self._idle.append(con)
            if not keep:
                con.close()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for con in idle:
            con.close()


class Codes:
    """Cached code ↔ small-int mapping for categories and archives."""

    LIMITS = {"category": fts.MAX_CATEGORIES, "archive": fts.MAX_ARCHIVES}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.to_idx: dict[str, dict[str, int]] = {"category": {}, "archive": {}}
        self.to_code: dict[str, dict[int, str]] = {"category": {}, "archive": {}}

    def reload(self, con: sqlite3.Connection) -> None:
        to_idx: dict[str, dict[str, int]] = {"category": {}, "archive": {}}
        for kind, code, idx in con.execute("SELECT kind, code, idx FROM codes"):
            to_idx.setdefault(kind, {})[code] = idx
        with self._lock:
            self.to_idx = to_idx
            self.to_code = {k: {i: c for c, i in m.items()} for k, m in to_idx.items()}

    def lookup(self, con: sqlite3.Connection, kind: str, code: str) -> int | None:
        if code not in self.to_idx[kind]:
            self.reload(con)  # another process may have added it
        return self.to_idx[kind].get(code)

    def name(self, con: sqlite3.Connection, kind: str, idx: int) -> str:
        if idx not in self.to_code[kind]:
            self.reload(con)
        return self.to_code[kind].get(idx, f"?{idx}")

    def allocate(self, con: sqlite3.Connection, kind: str, code: str) -> int:
        """Index for code, creating it inside the caller's write transaction."""
        row = con.execute("SELECT idx FROM codes WHERE kind = ? AND code = ?", (kind, code)).fetchone()
        if row:
            return row[0]
        idx = con.execute("SELECT coalesce(max(idx) + 1, 0) FROM codes WHERE kind = ?", (kind,)).fetchone()[0]
        if idx >= self.LIMITS[kind]:
            raise ValueError(f"too many distinct {kind} codes (limit {self.LIMITS[kind]})")
        con.execute("INSERT INTO codes(kind, code, idx) VALUES (?, ?, ?)", (kind, code, idx))
        return idx


def get_meta(con: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    con.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


def stored_by_id(con: sqlite3.Connection, ids: list[str], suffix: str = "") -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    for i in range(0, len(ids), SQLITE_MAX_PARAMS):
        chunk = ids[i : i + SQLITE_MAX_PARAMS]
        sql = f"SELECT id, key, doc FROM docs{suffix} WHERE id IN ({','.join('?' * len(chunk))})"
        for doc_id, key, doc in con.execute(sql, chunk):
            out[doc_id] = (key, doc)
    return out


class Writer:
    """Applies upserts/deletes to one table set inside an open transaction."""

    def __init__(self, con: sqlite3.Connection, codes: Codes, suffix: str = "") -> None:
        self.con, self.codes, self.s = con, codes, suffix
        self.seq_key = f"next_seq{suffix}"
        self.next_seq = int(get_meta(con, self.seq_key, "0") or 0)
        self.deltas: Counter[int] = Counter()
        self.count = 0
        self._allocated: dict[tuple[str, str], int] = {}

    def _remove(self, key: int, doc_json: str) -> None:
        self.con.execute(
            f"INSERT INTO fts{self.s}(fts{self.s}, rowid, {', '.join(fts.COLUMNS)}) "
            f"VALUES ('delete', ?, {', '.join('?' * len(fts.COLUMNS))})",
            (key, *fts_columns(json.loads(doc_json))))
        self.con.execute(f"DELETE FROM docs{self.s} WHERE key = ?", (key,))
        self.deltas[key >> fts.SEQ_BITS] -= 1

    def _code(self, kind: str, code: str) -> int:
        idx = self._allocated.get((kind, code))
        if idx is None:
            idx = self._allocated[kind, code] = self.codes.allocate(self.con, kind, code)
        return idx

    def upsert(self, items: list[Prepared]) -> None:
        existing = stored_by_id(self.con, [doc["id"] for doc, _, _ in items], self.s)
        fts_rows, doc_rows = [], []
        for doc, doc_json, columns in items:
            old = existing.get(doc["id"])
            if old and old[1] == doc_json:
                continue  # unchanged: the portal's sync may resend documents
            if old:
                self._remove(*old)
                seq = old[0] & fts.SEQ_MASK
            else:
                seq = self.next_seq
                self.next_seq += 1
                if seq > fts.SEQ_MASK:
                    raise ValueError("sequence numbers exhausted: rebuild the index")
            key = fts.pack(doc["year"], self._code("category", str(doc["category"])),
                           self._code("archive", str(doc["archive_code"])),
                           fts.ACC_INDEX[doc["access_level"]], seq)
            fts_rows.append((key, *columns))
            doc_rows.append((key, doc["id"], doc_json))
            self.deltas[key >> fts.SEQ_BITS] += 1
        # Ascending rowids: FTS5 flushes its in-memory segment whenever a rowid
        # is smaller than the previous one, which made unsorted loads 3x slower.
        fts_rows.sort()
        doc_rows.sort()
        self.con.executemany(
            f"INSERT INTO fts{self.s}(rowid, {', '.join(fts.COLUMNS)}) "
            f"VALUES (?, {', '.join('?' * len(fts.COLUMNS))})", fts_rows)
        self.con.executemany(f"INSERT INTO docs{self.s}(key, id, doc) VALUES (?, ?, ?)", doc_rows)
        self.count += len(doc_rows)

    def delete(self, ids: list[str]) -> None:
        for key, doc_json in stored_by_id(self.con, ids, self.s).values():
            self._remove(key, doc_json)

    def finish(self) -> None:
        """Write the aggregate deltas and the sequence counter."""
        years: Counter[int] = Counter()
        for key, n in self.deltas.items():
            years[key >> (fts.YEAR_SHIFT - fts.SEQ_BITS)] += n
        for table, col, deltas in ((f"agg{self.s}", "key", self.deltas), (f"years{self.s}", "yf", years)):
            changed = [(k, n) for k, n in deltas.items() if n]
            self.con.executemany(
                f"INSERT INTO {table}({col}, n) VALUES (?, ?) "
                f"ON CONFLICT({col}) DO UPDATE SET n = n + excluded.n", changed)
            self.con.executemany(f"DELETE FROM {table} WHERE {col} = ? AND n <= 0",
                                 [(k,) for k, _ in changed])
        self.deltas.clear()
        set_meta(self.con, self.seq_key, str(self.next_seq))


def swap_in_new_tables(con: sqlite3.Connection) -> None:
    """Replace the live tables by the ``_new`` ones (caller holds a write transaction)."""
    for table in TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    set_meta(con, "next_seq", get_meta(con, "next_seq_new", "0") or "0")
    con.execute("DELETE FROM meta WHERE key = 'next_seq_new'")
    set_meta(con, "fingerprint", fingerprint())


def tune_for_bulk_load(con: sqlite3.Connection, table: str, bulk: bool) -> None:
    """No incremental segment merging while loading: one 'optimize' at the end
    merges everything, which makes a 1M-document load ~35% faster."""
    for option, bulk_value, normal in (("automerge", 0, 4), ("crisismerge", 64, 16)):
        con.execute(f"INSERT INTO {table}({table}, rank) VALUES (?, ?)",
                    (option, bulk_value if bulk else normal))


def drop_new_tables(con: sqlite3.Connection) -> None:
    for table in TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}_new")
    con.execute("DELETE FROM meta WHERE key = 'next_seq_new'")
