"""How documents and queries look to Meilisearch (1.21): settings, document shape, query strings.

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

The full name is never sent: ``names`` holds its keyed token and the mask
token (names.py), and a query reading that holds a name filters on the token
(cheaper than a query word: the engine then ranks only that person's records).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from . import synonyms
from .base import validate_doc
from .names import NameKeys, name_tokens
from .query import NO_CUTS, Reading, pieces
from .text import normalize, runs

# The fields a document keeps as given: what a hit returns (id, title and summary, to
# highlight) and what filters and facets read.  Other fields reach the index only as their
# searchable copies (SOURCES): the portal shows a hit from its own database.
DISPLAYED = ["id", "title", "summary", "category", "archive_code", "year", "access_level"]
# Rank order of the attribute ranking rule (hidden normalised copies).
SEARCHABLE = ["s_title", "s_ref", "s_label", "s_place", "s_archive", "s_year", "s_summary",
              "s_copy", "s_syn"]
# Where a character pair must occur not to cut a query word (see query.py):
# the documents' own text, as in the embedded backend, not synonym expansions.
PROBED = [a for a in SEARCHABLE if a != "s_syn"]
SOURCES = {"s_title": "title", "s_ref": "reference_code",
           "s_label": "category_label", "s_place": "place", "s_archive": "archive_name",
           "s_summary": "summary", "s_copy": "copy_text"}
FACETS = {"category": "category", "archive_code": "archive", "decade": "decade"}
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,400}")

SETTINGS: dict[str, Any] = {
    "searchableAttributes": SEARCHABLE,
    "displayedAttributes": DISPLAYED,
    "filterableAttributes": ["pk", "category", "archive_code", "year", "decade", "access_level", "names"],
    # Nobody lists the values of a filterable attribute (the name tokens among them).
    "facetSearch": False,
    "sortableAttributes": ["year"],
    "localizedAttributes": [{"attributePatterns": SEARCHABLE, "locales": ["cmn"]}],
    "faceting": {"maxValuesPerFacet": 2000, "sortFacetValuesBy": {"*": "count"}},
    # Deepest reachable result (page * per_page); totals are exact regardless.
    "pagination": {"maxTotalHits": 100_000},
}


def split(text: str) -> str:
    """Normalised text as space-separated characters; runs split by a hard separator."""
    return _split_normalized(normalize(text))


def _split_normalized(text: str) -> str:
    return ". ".join(" ".join(run) if cjk else run for cjk, run in runs(text))


def primary_key(doc_id: str) -> str:
    """Meilisearch ids allow only [A-Za-z0-9_-] (511 bytes); hash anything else.

    The original id travels in the displayed ``id`` field, so the hash never
    needs reversing; ids that could pass for a hash are hashed too.
    """
    if _SAFE_ID.fullmatch(doc_id) and not doc_id.startswith("h_"):
        return doc_id
    return "h_" + hashlib.sha256(doc_id.encode()).hexdigest()


def to_meili(doc: dict, keys: NameKeys) -> dict:
    validate_doc(doc)
    out = {k: doc[k] for k in DISPLAYED}
    out["pk"] = primary_key(doc["id"])
    out["decade"] = doc["year"] // 10 * 10
    # Each source normalised once (a rebuild does this for every document).
    texts = [normalize(str(doc.get(source) or "")) for source in SOURCES.values()]
    for field, text in zip(SOURCES, texts, strict=True):
        out[field] = _split_normalized(text)
    out["names"] = name_tokens(keys, doc["subject_name"], doc["subject_mask"])
    # The year is searchable as a word too: citizens type "婚姻登记 1985".
    out["s_year"] = split(str(doc["year"]))
    text = " ".join(texts)
    expansions = {alt for key, alts in synonyms.synonym_map().items() if key in text for alt in alts}
    out["s_syn"] = ". ".join(split(e) for e in sorted(expansions))
    return out


def meili_query(reading: Reading, unknown: frozenset[str] = NO_CUTS) -> str:
    """Each piece of a term (see query.py) as a phrase of its characters: every piece must
    occur.  The reading's name tokens are a filter (names_filter)."""
    parts = []
    for term in reading.terms:
        words: list[str] = []
        for cjk, run in pieces(term, unknown):
            if cjk:
                words.append(f'"{" ".join(run)}"' if len(run) > 1 else run)
            else:
                words.append(run)
        parts.append(" ".join(words))
    return " ".join(parts)


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def field_filters(query) -> list[str]:
    """The query's filters on category, archive and years, as Meilisearch filter expressions
    (the normal index and the public one: search_index/meili_public.py)."""
    filters = []
    if query.category:
        filters.append(f"category = {quote(query.category)}")
    if query.archive:
        filters.append(f"archive_code = {quote(query.archive)}")
    if query.year_from is not None:
        filters.append(f"year >= {int(query.year_from)}")
    if query.year_to is not None:
        filters.append(f"year <= {int(query.year_to)}")
    return filters


def names_filter(reading: Reading) -> list[str]:
    """The reading's name tokens, each of which the document's subject must carry."""
    return [f"names = {quote(t)}" for t in reading.tokens]


def access_filter(levels: list[str]) -> str:
    return f"access_level IN [{', '.join(quote(a) for a in levels)}]"
