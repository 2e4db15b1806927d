"""Meilisearch backend (official client, Meilisearch 1.21).

Meilisearch segments Chinese into words itself, which breaks the contract in
measurable ways (tested against 1.21): a character inside a word (姻 in 婚姻)
is not found, and traditional/simplified only meet for some characters
(醫療保險 does not find 医疗保险).  So documents carry hidden ``s_*`` copies
of their searchable text, normalised exactly like the embedded backend does
and split into single characters, and queries are rewritten the same way:
a Chinese word becomes a phrase of its characters, which Meilisearch matches
as adjacent words.  Synonyms are expanded at indexing time into ``s_syn``
(phrases bypass Meilisearch's query-time synonyms, which also stop at
three-word keys); the shared list is still installed as the synonyms setting
for the rare unquoted query words.

The full name is sent only as ``s_name`` and is never displayed; hits are
highlighted with the same code as the embedded backend, on the original
title and summary, so both backends render identical, HTML-safe snippets.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

import meilisearch
import requests
from meilisearch.errors import MeilisearchApiError, MeilisearchError

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
    validate_doc,
)
from .text import highlight, needles_for, normalize, query_terms, runs

DISPLAYED = ["id", "reference_code", "title", "category", "category_label", "archive_code",
             "archive_name", "year", "place", "summary", "access_level"]
# Rank order of the attribute ranking rule (hidden normalised copies).
SEARCHABLE = ["s_title", "s_name", "s_ref", "s_label", "s_place", "s_archive", "s_summary", "s_syn"]
SOURCES = {"s_title": "title", "s_name": "subject_name", "s_ref": "reference_code",
           "s_label": "category_label", "s_place": "place", "s_archive": "archive_name",
           "s_summary": "summary"}
FACETS = {"category": "category", "archive_code": "archive", "decade": "decade"}
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,400}")

SETTINGS: dict[str, Any] = {
    "searchableAttributes": SEARCHABLE,
    "displayedAttributes": DISPLAYED,
    "filterableAttributes": ["pk", "category", "archive_code", "year", "decade", "access_level"],
    "sortableAttributes": ["year"],
    "localizedAttributes": [{"attributePatterns": SEARCHABLE, "locales": ["cmn"]}],
    "faceting": {"maxValuesPerFacet": 2000, "sortFacetValuesBy": {"*": "count"}},
    # Deepest reachable result (page * per_page); totals are exact regardless.
    "pagination": {"maxTotalHits": 100_000},
}


def split(text: str) -> str:
    """Normalised text as space-separated characters; runs split by a hard separator."""
    return ". ".join(" ".join(run) if cjk else run for cjk, run in runs(normalize(text)))


def primary_key(doc_id: str) -> str:
    """Meilisearch ids allow only [A-Za-z0-9_-] (511 bytes); hash anything else.

    The original id travels in the displayed ``id`` field, so the hash never
    needs reversing; ids that could pass for a hash are hashed too.
    """
    if _SAFE_ID.fullmatch(doc_id) and not doc_id.startswith("h_"):
        return doc_id
    return "h_" + hashlib.sha256(doc_id.encode()).hexdigest()


def to_meili(doc: dict) -> dict:
    validate_doc(doc)
    out = {k: doc[k] for k in DISPLAYED}
    out["pk"] = primary_key(doc["id"])
    out["decade"] = doc["year"] // 10 * 10
    for field, source in SOURCES.items():
        out[field] = split(str(doc.get(source) or ""))
    text = normalize(" ".join(str(doc.get(s) or "") for s in SOURCES.values() if s != "subject_name"))
    expansions = {alt for key, alts in synonyms.synonym_map().items() if key in text for alt in alts}
    out["s_syn"] = ". ".join(split(e) for e in sorted(expansions))
    return out


def meili_query(terms: list[str]) -> str:
    parts = []
    for term in terms:
        words: list[str] = []
        for cjk, run in runs(term):
            if cjk:
                words.append(f'"{" ".join(run)}"' if len(run) > 1 else run)
            else:
                words.append(run)
        parts.append(" ".join(words))
    return " ".join(parts)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MeiliIndex(SearchIndex):
    backend = "meilisearch"

    def __init__(self, url: str, api_key: str | None, index_name: str = "records",
                 timeout: float = 10.0, task_timeout_ms: int = 600_000) -> None:
        self.url, self.name = url, index_name
        self.client = meilisearch.Client(url, api_key, timeout=timeout)
        self.task_timeout_ms = task_timeout_ms
        self._ready = False

    # --- plumbing ---------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (MeilisearchError, requests.RequestException) as exc:
            raise SearchUnavailable(f"Meilisearch at {self.url} unavailable ({what}): {exc}") from exc

    def _wait(self, what: str, task_info: Any, tolerate: str | None = None) -> None:
        """Wait for a task; raise unless it succeeded (or failed with ``tolerate``)."""
        task = self._call(what, lambda: self.client.wait_for_task(
            task_info.task_uid, timeout_in_ms=self.task_timeout_ms, interval_in_ms=20))
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
            wanted = {**SETTINGS, "synonyms": {split(k): [split(v) for v in vs]
                                               for k, vs in synonyms.synonym_map().items()}}
            self._wait("settings", self._call("settings", lambda: self.client.index(uid).update_settings(
                wanted)))

    def _ensure_ready(self) -> None:
        if not self._ready:
            self._setup(self.name)
            self._ready = True

    # --- writes -----------------------------------------------------------

    def upsert(self, docs: Iterable[dict]) -> None:
        self._ensure_ready()
        index = self.client.index(self.name)
        for batch in batched(docs):
            payload = [to_meili(d) for d in batch]
            self._wait("upsert", self._call("upsert", lambda p=payload: index.add_documents(p, "pk")))

    def delete(self, ids: Iterable[str]) -> None:
        self._ensure_ready()
        index = self.client.index(self.name)
        for batch in batched(dict.fromkeys(ids), 1000):
            # Filter rather than the deprecated id-list call (it warns).
            flt = f"pk IN [{', '.join(_quote(primary_key(i)) for i in batch)}]"
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
            # Drop the partial load (the live index was never touched); if the
            # server is unreachable, the next rebuild drops it instead.
            with contextlib.suppress(MeilisearchError, requests.RequestException):
                self.client.delete_index(tmp)
            raise
        # After the swap the temporary index holds the old documents.
        self._wait("drop old index", self._call("drop", lambda: self.client.delete_index(tmp)))
        self._ready = True
        return total

    def _load(self, uid: str, docs: Iterable[dict], progress: Callable[[int], None] | None) -> int:
        self._setup(uid)
        index = self.client.index(uid)
        total = 0
        pending: tuple[Any, int] | None = None
        for batch in batched(docs):
            payload = [to_meili(d) for d in batch]
            task = self._call("load", lambda p=payload: index.add_documents(p, "pk"))
            # Keep one batch queued while the previous one is indexed.
            if pending:
                self._wait("load", pending[0])
                if progress:
                    progress(pending[1])
            pending = (task, len(payload))
            total += len(payload)
        if pending:
            self._wait("load", pending[0])
            if progress:
                progress(pending[1])
        return total

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
        """Nothing to release: the client opens a connection per request."""

    def request_for(self, query: SearchQuery) -> tuple[str, dict[str, Any]] | None:
        """The q and parameters sent to Meilisearch for `query`; None when nothing can match."""
        offset, limit = clamp_paging(query)
        levels = [a for a in query.access_levels if a in ACCESS_LEVELS]
        if not levels:
            return None
        filters = [f"access_level IN [{', '.join(_quote(a) for a in levels)}]"]
        if query.category:
            filters.append(f"category = {_quote(query.category)}")
        if query.archive:
            filters.append(f"archive_code = {_quote(query.archive)}")
        if query.year_from is not None:
            filters.append(f"year >= {int(query.year_from)}")
        if query.year_to is not None:
            filters.append(f"year <= {int(query.year_to)}")
        params: dict[str, Any] = {
            "filter": filters, "facets": list(FACETS), "matchingStrategy": "all",
            "page": offset // limit + 1, "hitsPerPage": limit,
            "attributesToRetrieve": ["id", "title", "summary"],
        }
        terms = query_terms(query.q)
        if not terms:
            params["sort"] = ["year:desc"]
        return meili_query(terms), params

    def raw_search(self, query: SearchQuery) -> dict:
        """Meilisearch's own answer to the request `search` sends (benchmarks compare against it)."""
        request = self.request_for(query)
        return self.client.index(self.name).search(*request) if request else {}

    def search(self, query: SearchQuery) -> SearchResult:
        empty = SearchResult(total=0, hits=[], facets={"category": {}, "archive": {}, "decade": {}},
                             backend=self.backend)
        request = self.request_for(query)
        if request is None:
            return empty
        terms = query_terms(query.q)
        try:
            res = self.client.index(self.name).search(*request)
        except MeilisearchApiError as exc:
            if exc.code == "index_not_found":
                return empty  # nothing indexed yet
            raise SearchUnavailable(f"Meilisearch search failed: {exc}") from exc
        except (MeilisearchError, requests.RequestException) as exc:
            raise SearchUnavailable(f"Meilisearch at {self.url} unavailable (search): {exc}") from exc
        needles = needles_for(t for term in terms for t in synonyms.expand(term))
        hits = [Hit(id=h["id"], highlight=highlight(h.get("title"), h.get("summary"), needles))
                for h in res["hits"]]
        distribution = res.get("facetDistribution") or {}
        facets = {ours: dict(sorted(distribution.get(theirs, {}).items(), key=lambda kv: (-kv[1], kv[0])))
                  for theirs, ours in FACETS.items()}
        # totalHits stops at maxTotalHits; every document has exactly one
        # category, so the (exhaustive) category facet counts them all.
        total = max(res.get("totalHits", 0), sum(facets["category"].values()))
        return SearchResult(total=total, hits=hits, facets=facets, backend=self.backend)
