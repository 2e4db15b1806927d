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

A character cut off on both sides (登际 and 际审 occur nowhere: 结婚登际审查处理表)
is taken for a typing error and not required, once in a run of at least five
characters: the pieces on either side still are.  A short word is not loosened
(审批表 does not become 审 + 表).

A query may also hold a full name or a masked one (王秀英结婚登记, 王*英结婚登记):
readings() lists the ways to read it, each backend matches any of them in one
request, and ranking merges the answers (see names.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from itertools import islice
from dataclasses import dataclass, field

from . import synonyms
from .names import MASKED, NameKeys, mask_token, name_spans
from .text import normalize, runs

NO_CUTS: frozenset[str] = frozenset()
# A year followed by 年 (1985年结婚登记) is the year as a word: 年 is not part of the words after it.
_YEAR_NIAN = re.compile(r"(?<![0-9])([0-9]{4})年(?!度)")
# A run this long may hold one wrong character (see pieces()).
TYPO_MIN_RUN = 5
# Readings sent for one query at most: the text as typed, then names and masked names.
MAX_READINGS = 8


@dataclass(frozen=True)
class Reading:
    """One way to read a query: name tokens that must all occur in the subject's name, and
    text terms that must all occur (each as pieces() or one of its synonyms)."""

    tokens: tuple[str, ...]
    terms: tuple[str, ...]
    # Text to mark in a hit besides the terms: the masked name as typed (王*英).
    marks: tuple[str, ...] = ()
    # A full-name reading's name as the public sees it (王秀英 → 王*英): public, from the query.
    shown: str = field(default="", compare=False)


def query_terms(q: str, max_terms: int = 16, max_len: int = 64) -> list[str]:
    """Whitespace-separated user terms, normalised, bounded in number and size.

    Bounding keeps pathological input (a 10,000-character paste) from turning
    into an enormous search expression; the leading part is still searched.
    """
    terms = []
    for raw in _YEAR_NIAN.sub(r"\1 ", normalize(q.strip()[:2000])).split():
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
        cut = [0, *(i for i, pair in enumerate(pairs(run), start=1) if pair in unknown), len(run)]
        typo = len(run) >= TYPO_MIN_RUN
        for start, end in zip(cut, cut[1:], strict=False):
            # One character cut off on both sides, inside a long run: a typing error (once a run).
            if typo and end - start == 1 and 0 < start and end < len(run):
                typo = False
                continue
            out.append((True, run[start:end]))
    return out


def alternatives(term: str, unknown: Collection[str] = NO_CUTS) -> list[list[tuple[bool, str]]]:
    """Ways the term may match: the term itself (cut if need be), then its synonyms."""
    return [pieces(term, unknown), *(runs(alt) for alt in synonyms.expand(term)[1:])]


def needles(terms: Iterable[str], unknown: Collection[str] = NO_CUTS) -> list[str]:
    """The normalised strings a highlighter should look for."""
    return [piece for term in terms for alt in alternatives(term, unknown) for _, piece in alt]


def _rest(text: str) -> list[str]:
    """What remains of a term around a name, as terms (punctuation alone is dropped)."""
    return [t for t in text.split() if runs(t)]


def readings(terms: list[str], keys: NameKeys) -> list[Reading]:
    """The ways to read a query, most literal first: the terms as typed (unless one holds a
    masked name: the star says what it is), then each masked name, then each place a full name
    may stand (one name per reading).  At most MAX_READINGS."""
    return list(islice(_readings(terms, keys), MAX_READINGS))


def _readings(terms: list[str], keys: NameKeys) -> Iterator[Reading]:
    masked = {i: m for i, t in enumerate(terms) if (m := MASKED.search(t))}
    if not masked:
        yield Reading((), tuple(terms))
    for i, m in masked.items():
        before, after = terms[i][: m.start()], terms[i][m.end():]
        # 王*英结婚 is 王*英 + 结婚, or a two-character name 王* + 英结婚.
        shapes = [(m.group(), after)]
        if m.group(3) and runs(after):
            shapes.append((m.group(1) + m.group(2), m.group(3) + after))
        for mask, tail in shapes:
            rest = [*terms[:i], *_rest(before), *_rest(tail), *terms[i + 1:]]
            yield Reading((mask_token(mask),), tuple(rest), (mask,))
    for i, term in enumerate(terms):
        if i in masked:
            continue
        offset = 0
        for is_cjk, run in runs(term):
            at = term.index(run, offset)
            offset = at + len(run)
            for start, end in name_spans(run) if is_cjk else ():
                rest = [*terms[:i], *_rest(term[: at + start]), *_rest(term[at + end:]), *terms[i + 1:]]
                name = term[at + start: at + end]
                yield Reading((keys.name(name),), tuple(rest), shown=_masked(name))


def _masked(name: str) -> str:
    """A name as the catalog shows it (portal.core.masking.mask_name): first and last kept."""
    return name[0] + "*" if len(name) == 2 else name[0] + "*" * (len(name) - 2) + name[-1]


_ANY_KEYS = NameKeys("which readings hold a name: no token is compared")


def holds_full_name(q: str) -> bool:
    """Whether the index reads `q` with a full name somewhere (a hidden name could match): the
    searches that guessing a masked name needs, which the portal throttles per address.
    Masked names (王*英) do not count: what they match is public already."""
    return any(r.tokens and not r.marks for r in readings(query_terms(q), _ANY_KEYS))


@dataclass(frozen=True)
class ReadingMarks:
    """A reading with what a highlighter looks for when it matched: `needles`, and `needed`, one
    entry per term (and masked name) listing the ways it can show (its pieces, or a synonym's)."""
    reading: Reading
    needles: list[str]
    needed: tuple[tuple[tuple[str, ...], ...], ...]

    def shows_in(self, text: str) -> bool:
        """Whether `text` visibly holds every term (one of its ways) and every masked name."""
        return bool(self.needles) and all(any(all(p in text for p in way) for way in ways) for ways in self.needed)


def reading_needles(readings_: Iterable[Reading], unknown: Collection[str] = NO_CUTS) -> list[ReadingMarks]:
    """Each reading with the normalised strings a highlighter should look for when it matched."""
    return [ReadingMarks(r, [*needles(r.terms, unknown), *r.marks],
                         (*(tuple(tuple(p for _, p in alt) for alt in alternatives(t, unknown)) for t in r.terms),
                          *(((normalize(m),),) for m in r.marks)))
            for r in readings_]


def hit_needles(title: str | None, summary: str | None, per_reading: list[ReadingMarks]) -> list[str]:
    """What to mark in one hit, from what anyone can see — the query and the hit's title and
    summary — never from which reading found it: a hit found through the hidden full name is marked
    exactly as one found through its words, or guessing a masked name (覃?兰) would show which
    guess was right.  Of the readings the text visibly holds: the query as typed; else a full-name
    reading whose name, masked, the text shows (张*明结婚登记 for 张晓明结婚 marks 结婚, not 明结婚);
    else the full-name reading that marks the most (王秀英结婚登记 → 结婚登记, not 婚登记); else any."""
    text = normalize(f"{title or ''} {summary or ''}")
    fits = [m for m in per_reading if m.shows_in(text)]
    named = [m for m in fits if m.reading.tokens]
    if literal := [m for m in fits if not m.reading.tokens and not m.reading.marks]:
        chosen = literal[:1]
    elif shown := [m for m in named if m.reading.shown and normalize(m.reading.shown) in text]:
        chosen = shown[:1]
    elif named:
        chosen = [max(named, key=lambda m: sum(map(len, m.needles)))]
    else:
        chosen = fits or per_reading
    return list(dict.fromkeys(n for m in chosen for n in m.needles))
