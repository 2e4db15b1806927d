"""Abbreviations citizens type, shared by both backends.

Each pair (short, long) works both ways: searching 医保 also finds 医疗保险
and vice versa.  Expansion is not transitive (退伍 finds 退役安置 documents,
but not documents that only say 复员), which is also how Meilisearch treats
its synonym lists, so both backends behave alike.
"""

from __future__ import annotations

import functools

from .text import normalize

PAIRS: tuple[tuple[str, str], ...] = (
    ("医保", "医疗保险"),
    ("社保", "社会保险"),
    ("低保", "最低生活保障"),
    ("拆迁", "征地拆迁"),
    ("结婚证", "结婚登记"),
    ("离婚证", "离婚登记"),
    ("学籍", "学籍档案"),
    ("招工", "招工就业"),
    ("林权证", "林权"),
    ("房改", "房改房产"),
    ("退伍", "退役安置"),
    ("复员", "退役安置"),
    ("转业", "退役安置"),
    ("土地承包", "土地承包经营权"),
    ("养老金", "养老保险"),
    ("工伤", "工伤保险"),
    ("五保", "五保供养"),
    ("计生", "计划生育"),
    ("知青", "知识青年"),
    ("房产证", "房屋所有权证"),
    ("户籍", "户口"),
    ("出生证", "出生医学证明"),
)


@functools.cache
def synonym_map() -> dict[str, tuple[str, ...]]:
    """Normalised term → the other terms it should also match."""
    out: dict[str, list[str]] = {}
    for short, long in PAIRS:
        a, b = normalize(short), normalize(long)
        out.setdefault(a, []).append(b)
        out.setdefault(b, []).append(a)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def expand(term: str) -> tuple[str, ...]:
    """The term itself followed by its synonyms (input already normalised)."""
    return (term, *synonym_map().get(term, ()))

