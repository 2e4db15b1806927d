"""The public index: what peers' search engines may read of this node (Meilisearch's network
feature, remote federated multi-search).

A remote query can return any attribute a document holds, displayed or not, so this index holds
only what an anonymous visitor sees of an open record: masked title and summary, the masked
name (王*英), reference code, category, archive, year, place, the record's public page (`url`)
and the node's name. No full name, no keyed name token, no ID number, no text of digitized
copies (OCR can carry both). Restricted and closed records are not in it at all.

Its searchable copies are made as the normal index makes them (meili_schema: normalised, split
into characters, synonyms expanded), so a query reads the same on every node. A name search
needs the node's own secret (names.py) and so never runs here: the portal asks such searches of
each peer over its signed API instead."""

from __future__ import annotations

from typing import Any

from . import synonyms
from .base import SearchQuery
from .meili import MeiliIndex
from .meili_schema import SOURCES, _split_normalized, field_filters, meili_query, primary_key, split
from .query import Reading, hit_needles, query_terms, reading_needles
from .text import highlight, normalize

PUBLIC_INDEX = "public_records"
SEARCH_KEY_NAME = "portal-public-search"
# Every field a public document has, and nothing else (tests/federation checks the index for it).
PUBLIC_FIELDS = ("id", "reference_code", "title", "summary", "category", "archive_code", "archive_name", "year",
                 "place", "subject_mask", "url", "node")
SEARCHABLE = ["s_title", "s_ref", "s_label", "s_place", "s_archive", "s_year", "s_summary", "s_syn"]
PUBLIC_SOURCES = {k: v for k, v in SOURCES.items() if k in SEARCHABLE}
FACETS = ("category", "archive_code", "decade", "node")
SETTINGS: dict[str, Any] = {
    "searchableAttributes": SEARCHABLE,
    "displayedAttributes": [*PUBLIC_FIELDS],
    "filterableAttributes": ["pk", "category", "archive_code", "year", "decade", "node"],
    "facetSearch": False,
    "sortableAttributes": ["year"],
    "localizedAttributes": [{"attributePatterns": SEARCHABLE, "locales": ["cmn"]}],
    "faceting": {"maxValuesPerFacet": 2000, "sortFacetValuesBy": {"*": "count"}},
    "pagination": {"maxTotalHits": 100_000},
}


def public_meili_document(doc: dict) -> dict:
    """A public document (PUBLIC_FIELDS, from portal.catalog.indexing.public_document) as stored."""
    unknown = set(doc) - set(PUBLIC_FIELDS)
    if unknown:
        raise ValueError(f"not a public field: {', '.join(sorted(unknown))}")
    out = {k: doc[k] for k in PUBLIC_FIELDS}
    out["pk"] = primary_key(doc["id"])
    out["decade"] = int(doc["year"]) // 10 * 10
    texts = [normalize(str(doc.get(source) or "")) for source in PUBLIC_SOURCES.values()]
    for field, text in zip(PUBLIC_SOURCES, texts, strict=True):
        out[field] = _split_normalized(text)
    out["s_year"] = split(str(doc["year"]))
    text = " ".join(texts)
    expansions = {alt for key, alts in synonyms.synonym_map().items() if key in text for alt in alts}
    out["s_syn"] = ". ".join(split(e) for e in sorted(expansions))
    return out


class PublicMeiliIndex(MeiliIndex):
    """The public index on this node's Meilisearch (upsert, delete, rebuild as the normal one)."""

    settings = SETTINGS

    def __init__(self, url: str, api_key: str | None, name_secret: bytes | str, index_name: str = PUBLIC_INDEX,
                 timeout: float = 10.0) -> None:
        super().__init__(url, api_key, name_secret, index_name, timeout=timeout)
        self._joined: tuple | None = None
        self._search_key: str | None = None

    def _document(self, doc: dict) -> dict:
        return public_meili_document(doc)

    def _check_documents(self) -> None:  # no name tokens here to miss
        return None

    # --- the network feature ------------------------------------------------------------------------

    def _raw(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        """One call to this engine's API (the client lacks a per-call timeout); raises
        SearchUnavailable for no answer or an error status."""
        headers = {"Authorization": f"Bearer {self._clients.api_key}"} if self._clients.api_key else {}

        def send() -> Any:
            response = self.session.request(method, self.url + path, json=body, timeout=timeout, headers=headers)
            response.raise_for_status()
            return response.json() if response.content else None
        return self._call(f"{method} {path}", send)

    def join_network(self, self_name: str, remotes: dict[str, dict[str, str]]) -> None:
        """Turn the network feature on and name this engine and its remotes ({name: {url,
        searchApiKey}}), unless the engine says so already; remotes no longer listed are removed."""
        wanted = (self_name, repr(sorted(remotes.items())))
        if self._joined == wanted:
            return
        if not (self._raw("GET", "/experimental-features") or {}).get("network"):
            self._raw("PATCH", "/experimental-features", {"network": True})
        now = self._raw("GET", "/network") or {}
        current = {name: {"url": r.get("url"), "searchApiKey": r.get("searchApiKey")}
                   for name, r in (now.get("remotes") or {}).items()}
        if now.get("self") != self_name or current != remotes:
            gone = {name: None for name in current if name not in remotes}
            self._raw("PATCH", "/network", {"self": self_name, "remotes": {**remotes, **gone}})
        self._joined = wanted

    def search_key(self) -> str:
        """A key that may only search the public index (made once, then found by its name)."""
        if self._search_key:
            return self._search_key
        for key in (self._raw("GET", "/keys?limit=1000") or {}).get("results", []):
            if key.get("name") == SEARCH_KEY_NAME and key.get("actions") == ["search"] \
                    and key.get("indexes") == [self.name]:
                self._search_key = key["key"]
                return self._search_key
        made = self._raw("POST", "/keys", {"name": SEARCH_KEY_NAME, "actions": ["search"], "indexes": [self.name],
                                           "expiresAt": None,
                                           "description": "peers' engines: search the public index only"})
        self._search_key = made["key"]
        return self._search_key

    def network_search(self, request: dict[str, Any], timeout: float) -> dict:
        return self._raw("POST", "/multi-search", request, timeout=timeout)

    def network_request(self, query: SearchQuery, remotes: list[str], *, limit: int) -> dict[str, Any] | None:
        """A federated multi-search of this node's public index (no `remote`: the local one) and
        each remote's, merged by the engine's ranking score; facets merged, per node too. None
        when nothing can match."""
        terms = query_terms(query.q)
        if query.q.strip() and not terms:
            return None
        filters = field_filters(query)
        ask = {"indexUid": self.name, "q": meili_query(Reading((), tuple(terms))), "filter": filters,
               "matchingStrategy": "all", "showRankingScore": True}
        return {"federation": {"offset": 0, "limit": limit, "facetsByIndex": {self.name: list(FACETS)},
                               "mergeFacets": {}},
                "queries": [{**ask, "federationOptions": {}}]
                + [{**ask, "federationOptions": {"remote": r}} for r in remotes]}

    @staticmethod
    def highlight_hit(query: SearchQuery, hit: dict) -> str:
        terms = query_terms(query.q)
        marks = reading_needles([Reading((), tuple(terms))])
        title, summary = hit.get("title"), hit.get("summary")
        return highlight(title, summary, hit_needles(title, summary, marks))
