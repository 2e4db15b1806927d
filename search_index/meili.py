"""Meilisearch backend (official client, Meilisearch 1.21).

Documents and queries are reshaped for Meilisearch in meili_schema.py.  Hits
are highlighted with the same code as the embedded backend, on the original
title and summary, so both backends render identical, HTML-safe snippets.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import meilisearch
import requests
from meilisearch.errors import MeilisearchApiError, MeilisearchError, MeilisearchTimeoutError

from . import synonyms
from .base import (
    ACCESS_LEVELS,
    Hit,
    SearchIndex,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    batched,
    clamp_paging,
    no_hits,
)
from .meili_http import ThreadClients
from .meili_schema import (
    FACETS,
    PROBED,
    SEARCHABLE,
    SETTINGS,
    access_filter,
    field_filters,
    meili_query,
    names_filter,
    primary_key,
    quote,
    split,
    to_meili,
)
from .names import NameKeys
from .query import NO_CUTS, Reading, hit_needles, nothing_searchable, probe_pairs, query_terms, reading_needles, readings
from .text import highlight

log = logging.getLogger(__name__)
# Federated ranking: a reading that holds a name or a masked name weighs this much more.
NAME_WEIGHT = 1.5
# rebuild(): bytes of documents per request (Meilisearch takes up to 100 MB by default), and
# requests queued on the server at most before we wait.
LOAD_BYTES = 32_000_000
LOAD_QUEUED = 4
_JSON = json.JSONEncoder(ensure_ascii=False)


class MeiliIndex(SearchIndex):
    backend = "meilisearch"

    def __init__(self, url: str, api_key: str | None, name_secret: bytes | str, index_name: str = "records",
                 timeout: float = 10.0, task_timeout_ms: int = 600_000) -> None:
        self.url, self.name = url, index_name
        self.keys = NameKeys(name_secret)
        self.task_timeout_ms = task_timeout_ms
        self._ready = False
        self._clients = ThreadClients(url, api_key, timeout)

    # --- plumbing ---------------------------------------------------------

    @property
    def client(self) -> meilisearch.Client:
        """This thread's client, on this thread's kept-alive connection."""
        return self._clients.client

    @property
    def session(self) -> requests.Session:
        """This thread's HTTP session (its connection pool)."""
        return self._clients.session

    def _index(self, uid: str) -> Any:
        """An Index object of this thread's client, on its connection."""
        return self._clients.index(uid)

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (MeilisearchError, requests.RequestException) as exc:
            raise SearchUnavailable(f"Meilisearch at {self.url} unavailable ({what}): {exc}") from exc

    def _wait(self, what: str, task_info: Any, tolerate: str | None = None) -> None:
        """Wait for a task; raise unless it succeeded (or failed with ``tolerate``).  A status
        request that gets no answer in time (a busy machine, a kept-alive connection the server
        dropped) is asked again, on a new connection, until the task's own time is up."""
        deadline = time.monotonic() + self.task_timeout_ms / 1000
        while True:
            left_ms = max(1, int((deadline - time.monotonic()) * 1000))
            try:
                task = self._call(what, lambda ms=left_ms: self.client.wait_for_task(
                    task_info.task_uid, timeout_in_ms=ms, interval_in_ms=20))
                break
            except SearchUnavailable as exc:
                if not isinstance(exc.__cause__, MeilisearchTimeoutError) or time.monotonic() >= deadline:
                    raise
                log.warning("Meilisearch task %s (%s): no answer yet, asking again: %s", task_info.task_uid, what, exc)
                self.session.close()
        if task.status != "succeeded" and not (task.error and task.error.get("code") == tolerate):
            raise SearchUnavailable(f"Meilisearch task {task.uid} ({what}) {task.status}: {task.error}")

    def _setup(self, uid: str, settings: bool = True) -> None:
        """Create index ``uid`` if needed and (unless told not to) apply the settings."""
        try:
            self.client.get_raw_index(uid)
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                raise SearchUnavailable(f"Meilisearch at {self.url}: {exc}") from exc
            self._wait("create index", self._call("create index", lambda: self.client.create_index(
                uid, {"primaryKey": "pk"})))
        except (MeilisearchError, requests.RequestException) as exc:
            raise SearchUnavailable(f"Meilisearch at {self.url} unavailable: {exc}") from exc
        if settings:
            wanted = {**self.settings, "synonyms": {split(k): [split(v) for v in vs]
                                               for k, vs in synonyms.synonym_map().items()}}
            self._wait("settings", self._call("settings", lambda: self._index(uid).update_settings(
                wanted)))

    def _ensure_ready(self) -> None:
        if not self._ready:
            self._setup(self.name)
            self._check_documents()
            self._ready = True

    def _check_documents(self) -> None:
        """Say so when documents were indexed before a searchable field existed
        (s_year): searches still work, but miss those fields until a reindex."""
        stats = self._call("stats", lambda: self._index(self.name).get_stats())
        missing = [a for a in [*SEARCHABLE, "names"]
                   if getattr(stats.field_distribution, a, 0) < stats.number_of_documents]
        if missing:
            log.warning("Meilisearch index %s has documents without %s: run `portal reindex`",
                        self.name, ", ".join(missing))

    # What the index is given and how it is set up (meili_public.PublicMeiliIndex has its own).
    settings = SETTINGS

    def _document(self, doc: dict) -> dict:
        return to_meili(doc, self.keys)

    # --- writes -----------------------------------------------------------

    def upsert(self, docs: Iterable[dict]) -> None:
        self._ensure_ready()
        index = self._index(self.name)
        for batch in batched(docs):
            payload = [self._document(d) for d in batch]
            self._wait("upsert", self._call("upsert", lambda p=payload: index.add_documents(p, "pk")))

    def delete(self, ids: Iterable[str]) -> None:
        self._ensure_ready()
        index = self._index(self.name)
        for batch in batched(dict.fromkeys(ids), 1000):
            # Filter rather than the deprecated id-list call (it warns).
            flt = f"pk IN [{', '.join(quote(primary_key(i)) for i in batch)}]"
            self._wait("delete", self._call("delete", lambda f=flt: index.delete_documents(filter=f)))

    def rebuild(self, docs: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        """Load a fresh ``<name>__rebuild`` index, then swap it with the live one."""
        tmp = f"{self.name}__rebuild"
        self._wait("drop old temp index", self._call("drop", lambda: self.client.delete_index(tmp)),
                   tolerate="index_not_found")
        try:
            total = self._load(tmp, docs, progress)
            # The swap needs both indexes to exist; the live one's settings are
            # irrelevant (it is about to be replaced), so leave them alone.
            self._setup(self.name, settings=False)
            self._wait("swap", self._call("swap", lambda: self.client.swap_indexes(
                [{"indexes": [self.name, tmp]}])))
        except BaseException:
            # Drop the partial load, with the batches still queued for it (the live index was
            # never touched); if the server is unreachable, the next rebuild drops it instead.
            unreachable = (MeilisearchError, requests.RequestException, SearchUnavailable)
            with contextlib.suppress(*unreachable):
                self._wait("cancel load", self.client.cancel_tasks(
                    {"indexUids": [tmp], "statuses": ["enqueued", "processing"]}))
            with contextlib.suppress(*unreachable):
                self._wait("drop partial index", self.client.delete_index(tmp), tolerate="index_not_found")
            raise
        # After the swap the temporary index holds the old documents.
        self._wait("drop old index", self._call("drop", lambda: self.client.delete_index(tmp)))
        self._ready = True
        return total

    def _load(self, uid: str, docs: Iterable[dict], progress: Callable[[int], None] | None) -> int:
        """Send the documents in large payloads and go on sending while Meilisearch indexes: the
        document tasks it finds queued it indexes as one batch, much cheaper than one after the
        other (each batch also updates word-prefix and facet data, whose cost grows with the
        index).  Waits while LOAD_QUEUED payloads are queued (they wait on the server's disk);
        reports progress as tasks finish."""
        self._setup(uid)
        index = self._index(uid)
        total = 0
        queued: deque[tuple[Any, int]] = deque()  # (task, documents), oldest first

        def finish() -> None:
            task, count = queued.popleft()
            self._wait("load", task)
            if progress:
                progress(count)

        def send(lines: list[bytes]) -> None:
            payload = b"\n".join(lines)
            queued.append((self._call("load", lambda: index.add_documents_ndjson(payload, "pk")), len(lines)))
            while queued and (len(queued) > LOAD_QUEUED or self._finished(queued[0][0])):
                finish()

        lines: list[bytes] = []
        size = 0
        for doc in docs:
            lines.append(_ndjson(self._document(doc)))
            size += len(lines[-1]) + 1
            total += 1
            if size >= LOAD_BYTES:
                send(lines)
                lines, size = [], 0
        if lines:
            send(lines)
        while queued:
            finish()
        return total

    def _finished(self, task_info: Any) -> bool:
        return self._call("task", lambda: self.client.get_task(task_info.task_uid)).status not in (
            "enqueued", "processing")

    # --- reads ------------------------------------------------------------

    def health(self) -> bool:
        """Server up and our key accepted (a missing index still serves: empty results)."""
        try:
            self.client.get_raw_index(self.name)
            return True
        except MeilisearchApiError as exc:
            return exc.code == "index_not_found"
        except Exception:  # health() must never raise
            return False

    def close(self) -> None:
        """Close every thread's connections (a later call opens new ones)."""
        self._clients.close()

    def request_for(self, query: SearchQuery, unknown: frozenset[str] = NO_CUTS,
                    reads: list[Reading] | None = None) -> dict[str, Any] | None:
        """The body Meilisearch is sent for `query` (read as `reads`, by default as readings()
        reads it), its words cut between the pairs in `unknown`: a search of the one index when
        the query has one reading, else a federated multi-search of every reading, merged by
        ranking score, facets counted over their union.  None when nothing can match."""
        offset, limit = clamp_paging(query)
        terms = query_terms(query.q)
        levels = [a for a in query.access_levels if a in ACCESS_LEVELS]
        if not levels or nothing_searchable(query.q, terms):
            return None
        filters = [access_filter(levels), *field_filters(query)]
        reads = reads if reads is not None else readings(terms, self.keys)
        asks = [{"q": meili_query(r, unknown), "filter": filters + names_filter(r), "matchingStrategy": "all",
                 "attributesToRetrieve": ["id", "title", "summary"]} for r in reads]
        if len(asks) == 1:
            ask = {**asks[0], "facets": list(FACETS), "page": offset // limit + 1, "hitsPerPage": limit}
            if not terms:
                ask["sort"] = ["year:desc"]
            return ask
        # A reading that found the person outranks one that did not.
        return {"federation": {"offset": offset, "limit": limit, "facetsByIndex": {self.name: list(FACETS)},
                               "mergeFacets": {}},
                "queries": [{"indexUid": self.name, **ask,
                             "federationOptions": {"weight": NAME_WEIGHT if r.tokens else 1.0}}
                            for r, ask in zip(reads, asks, strict=True)]}

    def raw_search(self, query: SearchQuery) -> dict:
        """Meilisearch's own answer to the first request `search` sends (benchmarks compare it)."""
        request = self.request_for(query)
        return self._send(request) if request else {}

    def _send(self, request: dict[str, Any]) -> dict:
        if "federation" in request:
            return self.client.multi_search(request["queries"], federation=request["federation"])
        return self._index(self.name).search(request["q"], {k: v for k, v in request.items() if k != "q"})

    def _ask(self, fn: Callable[[], Any]) -> Any:
        """A read; None when the index does not exist yet (nothing indexed)."""
        try:
            return fn()
        except MeilisearchApiError as exc:
            if exc.code == "index_not_found":
                return None
            raise SearchUnavailable(f"Meilisearch search failed: {exc}") from exc
        except (MeilisearchError, requests.RequestException) as exc:
            raise SearchUnavailable(f"Meilisearch at {self.url} unavailable (search): {exc}") from exc

    def _unknown_pairs(self, pairs: list[str], levels: list[str]) -> frozenset[str]:
        """The character pairs in no document of the given access levels, in one
        multi-search.  Documents the user may not see must not change how a
        query is cut, or the results would hint at them."""
        probes = [{"indexUid": self.name, "q": f'"{p[0]} {p[1]}"', "filter": access_filter(levels),
                   "limit": 0, "attributesToSearchOn": PROBED} for p in pairs]
        res = self._ask(lambda: self.client.multi_search(probes))
        return frozenset(p for p, r in zip(pairs, res["results"] if res else [], strict=False)
                         if not r.get("estimatedTotalHits"))

    def _search(self, request: dict[str, Any]) -> dict | None:
        return self._ask(lambda: self._send(request))

    def search(self, query: SearchQuery) -> SearchResult:
        terms = query_terms(query.q)
        reads = readings(terms, self.keys)
        unknown: frozenset[str] = NO_CUTS
        levels = [a for a in query.access_levels if a in ACCESS_LEVELS]
        probed = any(r.tokens and not r.marks for r in reads)
        if probed and (pairs := probe_pairs(terms)):
            # A query read with a full name is cut before it is sent, as the embedded backend
            # does: whether the hidden name matched must not decide how its words are cut (and so
            # which other records and which marks come back), or the answer would tell.
            unknown = self._unknown_pairs(pairs, levels)
        request = self.request_for(query, unknown, reads)
        res = self._search(request) if request else None
        if not res:
            return no_hits(self.backend)
        # A query that finds nothing may be words typed without spaces: cut it
        # where a character pair occurs nowhere and ask again.  Any such pair
        # empties the first answer, so this gives the same results as the
        # embedded backend, which cuts before it asks; queries that find
        # something (a name joined to words among them: its reading is in the
        # first request) cost no extra request.  Probing the pairs in the first
        # request instead would cost the engine ~0.5 ms a pair (at a million
        # documents) on every query that finds something, to save one request.
        if not probed and not res["hits"] and not _total(res) and (pairs := probe_pairs(terms)):
            unknown = self._unknown_pairs(pairs, levels)
            if unknown:
                res = self._search(self.request_for(query, unknown, reads))
                if not res:
                    return no_hits(self.backend)
        marks = reading_needles(reads, unknown)
        hits = []
        for h in res["hits"]:
            title, summary = h.get("title"), h.get("summary")
            hits.append(Hit(id=h["id"], highlight=highlight(title, summary, hit_needles(title, summary, marks))))
        distribution = res.get("facetDistribution") or {}
        facets = {ours: dict(sorted(distribution.get(theirs, {}).items(), key=lambda kv: (-kv[1], kv[0])))
                  for theirs, ours in FACETS.items()}
        # Totals stop at maxTotalHits (and a federated one is an estimate); every
        # document has exactly one category, so the (exhaustive) category facet
        # counts them all.
        total = max(_total(res), sum(facets["category"].values()))
        return SearchResult(total=total, hits=hits, facets=facets, backend=self.backend)


def _ndjson(doc: dict) -> bytes:
    """A document as one line of NDJSON in UTF-8 (the client's own JSON writes every Chinese
    character as a six-byte escape sequence: twice the bytes of UTF-8)."""
    return _JSON.encode(doc).encode()


def _total(res: dict) -> int:
    return res.get("totalHits") or res.get("estimatedTotalHits") or 0
