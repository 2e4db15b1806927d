"""The engine path of a network search: Meilisearch's network feature (remote federated
multi-search), used when this node runs Meilisearch and a peer gave its engine's URL and a
search-only key for its public index (`portal peers add … --meili-url URL --meili-key KEY`).

This node's engine is told who it is and who its remotes are (`PATCH /experimental-features
{"network": true}`, `PATCH /network` with `self` and `remotes`), then one `POST /multi-search`
with `federation` asks this node's public index and each remote's (`federationOptions.remote`):
the engine merges the hits by its own ranking score (in [0, 1], comparable between engines of
the same settings) and counts the facets over all of them, per node too (the `node` attribute).

Only public indexes take part (search_index.meili_public: open records, masked, no name tokens,
no OCR text). A search the index would read with a full name (王秀英结婚) needs each node's own
secret, so it never takes this path: it fans out over the signed API, where each node matches
names itself and counts the search against the asking peer's limit. When this node's engine
fails or times out, the whole search fans out; a remote the engine could not reach
(`remoteErrors`) is asked over the signed API instead, and named in `unavailable` if that fails
too."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy.orm import Session

from portal.catalog.indexing import get_public_index
from portal.federation.node import this_node
from portal.federation.search_hits import NetworkHit, NodeAnswer, read_peer_answer
from search_index import SearchIndex, SearchQuery, SearchUnavailable
from search_index.query import holds_full_name

log = logging.getLogger(__name__)


@dataclass
class EngineResult:
    answers: list[NodeAnswer]  # this node's first
    left_over: list = field(default_factory=list)  # peers the engine could not reach: ask over the signed API


def engine_peers(peers: list) -> list:
    return [p for p in peers if p.meili_url and p.meili_key]


def usable(app: Flask, peers: list) -> bool:
    return app.config["SEARCH_BACKEND"] == "meilisearch" and bool(engine_peers(peers))


def engine_search(session: Session, index: SearchIndex, query: SearchQuery, peers: list,
                  timeout: float) -> EngineResult | None:
    """One federated multi-search over the public indexes of this node and `peers` (those with
    an engine); None when this path does not apply (a name search) or this node's engine failed."""
    if holds_full_name(query.q):
        return None
    public = get_public_index()
    node = this_node()
    if public is None or node is None:
        return None
    remotes = peers
    try:
        public.join_network(node.name, {
            node.name: {"url": public.url, "searchApiKey": public.search_key()},
            **{p.name: {"url": p.meili_url, "searchApiKey": p.meili_key} for p in remotes}})
        request = public.network_request(query, [p.name for p in remotes], limit=query.per_page)
        answer = public.network_search(request, timeout) if request else None
    except SearchUnavailable as exc:
        log.warning("network search through the engine failed, fanning out: %s", exc)
        return None
    by_name = {p.name: p for p in remotes}
    failed = set((answer or {}).get("remoteErrors") or {})
    for name in failed:
        log.warning("network search: the engine could not search %s, asking it over the signed API", name)
    answers = _answers(query, answer or {}, (node.name, current_app.config["PUBLIC_URL"]), by_name, failed)
    return EngineResult(answers=answers, left_over=[p for p in remotes if p.name in failed])


def _answers(query: SearchQuery, answer: dict, me: tuple[str, str], remotes: dict,
             failed: set[str]) -> list[NodeAnswer]:
    """The engine's merged answer, split per node (this node's first) and checked like a peer's."""
    own, own_url = me
    from search_index.meili_public import PublicMeiliIndex

    facets = answer.get("facetDistribution") or {}
    per_node = {name: n for name, n in (facets.get("node") or {}).items() if isinstance(n, int)}
    shared = {"category": facets.get("category") or {}, "archive": facets.get("archive_code") or {},
              "decade": facets.get("decade") or {}}
    hits: dict[str, list[NetworkHit]] = {own: [], **{name: [] for name in remotes if name not in failed}}
    archives: dict[str, str] = {}
    for raw in answer.get("hits") or []:
        fed = raw.get("_federation") or {}
        name = fed.get("remote") or own
        if name not in hits:
            continue
        base = remotes[name].url if name != own else own_url
        doc = {**raw, "subject_name": raw.get("subject_mask"), "highlight": PublicMeiliIndex.highlight_hit(query, raw)}
        try:
            one = read_peer_answer(name, base, {"total": 1, "hits": [doc]})
        except ValueError:
            continue
        hit = one.hits[0]
        score = fed.get("weightedRankingScore", raw.get("_rankingScore", 0))
        hit.score = min(1.0, max(0.0, float(score))) if isinstance(score, (int, float)) else 0.0
        hit.local = name == own
        hits[name].append(hit)
        archives[hit.archive_code] = hit.archive_name
    answers = []
    for i, (name, node_hits) in enumerate(hits.items()):
        # The engine counts the facets over every node at once: the first answer carries them.
        answers.append(NodeAnswer(node=name, total=per_node.get(name, 0), hits=node_hits,
                                  facets={k: {str(c): n for c, n in v.items()} for k, v in shared.items()} if i == 0
                                  else {}, archives=archives if i == 0 else {}))
    return answers
