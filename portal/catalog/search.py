"""Public catalog search: validate what was asked, ask the index, hydrate hits from the database."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date

from cachetools import TTLCache
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog.models import Record
from portal.catalog.service import RecordView, present
from portal.core.categories import CATEGORIES
from portal.core.errors import ValidationFailed
from search_index import SearchIndex, SearchQuery

PARAMS = ("q", "category", "archive", "year_from", "year_to", "page", "per_page", "scope")
CRITERIA = ("q", "category", "archive", "year_from", "year_to")
MAX_QUERY = 200
MAX_PER_PAGE = 100
MAX_RESULTS = 10_000  # how deep anyone can page (both engines stop there)
DEFAULT_PER_PAGE = 20


@dataclass
class SearchHit:
    record: RecordView
    highlight: str


@dataclass
class SearchPage:
    query: SearchQuery
    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    took_ms: int
    backend: str
    asked_page: int | None = None  # the page asked for, when it was past the last and the last is shown
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.query.per_page))


def search_params(args) -> dict[str, str]:
    """The search parameters in `args`, non-empty ones only; anything else is dropped, so it
    can never reach url_for (where `_external` or `_method` would change the link)."""
    first = args.to_dict()  # one pass (MultiDict.get raises and catches a KeyError for each absent key)
    return {k: first[k] for k in PARAMS if first.get(k)}


def has_criteria(args) -> bool:
    return any(args.get(k) for k in CRITERIA)


# Each message names the field in words, in the page's language: never the parameter's name.
NOT_A_NUMBER = {
    "year_from": _l("起始年份应为整数"),
    "year_to": _l("截止年份应为整数"),
    "page": _l("页码应为整数"),
    "per_page": _l("每页条数应为整数"),
}
YEAR_OUT_OF_RANGE = {
    "year_from": _l("起始年份应在 1000 至 %(y)s 之间"),
    "year_to": _l("截止年份应在 1000 至 %(y)s 之间"),
}


def _int(args, name: str, errors: dict, default: int | None = None) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        errors[name] = NOT_A_NUMBER[name]
        return default


def parse_query(args, *, clamp: bool = False) -> SearchQuery:
    """From request args (a MultiDict or dict) to a SearchQuery; ValidationFailed says what is wrong.
    With `clamp` (the search page), a page deeper than anyone can go is no error: public_search
    answers with the deepest page there is."""
    errors: dict[str, str] = {}
    q = (args.get("q") or "").strip()
    if len(q) > MAX_QUERY:
        errors["q"] = _l("检索词不能超过 %(n)s 个字", n=MAX_QUERY)
    category = (args.get("category") or "").strip() or None
    if category and category not in CATEGORIES:
        errors["category"] = _l("未知的档案类别：%(c)s", c=category[:40])
    archive = (args.get("archive") or "").strip() or None
    year_from = _int(args, "year_from", errors)
    year_to = _int(args, "year_to", errors)
    this_year = date.today().year
    for name, year in (("year_from", year_from), ("year_to", year_to)):
        if year is not None and not 1000 <= year <= this_year:
            errors[name] = YEAR_OUT_OF_RANGE[name] % {"y": this_year}
    if year_from is not None and year_to is not None and year_from > year_to and not errors:
        errors["year_from"] = _l("起始年份不能晚于截止年份")
    page = _int(args, "page", errors, 1)
    if page is not None and page < 1:
        errors["page"] = _l("页码应从 1 开始")
    per_page = _int(args, "per_page", errors, DEFAULT_PER_PAGE)
    if per_page is not None and not 1 <= per_page <= MAX_PER_PAGE:
        errors["per_page"] = _l("每页条数应在 1 至 %(n)s 之间", n=MAX_PER_PAGE)
    if not clamp and page is not None and per_page and page * per_page > MAX_RESULTS:
        errors["page"] = _l("最多只能翻到第 %(n)s 条结果，请缩小检索范围", n=MAX_RESULTS)
    if errors:
        raise ValidationFailed(errors)
    return SearchQuery(q=q, category=category, archive=archive, year_from=year_from, year_to=year_to,
                       page=page, per_page=per_page)


class ResultCache:
    """The answers to public searches a serving process gave in the last SEARCH_CACHE_SECONDS.

    A public search answers everyone alike (open records, masked), and visitors ask the same few
    words again and again; the engine's query and the hits' records cost about half of a search
    page (docs/benchmarks.md). An answer is reused for a few seconds at most, like the index itself
    lags the database by up to a sync round; this process forgets every answer at once when it
    changes the index (sync_outbox, reindex). Answers are kept per page language. Throttles are
    counted before the cache is asked, as before."""

    MAX_ANSWERS = 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: TTLCache | None = None
        self._ttl = 0.0

    def get(self, key: tuple, compute):
        ttl = float(current_app.config.get("SEARCH_CACHE_SECONDS") or 0)
        if ttl <= 0:
            return compute()
        with self._lock:
            if self._answers is None or self._ttl != ttl:
                self._answers, self._ttl = TTLCache(self.MAX_ANSWERS, ttl), ttl
            answers = self._answers
            found = answers.get(key)
        if found is not None:
            return found
        answer = compute()
        with self._lock:
            if answers is self._answers:  # not forgotten while it was computed
                answers[key] = answer
        return answer

    def forget(self) -> None:
        with self._lock:
            self._answers = None


results = ResultCache()


def public_search(session: Session, index: SearchIndex, query: SearchQuery, *, clamp: bool = False) -> SearchPage:
    """Open records only, masked. Raises SearchUnavailable when the engine is down. With `clamp`, a
    page past the last answers with the last page (and `asked_page` says which one was asked for).
    The answer may be one this process gave in the last few seconds (ResultCache)."""
    key = (query, clamp, index.backend, str(get_locale()))
    return results.get(key, lambda: _public_search(session, index, query, clamp=clamp))


def _public_search(session: Session, index: SearchIndex, query: SearchQuery, *, clamp: bool) -> SearchPage:
    page = _search(session, index, query)
    deepest = min(page.pages, MAX_RESULTS // query.per_page)  # the engines page through 10,000 results at most
    if clamp and page.total and query.page > deepest:
        last = _search(session, index, replace(query, page=deepest))
        return replace(last, asked_page=query.page)
    return page


def _search(session: Session, index: SearchIndex, query: SearchQuery) -> SearchPage:
    query = replace(query, access_levels=("open",))
    started = time.perf_counter()
    result = index.search(query)
    ids = [int(hit.id) for hit in result.hits]
    records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(ids)))} if ids else {}
    hits = [
        SearchHit(record=present(records[int(h.id)]), highlight=h.highlight)
        for h in result.hits
        # The database has the last word: a record closed since it was indexed is not shown.
        if int(h.id) in records and records[int(h.id)].access_level == "open"
    ]
    took = int((time.perf_counter() - started) * 1000)
    return SearchPage(query=query, total=result.total, hits=hits, facets=result.facets, took_ms=took,
                      backend=result.backend)


def hit_as_json(hit: SearchHit, url: str) -> dict:
    """One hit as the API answers it (docs/api.md)."""
    r = hit.record
    return {"reference_code": r.reference_code, "archive_code": r.archive_code, "archive_name": r.archive_name,
            "category": r.category, "category_label": r.category_label, "title": r.title,
            "subject_name": r.subject_name, "year": r.year, "place": r.place, "url": url,
            "highlight": hit.highlight}
