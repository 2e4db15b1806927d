"""Benchmark the embedded search engine alone, on a synthetic corpus (no portal, no database):
for tuning search_index/. The portal-level figures come from bench/search.py.

    .venv/bin/python bench/search_index_engine.py --docs 1000000 --dir /tmp/search-bench
    .venv/bin/python bench/search_index_engine.py --dir /tmp/search-bench --reuse   # skip the rebuild

Prints the rebuild time and p50/p95 latency per query kind (each search
includes total and facets, as the portal asks for them).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import search_index_corpus as corpus  # noqa: E402
from search_index.base import SearchQuery  # noqa: E402
from search_index.embedded import EmbeddedIndex  # noqa: E402


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--reuse", action="store_true", help="query an index built earlier")
    ap.add_argument("--rounds", type=int, default=40, help="measured searches per query kind")
    args = ap.parse_args(argv)

    index = EmbeddedIndex(args.dir, name_secret="search-index-engine-benchmark")
    if not args.reuse:
        started = time.perf_counter()
        loaded = 0

        def progress(n: int) -> None:
            nonlocal loaded
            loaded += n
            if loaded % 100_000 < n:
                print(f"  {loaded:>9,} docs  {time.perf_counter() - started:6.1f}s", flush=True)

        count = index.rebuild(corpus.generate(args.docs), progress=progress)
        print(f"rebuild: {count:,} docs in {time.perf_counter() - started:.1f}s")

    sample = list(corpus.generate(min(args.docs, 50_000)))
    rng = random.Random(7)
    print(f"{'query kind':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  total (first query)")
    for kind, queries in query_kinds(sample, rng).items():
        for q in queries:  # warm the page cache once, as a running server would be
            index.search(q)
        times, first_total = [], None
        for i in range(args.rounds):
            q = queries[i % len(queries)]
            t0 = time.perf_counter()
            result = index.search(q)
            times.append((time.perf_counter() - t0) * 1000)
            first_total = result.total if first_total is None else first_total
        print(f"{kind:32} {statistics.median(times):8.1f} {percentile(times, 95):8.1f} "
              f"{max(times):8.1f}  {first_total:,}")
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
