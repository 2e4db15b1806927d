"""Write the judged query set (queries.jsonl) from the relevance corpus.

Each line is one query: its kind, the text and filters a citizen would send, and the ids of
every open document that answers it, judged from the generator's own data (the full name and
unmasked title it wrote), not from any search engine:

    .venv/bin/python -m bench.relevance.judged      # rewrites bench/relevance/queries.jsonl

Kinds: a full name joined to the document's words with no space (whole title, or its first
words), in traditional script, mixed, with filters, with a compound or rare surname; the name
alone; the document's words alone; the masked name as the public sees it (王*英); one wrong
character; a place joined to a category; a year with the document's words.
"""
from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from opencc import OpenCC

from bench.relevance.corpus import rows
from portal.core.categories import category_label
from portal.core.masking import mask_name
from search_index.text import normalize

OUT = Path(__file__).with_name("queries.jsonl")
PER_KIND = 20
COMPOUND = ("欧阳", "司马", "上官")
RARE = ("韩", "赵", "农", "唐", "周", "谢", "欧阳", "司马", "上官")
# Wrong characters for the typo kind: common ones, none of them in any title.
TYPO_CHARS = "计纪己级技际寄继季既"
# The town of a place: what stands before 镇 after any county or district.
TOWN = re.compile(r"[^县区]+镇")
_s2t = OpenCC("s2t")


def trad(text: str) -> str:
    return _s2t.convert(text)


def words_of(title: str, rng: random.Random) -> str:
    """The document's words a citizen types: the whole title, or its first four to six characters."""
    simple = normalize(title)
    return simple if rng.random() < 0.5 else simple[: rng.randint(4, min(6, len(simple)))]


class Judge:
    def __init__(self, corpus: list[dict]):
        self.open = [r for r in corpus if r["access_level"] == "open"]

    def where(self, test: Callable[[dict], bool]) -> list[str]:
        return [r["id"] for r in self.open if test(r)]

    def person_words(self, name: str, words: str, flt: dict | None = None) -> list[str]:
        flt = flt or {}
        return self.where(lambda r: normalize(r["subject_name"]) == normalize(name)
                          and normalize(words) in normalize(r["title"]) and matches(r, flt))


def matches(row: dict, flt: dict) -> bool:
    return ((not flt.get("archive") or row["archive_code"] == flt["archive"])
            and (not flt.get("category") or row["category"] == flt["category"])
            and (flt.get("year_from") is None or row["event_year"] >= flt["year_from"])
            and (flt.get("year_to") is None or row["event_year"] <= flt["year_to"]))


def build(corpus: list[dict], seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    judge = Judge(corpus)
    out: list[dict] = []

    def add(kind: str, q: str, relevant: list[str], **flt) -> None:
        assert relevant, (kind, q)
        out.append({"kind": kind, "q": q, **{k: v for k, v in flt.items() if v is not None},
                    "relevant": relevant})

    def sample(test: Callable[[dict], bool] = lambda r: True, n: int = PER_KIND) -> list[dict]:
        pool = [r for r in judge.open if test(r)]
        return rng.sample(pool, min(n, len(pool)))

    for length in (2, 3, 4):
        for r in sample(lambda r, n=length: len(r["subject_name"]) == n, n=8 if length != 3 else 12):
            words = words_of(r["title"], rng)
            add("name + words", r["subject_name"] + words, judge.person_words(r["subject_name"], words))
    for r in sample():
        words = words_of(r["title"], rng)
        add("traditional", trad(r["subject_name"] + words), judge.person_words(r["subject_name"], words))
    for i, r in enumerate(sample()):
        words = words_of(r["title"], rng)
        q = trad(r["subject_name"]) + words if i % 2 else r["subject_name"] + trad(words)
        add("mixed script", q, judge.person_words(r["subject_name"], words))
    for i, r in enumerate(sample()):
        words = words_of(r["title"], rng)
        flt = [{"archive": r["archive_code"]}, {"category": r["category"]},
               {"year_from": r["event_year"] - 2, "year_to": r["event_year"] + 3}][i % 3]
        add("with filters", r["subject_name"] + words, judge.person_words(r["subject_name"], words, flt), **flt)
    for r in sample(lambda r: r["subject_name"].startswith(COMPOUND)):
        words = words_of(r["title"], rng)
        add("compound surname", r["subject_name"] + words, judge.person_words(r["subject_name"], words))
    for r in sample(lambda r: r["subject_name"].startswith(RARE)):
        words = words_of(r["title"], rng)
        add("rare surname", r["subject_name"] + words, judge.person_words(r["subject_name"], words))
    for r in sample():
        name = r["subject_name"]
        add("name alone", name, judge.where(lambda x, n=name: x["subject_name"] == n))
    titles = sorted({normalize(r["title"]) for r in judge.open})
    for title in rng.sample(titles, PER_KIND):
        words = title if rng.random() < 0.5 else title[:4]
        add("words alone", words, judge.where(lambda x, w=words: w in normalize(x["title"])))
    for i, r in enumerate(sample(lambda r: len(r["subject_name"]) >= 3)):
        masked = mask_name(r["subject_name"])
        same = lambda x, m=masked: mask_name(x["subject_name"]) == m  # noqa: E731
        if i % 2:
            add("masked name", masked, judge.where(same))
        else:
            words = words_of(r["title"], rng)
            add("masked name", masked + words,
                judge.where(lambda x, w=words: same(x) and w in normalize(x["title"])))
    for r in sample(lambda r: len(r["title"]) >= 6):
        title = normalize(r["title"])
        at = rng.randrange(1, len(title) - 1)
        wrong = rng.choice([c for c in TYPO_CHARS if c != title[at]])
        add("one wrong character", r["subject_name"] + title[:at] + wrong + title[at + 1:],
            judge.person_words(r["subject_name"], title))
    for r in sample(lambda r: "镇" in normalize(r["place"])):
        place = normalize(r["place"])
        town = TOWN.search(place).group()  # 东江镇 of 金城江区东江镇那坡村
        label = category_label(r["category"])
        add("place + category", town + label,
            judge.where(lambda x, t=town, c=r["category"]: t in normalize(x["place"]) and x["category"] == c))
    for i, r in enumerate(sample()):
        words = words_of(r["title"], rng)
        year = r["event_year"]
        q = f"{words} {year}" if i % 2 else f"{year}年{words}"
        add("year", q, judge.where(lambda x, w=words, y=year: x["event_year"] == y and w in normalize(x["title"])))
    return out


def main() -> None:
    queries = build(rows())
    with OUT.open("w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(f"{len(queries)} judged queries written to {OUT}")


if __name__ == "__main__":
    main()
