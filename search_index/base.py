"""The backend-neutral interface the portal programs against."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

ACCESS_LEVELS = ("open", "restricted", "closed")

# The keys a document handed to the index must have (copy_text, the masked text of an open
# record's digitized copies, may come too: found like the summary, never shown).  subject_name is the full name (found,
# never stored or shown: see names.py); subject_mask is how the public sees it (王*英).
DOC_FIELDS = (
    "id", "reference_code", "title", "category", "category_label", "archive_code",
    "archive_name", "year", "place", "summary", "subject_name", "subject_mask", "access_level",
)

# Documents are written in batches of this size (one transaction each).
BATCH_SIZE = 5000
# rebuild() of the embedded index loads bigger batches: FTS5 builds one
# segment per batch, and fewer, larger segments load and merge faster.
REBUILD_BATCH_SIZE = 20000


@dataclass(frozen=True)
class SearchQuery:
    # Words to find (a year is a word too).  Blank means every document the
    # filters allow; text with nothing searchable in it (😀, !!!) finds nothing.
    q: str = ""
    category: str | None = None
    archive: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    access_levels: tuple[str, ...] = ("open",)
    page: int = 1
    per_page: int = 20


@dataclass
class Hit:
    id: str
    # HTML-safe: escaped title with <mark>s, or an escaped summary snippet
    # with <mark>s when only the summary matched.  Never the subject name.
    highlight: str


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    backend: str = ""


def no_hits(backend: str) -> SearchResult:
    return SearchResult(total=0, hits=[], facets={"category": {}, "archive": {}, "decade": {}},
                        backend=backend)


class SearchUnavailable(Exception):
    """The search engine is down, unreachable, or failed to apply a change."""


class SearchIndex(ABC):
    backend: str

    @abstractmethod
    def upsert(self, docs: Iterable[dict]) -> None:
        """Add documents, replacing any with the same id."""

    @abstractmethod
    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResult: ...

    @abstractmethod
    def rebuild(self, docs: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        """Drop everything, (re)apply settings, load ``docs`` in batches; return the count."""

    @abstractmethod
    def health(self) -> bool:
        """True when the index can serve searches.  Never raises."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def validate_doc(doc: dict) -> dict:
    """Check a document has the expected shape; return it unchanged."""
    missing = [k for k in DOC_FIELDS if k not in doc]
    if missing:
        raise ValueError(f"document {doc.get('id')!r} lacks fields: {', '.join(missing)}")
    if not isinstance(doc["id"], str) or not doc["id"]:
        raise ValueError(f"document id must be a non-empty string, got {doc['id']!r}")
    if doc["access_level"] not in ACCESS_LEVELS:
        raise ValueError(f"document {doc['id']!r}: unknown access_level {doc['access_level']!r}")
    if not isinstance(doc["year"], int) or isinstance(doc["year"], bool):
        raise ValueError(f"document {doc['id']!r}: year must be an int, got {doc['year']!r}")
    return doc


def clamp_paging(query: SearchQuery, max_per_page: int = 100) -> tuple[int, int]:
    """(offset, limit) from a query, tolerating silly page numbers."""
    per_page = min(max(int(query.per_page), 1), max_per_page)
    page = max(int(query.page), 1)
    return (page - 1) * per_page, per_page


def batched(items: Iterable, size: int = BATCH_SIZE) -> Iterable[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
