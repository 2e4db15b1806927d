"""What a user's query asks for, decided the same way by both backends.

Chinese users do not type spaces between words: 东江镇结婚 means 东江镇 结婚.
Matching it as one word requires every adjacent character pair, and the
pair that straddles the word boundary (镇结) usually occurs in no document,
so the query would find nothing.  A pair that occurs in no document the
user may see cannot narrow the result any further than "nothing", so the
word is cut there and its pieces must each occur: 东江镇结婚 → 东江镇 + 结婚.
When every pair occurs somewhere the word is matched exactly as before,
which keeps ordinary queries (结婚登记) as precise and as fast as they were;
the price is that a boundary pair found in some unrelated document (镇结
in 城镇结构) keeps the joined words whole, and the query still finds nothing.

Terms that are synonym keys (医保, 结婚证) are never cut: their synonyms
already say how else they may be written.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from . import synonyms
from .text import normalize, runs

NO_CUTS: frozenset[str] = frozenset()


def query_terms(q: str, max_terms: int = 16, max_len: int = 64) -> list[str]:
    """Whitespace-separated user terms, normalised, bounded in number and size.

    Bounding keeps pathological input (a 10,000-character paste) from turning
    into an enormous search expression; the leading part is still searched.
    """
    terms = []
    for raw in normalize(q.strip()[:2000]).split():
        term = raw[:max_len]
        if runs(term):
            terms.append(term)
        if len(terms) >= max_terms:
            break
    return terms


def nothing_searchable(q: str, terms: list[str]) -> bool:
    """True when the user typed something, but nothing in it can be searched
    (😀, !!!, *): such a query matches no document.  Only an empty query
    means "everything that passes the filters"."""
    return bool(q.strip()) and not terms


def cuttable(term: str) -> bool:
    return len(synonyms.expand(term)) == 1


def pairs(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def probe_pairs(terms: Iterable[str]) -> list[str]:
    """Adjacent CJK character pairs whose absence from the index would cut a term."""
    out: dict[str, None] = {}
    for term in terms:
        if cuttable(term):
            for is_cjk, run in runs(term):
                if is_cjk:
                    out.update(dict.fromkeys(pairs(run)))
    return list(out)


def pieces(term: str, unknown: Collection[str] = NO_CUTS) -> list[tuple[bool, str]]:
    """The term's (is_cjk, run) pieces that must all occur in a matching document,
    its CJK runs cut between the characters of every pair in ``unknown``."""
    if not unknown or not cuttable(term):
        return runs(term)
    out: list[tuple[bool, str]] = []
    for is_cjk, run in runs(term):
        if not is_cjk:
            out.append((False, run))
            continue
        start = 0
        for i, pair in enumerate(pairs(run), start=1):
            if pair in unknown:
                out.append((True, run[start:i]))
                start = i
        out.append((True, run[start:]))
    return out


def alternatives(term: str, unknown: Collection[str] = NO_CUTS) -> list[list[tuple[bool, str]]]:
    """Ways the term may match: the term itself (cut if need be), then its synonyms."""
    return [pieces(term, unknown), *(runs(alt) for alt in synonyms.expand(term)[1:])]


def needles(terms: Iterable[str], unknown: Collection[str] = NO_CUTS) -> list[str]:
    """The normalised strings a highlighter should look for."""
    return [piece for term in terms for alt in alternatives(term, unknown) for _, piece in alt]
