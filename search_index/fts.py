"""Row-key layout, FTS5 expressions and filter SQL for the embedded backend.

Every document gets a 63-bit integer key that is both its FTS5 rowid and the
primary key of its stored copy.  The key packs the filterable fields:

    bit 62..55  decade field = 255 - year // 10  ┐ year field: inverted, so
    bit 54..51  year digit   = 9 - year % 10     ┘ ascending key = newest first
    bit 50..43  category     (small int from the ``codes`` table)
    bit 42..29  archive      (small int from the ``codes`` table)
    bit 28..27  access level (0 open, 1 restricted, 2 closed)
    bit 26..0   sequence number, unique per document id

Why: FTS5 hands back matching rowids without touching any other table, so
filters become bit tests, a year range becomes one rowid range FTS5 seeks
to, "newest first" is FTS5's natural ascending order, and facet counts come
from bits of the rowid, never from a join against 100k stored rows.
Splitting the year into decade and digit makes the facet group (decade,
category, archive) two cheap operations per row: a shift and a mask.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass

from . import query
from .base import ACCESS_LEVELS
from .text import fts_quote

# Bump when the key layout, the columns or the way they are filled changes:
# an index built differently is re-indexed on open (see store.fingerprint).
# 4: the meta column also holds the year, so that "结婚 1985" finds it.
# 5: the name column holds name and mask tokens (names.py), not the name.
# 6: the summary column also holds the text of a record's digitized copies (copy_text).
LAYOUT_VERSION = "6"

SEQ_BITS = 27
ACC_SHIFT, ACC_BITS = 27, 2
ARC_SHIFT, ARC_BITS = 29, 14
CAT_SHIFT, CAT_BITS = 43, 8
YEAR_SHIFT, YEAR_BITS = 51, 12
MAX_YEAR = 2559  # years are clamped into 0..2559 (an 8-bit decade field)
MAX_CATEGORIES = 1 << CAT_BITS
MAX_ARCHIVES = 1 << ARC_BITS
SEQ_MASK = (1 << SEQ_BITS) - 1
ACC_INDEX = {level: i for i, level in enumerate(ACCESS_LEVELS)}

# FTS5 columns and their bm25() weights: title, full name and reference code
# outrank the descriptive metadata, which outranks the summary.
COLUMNS = ("title", "name", "ref", "meta", "summary")
WEIGHTS = (10.0, 10.0, 10.0, 4.0, 1.0)
STRONG = "{title name ref}"

# A token every document carries in its meta column, so that an empty query
# is just another FTS5 match (private-use character: user input can never
# produce it, as normalisation drops non-word characters).
ALL_TOKEN = "\ue000"
ALL_MATCH = fts_quote(ALL_TOKEN)


def year_field(year: int) -> int:
    year = min(max(year, 0), MAX_YEAR)
    return (255 - year // 10) << 4 | (9 - year % 10)


def pack(year: int, cat: int, arc: int, acc: int, seq: int) -> int:
    return (year_field(year) << YEAR_SHIFT | cat << CAT_SHIFT | arc << ARC_SHIFT
            | acc << ACC_SHIFT | seq)


@dataclass(frozen=True)
class Filter:
    """SQL condition over a packed key column, plus its bound parameters."""

    sql: str
    params: tuple[int, ...]


def key_range(year_from: int | None, year_to: int | None) -> tuple[int, int]:
    """Smallest and largest rowid of documents within the year range."""
    lo_year = year_field(year_to) if year_to is not None else 0
    hi_year = year_field(year_from) if year_from is not None else (1 << YEAR_BITS) - 1
    return lo_year << YEAR_SHIFT, ((hi_year + 1) << YEAR_SHIFT) - 1


def key_filter(col: str, lo: int, hi: int, *, acc: list[int], cat: int | None, arc: int | None,
               shift: int = 0) -> Filter:
    """Rowid range plus bit tests (mask-and-compare: the fewest VDBE operations
    per row).  ``shift`` adapts it to the ``agg`` table, whose key is the
    rowid with the sequence bits shifted away."""
    sql = [f"{col} >= ? AND {col} <= ?"]
    params: list[int] = [lo >> shift, hi >> shift]

    def field(at: int, bits: int, values: list[int]) -> None:
        mask = ((1 << bits) - 1) << (at - shift)
        if len(values) == 1:
            sql.append(f"({col} & {mask}) = ?")
        else:
            sql.append(f"({col} & {mask}) IN ({','.join('?' * len(values))})")
        params.extend(v << (at - shift) for v in values)

    if len(acc) < len(ACCESS_LEVELS):
        field(ACC_SHIFT, ACC_BITS, acc)
    if cat is not None:
        field(CAT_SHIFT, CAT_BITS, [cat])
    if arc is not None:
        field(ARC_SHIFT, ARC_BITS, [arc])
    return Filter(" AND ".join(sql), tuple(params))


def split_range(lo: int, hi: int, docs_per_year_field: dict[int, int], parts: int) -> list[tuple[int, int]]:
    """Cut [lo, hi] at year boundaries into ``parts`` pieces holding similar document counts."""
    fields = sorted(f for f in docs_per_year_field if lo >> YEAR_SHIFT <= f <= hi >> YEAR_SHIFT)
    total = sum(docs_per_year_field[f] for f in fields)
    cuts, running = [], 0
    for f in fields[:-1]:
        running += docs_per_year_field[f]
        if running >= total * (len(cuts) + 1) / parts:
            cuts.append((f + 1) << YEAR_SHIFT)
    bounds = [lo, *cuts, hi + 1]
    return [(a, b - 1) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


# Facet groups: (rowid >> GROUP_SHIFT) & GROUP_MASK is (decade field, 0000,
# category, archive): the year digit is masked out.
GROUP_SHIFT = ARC_SHIFT
_DIGIT_AT = CAT_BITS + ARC_BITS
GROUP_MASK = ((1 << (YEAR_SHIFT + YEAR_BITS - GROUP_SHIFT)) - 1) & ~(15 << _DIGIT_AT)


def decode_group(key: int) -> tuple[str, int, int]:
    """(decade label, category index, archive index) of a facet group key."""
    return (str((255 - (key >> (_DIGIT_AT + 4))) * 10),
            (key >> ARC_BITS) & (MAX_CATEGORIES - 1), key & (MAX_ARCHIVES - 1))


def facets(groups: list[tuple[int, int]],
           name: Callable[[str, int], str]) -> tuple[int, dict[str, dict[str, int]]]:
    """Total and facets from (group key, count) rows; ``name`` maps a
    category/archive index back to its code."""
    out: dict[str, defaultdict[str, int]] = {k: defaultdict(int) for k in ("category", "archive", "decade")}
    for key, n in groups:
        decade, cat, arc = decode_group(key)
        out["decade"][decade] += n
        out["category"][name("category", cat)] += n
        out["archive"][name("archive", arc)] += n
    total = sum(out["decade"].values())
    return total, {kind: dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
                   for kind, counts in out.items()}


# --- match expressions ----------------------------------------------------

def pieces_expr(pieces: list[tuple[bool, str]]) -> str:
    """FTS5 expression for the pieces of one term (see query.py): AND of their tokens.

    A piece matches when all its bigrams occur, not necessarily adjacent: a
    positional phrase costs about twice as much for common words at 1M
    documents and buys almost no precision for Chinese.  Bigrams are taken
    without overlap (婚姻登记 → 婚姻 AND 登记), the last one shifted to cover
    the final character, since each extra token is one more long posting
    list to intersect.  A single CJK character is a prefix query.
    """
    tokens: list[str] = []
    for is_cjk, run in pieces:
        if not is_cjk:
            tokens.append(fts_quote(run))
        elif len(run) == 1:
            tokens.append(fts_quote(run) + "*")
        else:
            starts = list(range(0, len(run) - 1, 2))
            if starts[-1] != len(run) - 2:
                starts.append(len(run) - 2)
            tokens.extend(fts_quote(run[i : i + 2]) for i in starts)
    return " AND ".join(dict.fromkeys(tokens))


def term_expr(term: str, unknown: Collection[str]) -> str:
    """The term, cut where a character pair is ``unknown``, or one of its synonyms."""
    alternatives = [e for e in map(pieces_expr, query.alternatives(term, unknown)) if e]
    if len(alternatives) == 1:
        return f"({alternatives[0]})"
    return "(" + " OR ".join(f"({a})" for a in alternatives) + ")"


def reading_expr(reading: query.Reading, unknown: Collection[str]) -> str:
    """Every token in the name column, every term in any column."""
    return " AND ".join([*(f"name : {fts_quote(t)}" for t in reading.tokens),
                         *(term_expr(t, unknown) for t in reading.terms)])


def match_expr(readings: list[query.Reading], unknown: Collection[str]) -> str:
    """Any reading of the query matches."""
    if len(readings) == 1:
        return reading_expr(readings[0], unknown)
    return " OR ".join(f"({reading_expr(r, unknown)})" for r in readings)


def strong_expr(readings: list[query.Reading], unknown: Collection[str]) -> str:
    """Documents where at least one term or token matches in title, name or reference."""
    parts = dict.fromkeys([*(fts_quote(t) for r in readings for t in r.tokens),
                           *(term_expr(t, unknown) for r in readings for t in r.terms)])
    return f"{STRONG} : (" + " OR ".join(parts) + ")"
