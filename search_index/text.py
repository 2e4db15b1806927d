"""Text handling shared by both backends: normalisation, tokenising, highlighting.

Normalisation folds width/compatibility forms (NFKC), case, and traditional
Chinese characters to simplified ones, so that documents and queries written
in either script meet in the middle.  The traditional→simplified step is a
character-level ``str.translate`` table built from OpenCC's dictionaries:
phrase-level OpenCC conversion is ~100x slower and buys nothing for search,
because documents and queries go through the very same mapping (an ambiguous
character such as 乾 → 干 is folded identically on both sides).

Tokenising for the embedded engine: every run of CJK characters becomes its
overlapping character bigrams followed by the run's last character, e.g.
婚姻登记 → 婚姻 姻登 登记 记.  The bigrams cover every adjacent pair, so a query
word of n ≥ 2 characters matches when all its bigrams do (see fts.py), and a
one-character query is the prefix query ``"c"*``: every occurrence of a
character starts a bigram or is the final single character of its run.
Runs of other letters/digits are single lower-cased words.
"""

from __future__ import annotations

import functools
import html
import operator
import re
import unicodedata
from collections.abc import Iterable, Sequence
from importlib import resources

# Bump whenever the output of index_tokens() may change: the embedded index
# stores this (with the Unicode and mapping versions, see fingerprint()) and
# re-indexes when it differs, because deletes must reproduce the tokens.
TOKENIZER_VERSION = "1"

_CJK = (
    "\u3040-\u30ff"  # kana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs + compatibility
    "\uac00-\ud7af"  # hangul syllables
    "\U00020000-\U0003134f"  # CJK extensions B–H
)
_RUN_RE = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")


@functools.cache
def _t2s_table() -> dict[int, str]:
    """Character map traditional (incl. Taiwan/HK variants) → simplified."""
    pkg = resources.files("opencc") / "dictionary"

    def load(name: str) -> dict[str, str]:
        table = {}
        for line in (pkg / name).read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 2 and len(parts[0]) == 1:
                # First candidate is OpenCC's default choice for ambiguous chars.
                table[parts[0]] = parts[1].split(" ")[0]
        return table

    ts = load("TSCharacters.txt")
    variants = {**load("HKVariantsRev.txt"), **load("TWVariantsRev.txt")}
    out: dict[int, str] = {}
    for src in set(ts) | set(variants):
        mid = variants.get(src, src)
        dst = ts.get(mid, mid)
        if dst != src and len(dst) == 1:
            out[ord(src)] = dst
    return out


@functools.cache
def fingerprint() -> str:
    """Identifies the exact token output of this code on this interpreter."""
    import hashlib

    digest = hashlib.sha1(repr(sorted(_t2s_table().items())).encode()).hexdigest()[:12]
    return f"{TOKENIZER_VERSION}:{unicodedata.unidata_version}:{digest}"


def normalize(text: str) -> str:
    """NFKC + lower case + traditional→simplified.  Cheap on already-clean text."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.lower().translate(_t2s_table())


def runs(text: str) -> list[tuple[bool, str]]:
    """Split normalised text into (is_cjk, run) pieces, dropping punctuation."""
    return [(bool(m.group(1)), m.group()) for m in _RUN_RE.finditer(text)]


def _cjk_tokens(run: str) -> str:
    # map(add, ...) builds the bigrams in C: tokenising is a third of a rebuild.
    return run if len(run) == 1 else " ".join(map(operator.add, run, run[1:])) + " " + run[-1]


def index_tokens(text: str | None) -> str:
    """Space-separated tokens for an FTS5 column using the 'ascii' tokenizer."""
    if not text:
        return ""
    return " ".join(_cjk_tokens(cjk) if cjk else word for cjk, word in _RUN_RE.findall(normalize(text)))


def fts_quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


# --- highlighting ---------------------------------------------------------

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def _normalized_with_map(text: str) -> tuple[str, Sequence[int]]:
    """Normalise, remembering each output char's source index."""
    if unicodedata.is_normalized("NFKC", text) and len(text.lower()) == len(text):
        # The usual case: the t2s table and lower() then map one character to one, so
        # positions line up and the per-character walk below (a hot spot) is not needed.
        return text.lower().translate(_t2s_table()), range(len(text))
    # Text with full-width punctuation (，（）) is not NFKC: normalise character by character (each
    # character's form is remembered), and when every one gives exactly one character — no part is
    # empty and the lengths agree — positions still line up.
    parts = list(map(_normalize_char, text))
    norm = "".join(parts)
    if len(norm) == len(text) and "" not in parts:
        return norm, range(len(text))
    src: list[int] = []
    for i, n in enumerate(parts):
        src.extend([i] * len(n))
    return norm, src


@functools.lru_cache(maxsize=65536)
def _normalize_char(ch: str) -> str:
    return normalize(ch)


def match_spans(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """Merged [start, end) spans of ``text`` whose normalised form equals a needle."""
    norm, src = _normalized_with_map(text)
    spans: list[tuple[int, int]] = []
    for needle in {n for n in needles if n}:
        start = norm.find(needle)
        while start >= 0:
            end = start + len(needle)
            spans.append((src[start], src[end - 1] + 1))
            start = norm.find(needle, end)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def mark(text: str, spans: list[tuple[int, int]]) -> str:
    """HTML-escape ``text`` and wrap the given spans in <mark>."""
    out, pos = [], 0
    for s, e in spans:
        out.append(html.escape(text[pos:s]))
        out.append(MARK_OPEN + html.escape(text[s:e]) + MARK_CLOSE)
        pos = e
    out.append(html.escape(text[pos:]))
    return "".join(out)


def snippet(text: str, spans: list[tuple[int, int]], width: int = 40) -> str:
    """A short escaped window of ``text`` around its first match, with marks."""
    if not spans:
        return html.escape(text[:width]) + ("…" if len(text) > width else "")
    start = max(0, spans[0][0] - width // 4)
    end = min(len(text), start + width)
    inner = [(max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start]
    body = mark(text[start:end], inner)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def highlight(title: str | None, summary: str | None, needles: list[str]) -> str:
    """The escaped title with marks, or a summary snippet if only the summary matched."""
    title = title or ""
    spans = match_spans(title, needles) if needles else []
    if spans or not needles:
        return mark(title, spans)
    summary_spans = match_spans(summary or "", needles)
    if summary_spans:
        return snippet(summary or "", summary_spans)
    return mark(title, [])
