"""Full-text search over livelihood records, embedded (SQLite FTS5) or Meilisearch.

Usage::

    index = open_index("embedded", data_dir="instance")
    index.rebuild(docs)
    result = index.search(SearchQuery(q="婚姻登記", category="marriage"))
"""

from __future__ import annotations

from pathlib import Path

from .base import Hit, SearchIndex, SearchQuery, SearchResult, SearchUnavailable

__all__ = ["Hit", "SearchIndex", "SearchQuery", "SearchResult", "SearchUnavailable", "open_index"]

BACKENDS = ("embedded", "meilisearch")


def open_index(backend: str, *, data_dir: str | Path, name_secret: bytes | str, meili_url: str | None = None,
               meili_key: str | None = None, index_name: str = "records") -> SearchIndex:
    """Open the configured backend.  Meilisearch is not contacted until first use.

    ``name_secret`` keys the tokens that let a full name match without the index holding it
    (see names.py): keep it secret and stable; documents indexed under another secret are found
    by their names again only after a rebuild from the catalog."""
    if backend == "embedded":
        from .embedded import EmbeddedIndex

        return EmbeddedIndex(data_dir, name_secret)
    if backend == "meilisearch":
        if not meili_url:
            raise ValueError("the meilisearch backend needs meili_url")
        from .meili import MeiliIndex

        return MeiliIndex(meili_url, meili_key, name_secret, index_name)
    raise ValueError(f"unknown search backend {backend!r}; expected one of {', '.join(BACKENDS)}")
