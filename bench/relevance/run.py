"""Relevance of catalog search, per backend and per kind of query: recall@10 and MRR@10.

Loads the relevance corpus (corpus.py) into the embedded index and into a private Meilisearch,
asks every judged query of queries.jsonl through the `search_index` contract (public access:
open records only), and writes a table into docs/benchmarks.md between the `relevance` markers:

    .venv/bin/python -m bench.relevance.run                   # both backends, writes the table
    .venv/bin/python -m bench.relevance.run --no-write -v     # print the misses too

recall@10 is the share of a query's relevant documents in its first ten hits (out of at most
ten: a query with 40 relevant documents scores 1.0 when all ten hits are relevant); MRR@10 is
the mean of 1/rank of the first relevant hit (0 when none is in the first ten).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from bench.common import cpu_model, replace_section
from bench.relevance.corpus import RECORDS, SEED, document, rows
from search_index import SearchIndex, SearchQuery, open_index
from tests.meili_server import MeiliServer

ROOT = Path(__file__).resolve().parents[2]
QUERIES = Path(__file__).with_name("queries.jsonl")
TARGET = ("Target: recall@10 ≥ 0.98 on both backends for every kind, and the two backends within "
          "0.02 of each other.")


def load_queries() -> list[dict]:
    return [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]


def to_query(spec: dict) -> SearchQuery:
    return SearchQuery(q=spec["q"], category=spec.get("category"), archive=spec.get("archive"),
                       year_from=spec.get("year_from"), year_to=spec.get("year_to"), per_page=10)


def score(index: SearchIndex, queries: list[dict], verbose: bool) -> dict[str, tuple[float, float, int]]:
    per_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for spec in queries:
        got = [h.id for h in index.search(to_query(spec)).hits]
        relevant = set(spec["relevant"])
        recall = len(relevant.intersection(got)) / min(10, len(relevant))
        rank = next((i for i, doc in enumerate(got, 1) if doc in relevant), None)
        per_kind[spec["kind"]].append((recall, 1 / rank if rank else 0.0))
        if verbose and recall < 1:
            print(f"  {index.backend}: {spec['kind']}: {spec['q']!r} recall {recall:.2f} "
                  f"(first relevant at {rank})", file=sys.stderr)
    out = {kind: (sum(r for r, _ in v) / len(v), sum(m for _, m in v) / len(v), len(v))
           for kind, v in per_kind.items()}
    every = [x for v in per_kind.values() for x in v]
    out["all queries"] = (sum(r for r, _ in every) / len(every), sum(m for _, m in every) / len(every), len(every))
    return out


def latency(index: SearchIndex, queries: list[dict], repeat: int) -> dict[str, tuple[float, ...]]:
    """p50 in ms per kind: the `search_index` call; raw Meilisearch sent the first request the
    call sends (bench/search.py's comparison); raw Meilisearch asked the text as typed (one
    search, open records, ten hits, the same facets: what a client that does not read the
    query sends, and finds less with)."""
    samples: dict[str, list[list[float]]] = defaultdict(lambda: [[], [], []])
    engine = index.client.index(index.name)
    asks = (lambda spec: index.search(to_query(spec)),
            lambda spec: index.raw_search(to_query(spec)),
            lambda spec: engine.search(spec["q"], {"filter": 'access_level = "open"', "limit": 10,
                                                   "facets": ["category", "archive_code", "decade"]}))
    for _ in range(repeat):
        for spec in queries:
            for i, ask in enumerate(asks):
                started = time.perf_counter()
                ask(spec)
                samples[spec["kind"]][i].append(time.perf_counter() - started)
    samples["all queries"] = [[t for v in list(samples.values()) for t in v[i]] for i in range(3)]
    return {k: tuple(statistics.median(v[i]) * 1000 for i in range(3)) for k, v in samples.items()}


def report(results: dict[str, dict], command: str, speed: dict[str, tuple[float, ...]] | None = None) -> str:
    backends = list(results)
    kinds = list(next(iter(results.values())))
    head = " | ".join(f"{b} recall@10 | {b} MRR@10" for b in backends)
    lines = [f"Machine: {os.cpu_count()} CPUs (`nproc`), {cpu_model()}; Python {platform.python_version()}. "
             f"Command: `{command}`. Corpus: {RECORDS:,} records of the demo data generator (seed {SEED}); "
             f"{sum(results[backends[0]][k][2] for k in kinds if k != 'all queries')} judged queries in "
             "`bench/relevance/queries.jsonl`, public access (open records).", "", TARGET, "",
             f"| kind | queries | {head} |", "|---|---:|" + "---:|" * (2 * len(backends))]
    for kind in kinds:
        cells = " | ".join(f"{results[b][kind][0]:.3f} | {results[b][kind][1]:.3f}" for b in backends)
        name = f"**{kind}**" if kind == "all queries" else kind
        lines.append(f"| {name} | {results[backends[0]][kind][2]} | {cells} |")
    if speed:
        lines += ["", "Meilisearch latency, p50 in ms over every query of a kind (same run, same machine): "
                  "the `search_index` call (every reading in one federated multi-search; a query that finds "
                  "nothing is cut and asked again), raw Meilisearch sent the call's first request, and raw "
                  "Meilisearch asked the text as typed (finds far less: see the recall before the fix).", "",
                  "| kind | search_index call | raw, our request | ratio | raw, text as typed | ratio |",
                  "|---|---:|---:|---:|---:|---:|"]
        for kind, (ours, request, typed) in speed.items():
            name = f"**{kind}**" if kind == "all queries" else kind
            lines.append(f"| {name} | {ours:.1f} | {request:.1f} | {ours / request:.1f}× | {typed:.1f} | "
                         f"{ours / typed:.1f}× |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["embedded", "meilisearch"],
                        choices=["embedded", "meilisearch"])
    parser.add_argument("--section", default="relevance", help="marker name in docs/benchmarks.md")
    parser.add_argument("--heading", default="### Search relevance")
    parser.add_argument("--no-write", action="store_true", help="print, do not update docs/benchmarks.md")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of the query set timed on Meilisearch")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every query that misses")
    args = parser.parse_args()
    docs = [document(r) for r in rows()]
    queries = load_queries()
    results = {}
    speed = None
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends:
            meili = MeiliServer.start(indexing_threads=None) if backend == "meilisearch" else None
            try:
                index = open_index(backend, data_dir=tmp, name_secret="relevance-benchmark", meili_url=meili and meili.url,
                                   meili_key=meili and meili.master_key, index_name=f"rel_{uuid.uuid4().hex[:8]}")
                index.rebuild(docs)
                results[backend] = score(index, queries, args.verbose)
                if meili:
                    speed = latency(index, queries, args.repeat)
                index.close()
            finally:
                if meili:
                    meili.stop()
    command = " ".join([".venv/bin/python -m bench.relevance.run", *map(shlex.quote, sys.argv[1:])])
    text = report(results, command, speed)
    if not args.no_write:
        replace_section(ROOT / "docs" / "benchmarks.md", args.section, args.heading, text)
    print(text)


if __name__ == "__main__":
    main()
