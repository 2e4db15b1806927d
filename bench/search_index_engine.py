"""Benchmark a search engine alone, on a synthetic corpus (no portal, no database): for tuning
search_index/. The portal-level figures come from bench/search.py.

    .venv/bin/python bench/search_index_engine.py --docs 1000000 --dir /tmp/search-bench
    .venv/bin/python bench/search_index_engine.py --dir /tmp/search-bench --reuse   # skip the rebuild
    .venv/bin/python bench/search_index_engine.py --backend meilisearch --docs 100000

Prints the rebuild time and p50/p95 latency per query kind (each search
includes total and facets, as the portal asks for them).  With Meilisearch (a private server
from tests/meili_server.py, Meilisearch's default indexing threads) it also times raw
Meilisearch on the same documents: their to_meili() form prepared beforehand, sent at once,
so the engine batches them as it likes; and each query kind raw, sent the request the backend
sends for the text as typed, as bench/search.py does.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path

# Run as a script, sys.path[0] is bench/, where queue.py would stand in for the standard
# library's `queue`: the repository root takes its place.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import search_index_corpus as corpus  # noqa: E402
from search_index.base import SearchIndex, SearchQuery, batched  # noqa: E402
from search_index.embedded import EmbeddedIndex  # noqa: E402

SECRET = "search-index-engine-benchmark"


def query_kinds(sample: list[dict], rng: random.Random) -> dict[str, list[SearchQuery]]:
    names = [d["subject_name"] for d in rng.sample(sample, 40)]
    places = [(d["place"][:3], d["category"]) for d in rng.sample(sample, 40)]
    towns = [d["place"][-3:] for d in rng.sample(sample, 40)]
    return {
        "full name": [SearchQuery(q=n) for n in names],
        "common word 婚姻": [SearchQuery(q="婚姻"), SearchQuery(q="婚姻", page=2)],
        "common words (土地 保险 登记)": [SearchQuery(q=w) for w in ("土地", "保险", "登记")],
        "place + category filter": [SearchQuery(q=p, category=c) for p, c in places],
        "traditional query": [SearchQuery(q=w)
                              for w in ("婚姻登記", "土地房產所有證", "醫療保險", "養老保險")],
        "one character": [SearchQuery(q=c) for c in ("婚", "王", "张", "证", "林")],
        "year range, empty q": [SearchQuery(year_from=y, year_to=y + 9) for y in range(1950, 2020, 5)],
        "empty q, no filter": [SearchQuery(), SearchQuery(page=3)],
        "word in every doc (档案)": [SearchQuery(q="档案")],
        # Typed without a space: the pair across the boundary (镇结) is in no document.
        "joined words (城关镇结婚)": [SearchQuery(q=t + "结婚") for t in towns],
        "word + year (婚姻 1985)": [SearchQuery(q=f"婚姻 {y}") for y in range(1955, 2020, 5)],
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(search, queries: list[SearchQuery], rounds: int) -> list[float]:
    for q in queries:  # warm the page cache once, as a running server would be
        search(q)
    times = []
    for i in range(rounds):
        t0 = time.perf_counter()
        search(queries[i % len(queries)])
        times.append((time.perf_counter() - t0) * 1000)
    return times


def rebuild(index: SearchIndex, docs: int) -> None:
    started = time.perf_counter()
    loaded = 0

    def progress(n: int) -> None:
        nonlocal loaded
        loaded += n
        if loaded % 100_000 < n:
            print(f"  {loaded:>9,} docs  {time.perf_counter() - started:6.1f}s", flush=True)

    count = index.rebuild(corpus.generate(docs), progress=progress)
    print(f"rebuild: {count:,} docs in {time.perf_counter() - started:.1f}s", flush=True)


def raw_meili_load(index, docs: Iterable[dict], batch: int = 50_000) -> tuple[float, float]:
    """Raw Meilisearch indexing the documents the backend sends, with its settings: payloads
    prepared first, then all sent at once and waited for.  Returns (seconds preparing, seconds
    indexing); bench/search.py uses it too."""
    from search_index.meili_schema import to_meili

    started = time.perf_counter()
    payloads = [json.dumps([to_meili(d, index.keys) for d in chunk], ensure_ascii=False).encode()
                for chunk in batched(docs, batch)]
    prepared = time.perf_counter() - started
    uid = f"{index.name}__raw"
    index._setup(uid)  # the backend's own settings, applied before the documents
    raw = index.client.index(uid)
    started = time.perf_counter()
    tasks = [raw.add_documents_json(p, "pk") for p in payloads]
    for task in tasks:
        done = index.client.wait_for_task(task.task_uid, timeout_in_ms=3_600_000, interval_in_ms=50)
        assert done.status == "succeeded", done.error
    indexed = time.perf_counter() - started
    index.client.wait_for_task(index.client.delete_index(uid).task_uid, timeout_in_ms=600_000)
    return prepared, indexed


def query(index: SearchIndex, docs: int, rounds: int) -> None:
    sample = list(corpus.generate(min(docs, 50_000)))
    rng = random.Random(7)
    raw = getattr(index, "raw_search", None)
    print(f"{'query kind':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  total (first query)"
          + ("   raw p50  raw p95  p50 ratio" if raw else ""))
    for kind, queries in query_kinds(sample, rng).items():
        times = timed(index.search, queries, rounds)
        line = (f"{kind:32} {statistics.median(times):8.1f} {percentile(times, 95):8.1f} "
                f"{max(times):8.1f}  {index.search(queries[0]).total:>10,}")
        if raw:
            raw_times = timed(raw, queries, rounds)
            line += (f" {statistics.median(raw_times):8.1f} {percentile(raw_times, 95):8.1f}"
                     f" {statistics.median(times) / statistics.median(raw_times):8.2f}x")
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["embedded", "meilisearch"], default="embedded")
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, help="the embedded index's directory")
    ap.add_argument("--reuse", action="store_true", help="query an embedded index built earlier")
    ap.add_argument("--no-raw", action="store_true", help="Meilisearch: skip the raw indexing run")
    ap.add_argument("--rounds", type=int, default=40, help="measured searches per query kind")
    args = ap.parse_args(argv)
    if args.backend == "embedded" and not args.dir:
        ap.error("--dir is required for the embedded backend")

    server = None
    if args.backend == "embedded":
        index: SearchIndex = EmbeddedIndex(args.dir, name_secret=SECRET)
    else:
        from search_index.meili import MeiliIndex
        from tests.meili_server import MeiliServer

        server = MeiliServer.start(indexing_threads=None)
        index = MeiliIndex(server.url, server.master_key, SECRET, index_name="bench",
                           task_timeout_ms=3_600_000)
    try:
        if server and not args.no_raw:
            prepared, indexed = raw_meili_load(index, corpus.generate(args.docs))
            print(f"raw: documents prepared (to_meili + JSON) in {prepared:.1f}s, "
                  f"indexed in {indexed:.1f}s", flush=True)
        if server or not args.reuse:
            rebuild(index, args.docs)
        query(index, args.docs, args.rounds)
    finally:
        index.close()
        if server:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
