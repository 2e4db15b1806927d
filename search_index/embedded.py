"""Embedded backend: SQLite FTS5 in ``<data_dir>/search.sqlite3``.

Search cost is bounded by design (see fts.py for the key layout):

* Total and facets come from the matching rowids alone, which encode year,
  category, archive and access level: no join against stored documents.
  The counting is split into two year ranges of similar size that run on
  worker threads (SQLite releases the GIL) while this thread ranks.  An
  empty query counts from the small ``agg`` table instead.
* Ranking is exact bm25() with column weights when at most BM25_LIMIT
  documents match.  bm25() scans the complete posting list of every query
  token to compute IDF before it scores anything; for broad queries that
  alone exceeds the latency budget while changing little, because every
  result contains every term, so IDF weighs all results alike.  Broader
  result sets are ordered by tier (a match in title, name or reference
  first), then newest first, which costs only the page that is read.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from . import fts, store
from .base import (
    REBUILD_BATCH_SIZE,
    Hit,
    SearchIndex,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    batched,
    clamp_paging,
    no_hits,
)
from .locking import WriteLock
from .names import NameKeys
from .query import ReadingMarks, hit_needles, nothing_searchable, probe_pairs, query_terms, reading_needles, readings
from .text import fts_quote, highlight

log = logging.getLogger(__name__)

BM25_LIMIT = 2000
# Facet counting is split into this many year ranges run on worker threads:
# the machine this was tuned on has two cores.
PARALLEL_PARTS = max(1, min(2, os.cpu_count() or 1))


class EmbeddedIndex(SearchIndex):
    backend = "embedded"

    def __init__(self, data_dir: str | Path, name_secret: bytes | str) -> None:
        self.path = Path(data_dir) / "search.sqlite3"
        self._keys = NameKeys(name_secret)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SearchUnavailable(f"cannot create search index directory {data_dir}: {exc}") from exc
        self._pool = store.Pool(self.path)
        self._codes = store.Codes()
        self._write_lock = WriteLock(self.path.with_name("search.sqlite3.lock"))
        self._executor = ThreadPoolExecutor(PARALLEL_PARTS, thread_name_prefix="search-facets")
        try:
            with self._write_lock:
                with self._pool.connection() as con:
                    store.create_tables(con)
                    stored = store.get_meta(con, "fingerprint")
                    if stored is None:
                        store.set_meta(con, "fingerprint", store.fingerprint())
                    self._check_name_keys(con)
                    self._codes.reload(con)
                if stored is not None and stored != store.fingerprint():
                    # Deleting from a contentless FTS table needs the exact
                    # tokens it was given, and keys must follow the current
                    # layout: after a change of either, re-index from the
                    # stored documents (once: other processes wait on the lock).
                    log.warning("search index format changed; re-indexing %s", self.path)
                    self.rebuild(self._stored_docs())
        except (sqlite3.Error, OSError) as exc:
            raise SearchUnavailable(f"embedded search index at {self.path} unusable: {exc}") from exc

    def _check_name_keys(self, con: sqlite3.Connection) -> None:
        """Say so when the index was built under another name secret: full names then find
        nothing until the catalog is indexed again (the index cannot redo it: it holds no names)."""
        stored = store.get_meta(con, "name_keys")
        if stored is None:
            store.set_meta(con, "name_keys", self._keys.fingerprint)
        elif stored != self._keys.fingerprint:
            log.warning("search index %s was built under another name secret: run `portal reindex`", self.path)

    # --- writes -----------------------------------------------------------

    def _apply(self, fn: Callable[[store.Writer], None], suffix: str = "") -> int:
        """Run ``fn`` in one write transaction; return how many documents it wrote."""
        try:
            with self._pool.connection() as con:
                con.execute("BEGIN IMMEDIATE")
                writer = store.Writer(con, self._codes, suffix)
                fn(writer)
                writer.finish()
                con.execute("COMMIT")
                return writer.count
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"embedded search index write failed: {exc}") from exc

    def upsert(self, docs: Iterable[dict]) -> None:
        with self._write_lock:
            for batch in batched(docs):
                prepared = store.prepare(batch, self._keys)
                self._apply(lambda w, p=prepared: w.upsert(p))

    def delete(self, ids: Iterable[str]) -> None:
        with self._write_lock:
            for batch in batched(dict.fromkeys(ids)):
                self._apply(lambda w, b=batch: w.delete(b))

    def rebuild(self, docs: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        """Load into fresh ``_new`` tables, then swap them in one short transaction.

        Searches keep answering from the old tables until the swap.  A worker
        thread writes each batch while this thread tokenises the next one
        (SQLite releases the GIL), and the caller's iterator stays on the
        caller's thread.
        """
        with self._write_lock:
            try:
                with self._pool.connection() as con:
                    store.drop_new_tables(con)
                    store.create_tables(con, "_new")
                    store.tune_for_bulk_load(con, "fts_new", bulk=True)
                total = 0
                pending: deque[tuple[Future[int], int]] = deque()
                with ThreadPoolExecutor(1, thread_name_prefix="search-rebuild") as worker:
                    for batch in batched(docs, REBUILD_BATCH_SIZE):
                        prepared = store.prepare(batch, self._keys)
                        pending.append((worker.submit(self._apply, lambda w, p=prepared: w.upsert(p),
                                                      "_new"), len(batch)))
                        while pending and (len(pending) > 1 or pending[0][0].done()):
                            future, n = pending.popleft()
                            total += future.result()
                            if progress:
                                progress(n)
                    for future, n in pending:
                        total += future.result()
                        if progress:
                            progress(n)
                with self._pool.connection() as con:
                    # Merge the index segments into one: fastest to query.
                    con.execute("INSERT INTO fts_new(fts_new) VALUES ('optimize')")
                    store.tune_for_bulk_load(con, "fts_new", bulk=False)
                    con.execute("BEGIN IMMEDIATE")
                    store.swap_in_new_tables(con)
                    store.set_meta(con, "name_keys", self._keys.fingerprint)
                    con.execute("COMMIT")
                    # executescript steps the pragma to the end; execute() would free one page.
                    con.executescript("PRAGMA incremental_vacuum;")
                    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                return total
            except BaseException as exc:
                self._drop_new_tables()
                if isinstance(exc, sqlite3.Error):
                    raise SearchUnavailable(f"embedded search index rebuild failed: {exc}") from exc
                raise

    def _drop_new_tables(self) -> None:
        """Free the space of an abandoned rebuild (best effort)."""
        try:
            with self._pool.connection() as con:
                store.drop_new_tables(con)
        except sqlite3.Error:
            log.warning("could not drop the tables of a failed rebuild in %s", self.path)

    def _stored_docs(self) -> Iterator[dict]:
        # A dedicated connection: the rebuild commits while this one reads.
        con = sqlite3.connect(self.path, check_same_thread=False)
        try:
            for (doc,) in con.execute("SELECT doc FROM docs"):
                # Stored before subject_mask existed: masked names match after the next reindex.
                yield {"subject_mask": "", **json.loads(doc)}
        finally:
            con.close()

    # --- reads ------------------------------------------------------------

    def health(self) -> bool:
        try:
            with self._pool.connection() as con:
                con.execute("SELECT count(*) FROM meta").fetchone()
            return True
        except Exception:  # health() must never raise
            return False

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._pool.close()

    def search(self, query: SearchQuery) -> SearchResult:
        try:
            with self._pool.connection() as con:
                return self._search(con, query)
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"embedded search failed: {exc}") from exc

    def _search(self, con: sqlite3.Connection, query: SearchQuery) -> SearchResult:
        empty = no_hits(self.backend)
        offset, limit = clamp_paging(query)
        acc = sorted({fts.ACC_INDEX[a] for a in query.access_levels if a in fts.ACC_INDEX})
        cat = self._codes.lookup(con, "category", query.category) if query.category else None
        arc = self._codes.lookup(con, "archive", query.archive) if query.archive else None
        if (not acc or (query.category and cat is None) or (query.archive and arc is None)
                or (query.year_from is not None and query.year_to is not None
                    and query.year_from > query.year_to)):
            return empty
        terms = query_terms(query.q)
        if nothing_searchable(query.q, terms):
            return empty
        lo, hi = fts.key_range(query.year_from, query.year_to)
        bits = dict(acc=acc, cat=cat, arc=arc)
        where = fts.key_filter("rowid", lo, hi, **bits)
        unknown = self._unknown_pairs(con, probe_pairs(terms), acc)
        reads = readings(terms, self._keys)
        # Facet groups are counted in parallel parts (SQLite runs without the
        # GIL) while this thread ranks; the parts split the year range.
        hist = dict(con.execute("SELECT yf, n FROM years"))
        parts = fts.split_range(lo, hi, hist, PARALLEL_PARTS)
        if terms:
            match = fts.match_expr(reads, unknown)
            sql = (f"SELECT (rowid >> {fts.GROUP_SHIFT}) & {fts.GROUP_MASK}, 1 FROM fts "
                   "WHERE fts MATCH ? AND {where}")
            jobs = [(sql.format(where=f.sql), (match, *f.params))
                    for f in (fts.key_filter("rowid", a, b, **bits) for a, b in parts)]
        else:
            shift = fts.SEQ_BITS
            sql = f"SELECT (key >> {fts.GROUP_SHIFT - shift}) & {fts.GROUP_MASK}, n FROM agg WHERE {{where}}"
            jobs = [(sql.format(where=f.sql), f.params)
                    for f in (fts.key_filter("key", a, b, **bits, shift=shift) for a, b in parts)]
        futures = [self._executor.submit(self._count_groups, sql, params) for sql, params in jobs]
        if terms:
            keys = self._rank(con, fts.strong_expr(reads, unknown), match, where, offset, limit)
        else:
            keys = [k for (k,) in con.execute(
                f"SELECT rowid FROM fts WHERE fts MATCH ? AND {where.sql} ORDER BY rowid "
                "LIMIT ? OFFSET ?", (fts.ALL_MATCH, *where.params, limit, offset))]
        groups = [row for future in futures for row in future.result()]
        total, facets = fts.facets(groups, lambda kind, idx: self._codes.name(con, kind, idx))
        if offset >= total:
            keys = []
        return SearchResult(total=total, hits=self._hits(con, keys, reading_needles(reads, unknown)),
                            facets=facets, backend=self.backend)

    @staticmethod
    def _unknown_pairs(con: sqlite3.Connection, pairs: list[str], acc: list[int]) -> frozenset[str]:
        """The character pairs in no document of the given access levels (~10 µs
        each: FTS5 stops at the first match).  Documents the user may not see
        must not change how a query is cut, or the results would hint at them."""
        visible = fts.key_filter("rowid", *fts.key_range(None, None), acc=acc, cat=None, arc=None)
        sql = f"SELECT 1 FROM fts WHERE fts MATCH ? AND {visible.sql} LIMIT 1"
        return frozenset(p for p in pairs
                         if con.execute(sql, (fts_quote(p), *visible.params)).fetchone() is None)

    def _count_groups(self, select: str, params: tuple) -> list[tuple[int, int]]:
        """Sum (group, n) rows of ``select`` per group, on a pooled connection.

        Upserting into a small temp table costs ~20% less per row than the
        sort behind GROUP BY, and rows are what a broad query has plenty of.
        """
        with self._pool.connection() as con:
            con.execute("DELETE FROM facet_groups")
            con.execute(f"INSERT INTO facet_groups(k, n) {select} "
                        "ON CONFLICT(k) DO UPDATE SET n = n + excluded.n", params)
            return con.execute("SELECT k, n FROM facet_groups").fetchall()

    def _rank(self, con: sqlite3.Connection, strong_match: str, match: str, where: fts.Filter,
              offset: int, limit: int) -> list[int]:
        weights = ", ".join(str(w) for w in fts.WEIGHTS)
        # Counting up to BM25_LIMIT + 1 matches is cheap and decides the method.
        few = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM fts WHERE fts MATCH ? AND {where.sql} "
                          "LIMIT ?)", (match, *where.params, BM25_LIMIT + 1)).fetchone()[0]
        if few <= BM25_LIMIT:
            return [k for (k,) in con.execute(
                f"SELECT rowid FROM fts WHERE fts MATCH ? AND {where.sql} "
                f"ORDER BY bm25(fts, {weights}), rowid LIMIT ? OFFSET ?",
                (match, *where.params, limit, offset))]
        strong = f"({match}) AND ({strong_match})"
        weak = f"({match}) NOT ({strong_match})"
        page_sql = (f"SELECT rowid FROM fts WHERE fts MATCH ? AND {where.sql} "
                    "ORDER BY rowid LIMIT ? OFFSET ?")
        keys = [k for (k,) in con.execute(page_sql, (strong, *where.params, limit, offset))]
        if len(keys) < limit:
            if keys or offset == 0:
                n_strong = offset + len(keys)
            else:
                n_strong = con.execute(f"SELECT count(*) FROM fts WHERE fts MATCH ? AND {where.sql}",
                                       (strong, *where.params)).fetchone()[0]
            keys += [k for (k,) in con.execute(
                page_sql, (weak, *where.params, limit - len(keys), max(0, offset - n_strong)))]
        return keys

    def _hits(self, con: sqlite3.Connection, keys: list[int], marks: list[ReadingMarks]) -> list[Hit]:
        if not keys:
            return []
        rows = {key: (doc_id, json.loads(doc)) for key, doc_id, doc in con.execute(
            f"SELECT key, id, doc FROM docs WHERE key IN ({','.join('?' * len(keys))})", keys)}
        hits = []
        for key in keys:
            if key in rows:
                doc_id, doc = rows[key]
                title, summary = doc.get("title"), doc.get("summary")
                found = hit_needles(title, summary, marks)
                marked = highlight(title, summary, found)
                hits.append(Hit(id=doc_id, highlight=marked))
        return hits

