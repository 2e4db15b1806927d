"""Search across the network: this node's public search and each peer's, merged by score.

What a peer is asked (GET /federation/v1/search, signed) and what it answers is exactly what an
anonymous visitor of that peer gets: open records only, names masked, no ID numbers. Each hit
carries `node` (whose record it is) and `url` (the record's page on that node).

Two ways to ask the peers, chosen per peer:

* the engine path (portal.federation.search_engine): when this node and a peer both run
  Meilisearch and the peer's admin gave its engine URL and a search-only key for its public
  index, the engines merge their rankings themselves (remote federated multi-search);
* the fan-out: every other peer is asked over signed HTTP, in parallel, each within
  FEDERATION_SEARCH_TIMEOUT seconds (1.5 by default). A peer that does not answer in time, answers
  an error or garbage is named in `unavailable`; the others' hits are shown all the same.

Scores. Raw relevance is not on one scale between engines (bm25 of SQLite FTS5, Meilisearch's
ranking rules), so each answer's own order is turned into a score in (0, 1]: the hit at position
p (0-based) of a node's answer scores RANK_K / (RANK_K + p), a reciprocal-rank fusion. Every
node's best hit scores 1.0, so a merged page interleaves the nodes' best hits; ties go to this
node first, then to the node's name. (The engine path ranks with Meilisearch's own ranking
score, which is in [0, 1] and comparable between its engines.)

Paging. A network page is a slice of the merged first hits: every node is asked for its first
page * per_page hits (at most NETWORK_DEPTH), those are merged by score and the page's slice is
shown. `total` adds up the nodes' totals; pages reach NETWORK_DEPTH hits at most (narrower
words or a filter find the rest)."""
from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from types import SimpleNamespace

from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.archives.models import Archive
from portal.catalog.search import SearchHit, SearchPage, public_search
from portal.core.errors import ValidationFailed
from portal.federation.models import Peer
from portal.federation.node import this_node
from portal.federation.search_hits import (FACET_KINDS, NETWORK_DEPTH, Garbage, NetworkHit, NodeAnswer,
                                            rank_score, read_peer_answer)
from portal.web_util import public_url
from search_index import SearchIndex, SearchQuery

log = logging.getLogger(__name__)
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # 100 hits of public fields, and the facets: far less
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="network-search")
_pool_lock = threading.Lock()
# The archives each peer named in its last answer (code → name), to name them when it is down.
_seen_archives: dict[str, dict[str, str]] = {}


@dataclass
class NetworkPage:
    """What the page and the API show for scope=network (the fields the templates read of a
    SearchPage, plus the node facet and the nodes that could not be searched)."""
    query: SearchQuery
    total: int
    hits: list[NetworkHit]
    facets: dict[str, dict[str, int]]
    unavailable: list[str]
    took_ms: int
    backend: str
    via: str  # "fan-out", or "engine" when Meilisearch's network feature merged the peers' hits
    archive_names: dict[str, str] = field(default_factory=dict)
    asked_page: int | None = None
    network: bool = True
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        reachable = min(self.total, NETWORK_DEPTH)
        self.pages = max(1, -(-reachable // self.query.per_page))


def peers_for_search(session: Session) -> list[Peer]:
    """The peers a network search asks: none when this node was never initialised."""
    if this_node() is None:
        return []
    return list(session.scalars(select(Peer).order_by(Peer.name)))


def network_offered(session: Session) -> bool:
    """Whether the search form offers 全网 (the whole network): only a node with peers."""
    return bool(peers_for_search(session))


def check_depth(query: SearchQuery) -> None:
    if query.page * query.per_page > NETWORK_DEPTH:
        raise ValidationFailed({"page": _l("全网检索最多显示前 %(n)s 条结果，请缩小检索范围", n=NETWORK_DEPTH)})


# ---- this node's answer ----------------------------------------------------------------------------

def local_hit(hit: SearchHit, node: str, position: int) -> NetworkHit:
    r = hit.record
    return NetworkHit(node=node, url=public_url("catalog.record", archive_code=r.archive_code,
                                                reference_code=r.reference_code),
                      archive_code=r.archive_code, archive_name=r.archive_name, reference_code=r.reference_code,
                      category=r.category, category_label=r.category_label, title=r.title,
                      subject_name=r.subject_name, year=r.year, place=r.place, highlight=Markup(hit.highlight),
                      score=rank_score(position), local=True)


def local_answer(session: Session, index: SearchIndex, query: SearchQuery) -> NodeAnswer:
    """This node's public search (the one an anonymous visitor gets), as one node's answer.
    Raises SearchUnavailable when the engine is down."""
    node = this_node().name
    page: SearchPage = public_search(session, index, query)
    offset = (query.page - 1) * query.per_page
    hits = [local_hit(h, node, offset + i) for i, h in enumerate(page.hits)]
    codes = set(page.facets.get("archive", {}))
    names = {a.code: a.name for a in session.scalars(select(Archive).where(Archive.code.in_(codes)))} if codes else {}
    return NodeAnswer(node=node, total=page.total, hits=hits,
                      facets={k: dict(page.facets.get(k, {})) for k in FACET_KINDS}, archives=names)


def answer_as_json(answer: NodeAnswer, backend: str) -> dict:
    """GET /federation/v1/search's answer (docs/federation.md)."""
    return {"node": answer.node, "total": answer.total, "hits": [h.as_json() for h in answer.hits],
            "facets": answer.facets, "archives": answer.archives, "backend": backend}


def query_params(query: SearchQuery) -> dict[str, str]:
    params = {"q": query.q, "category": query.category, "archive": query.archive, "year_from": query.year_from,
              "year_to": query.year_to, "page": query.page, "per_page": query.per_page}
    return {k: str(v) for k, v in params.items() if v not in (None, "")}


def ask_peer(app, peer: SimpleNamespace, query: SearchQuery, timeout: float) -> NodeAnswer:
    """One peer's answer over signed HTTP (run on the pool, in an app context of its own)."""
    from portal.federation.client import call

    deadline = time.monotonic() + timeout
    with app.app_context():
        response = call(peer, "GET", "/federation/v1/search", params=query_params(query),
                        timeout=(timeout, timeout), stream=True)
    with response:
        if response.status_code != 200:
            raise Garbage(f"HTTP {response.status_code}")
        data = _read_within(response, deadline)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise Garbage("not JSON") from None
    return read_peer_answer(peer.name, peer.url, doc)


def _read_within(response, deadline: float) -> bytes:
    """The answer's body, read by the deadline and up to MAX_ANSWER_BYTES: the read timeout is per
    read, so a peer sending a byte at a time would otherwise hold a thread of the pool for ever."""
    parts, size = [], 0
    while chunk := response.raw.read1(65536, decode_content=True):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES or time.monotonic() > deadline:
            raise Garbage("too big or too slow")
        parts.append(chunk)
    return b"".join(parts)


# ---- the network search ---------------------------------------------------------------------------

def merge(query: SearchQuery, answers: list[NodeAnswer], unavailable: list[str], *, started: float,
          backend: str, via: str) -> NetworkPage:
    own = answers[0].node if answers else ""
    everything = [h for a in answers for h in a.hits]
    everything.sort(key=lambda h: (-h.score, h.node != own, h.node))
    offset = (query.page - 1) * query.per_page
    facets: dict[str, dict[str, int]] = {k: {} for k in FACET_KINDS}
    for answer in answers:
        for kind in FACET_KINDS:
            for key, n in answer.facets.get(kind, {}).items():
                facets[kind][key] = facets[kind].get(key, 0) + n
    facets = {k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for k, v in facets.items()}
    facets["node"] = {a.node: a.total for a in answers}
    names = {code: name for a in answers for code, name in a.archives.items()}
    return NetworkPage(query=query, total=sum(a.total for a in answers),
                       hits=everything[offset:offset + query.per_page], facets=facets,
                       unavailable=sorted(unavailable), took_ms=int((time.perf_counter() - started) * 1000),
                       backend=backend, via=via, archive_names=names)


def _ask_all(app, peers: list, query: SearchQuery, timeout: float) -> dict:
    with _pool_lock:
        return {_pool.submit(ask_peer, app, p, query, timeout): p.name for p in peers}


def network_search(session: Session, index: SearchIndex, query: SearchQuery) -> NetworkPage:
    """This node's hits and every peer's, merged (see the module's docstring). Raises
    ValidationFailed for a page past NETWORK_DEPTH and SearchUnavailable when this node's own
    engine is down; a peer that fails is only named in `unavailable`."""
    check_depth(query)
    started = time.perf_counter()
    app = current_app._get_current_object()
    timeout = float(app.config.get("FEDERATION_SEARCH_TIMEOUT") or 1.5)
    deep = replace(query, page=1, per_page=query.page * query.per_page)
    peers = [SimpleNamespace(name=p.name, url=p.url, meili_url=p.meili_url, meili_key=p.meili_key)
             for p in peers_for_search(session)]
    via = "fan-out"
    answers: list[NodeAnswer] = []
    unavailable: list[str] = []
    from portal.federation import search_engine

    engine_peers = search_engine.engine_peers(peers) if search_engine.usable(app, peers) else []
    # The peers asked over the signed API go first, so that the engine's answer does not hold them up.
    futures = _ask_all(app, [p for p in peers if p not in engine_peers], deep, timeout)
    if engine_peers:
        engine = search_engine.engine_search(session, index, deep, engine_peers, timeout)
        if engine is None:  # not for this search, or this node's engine failed: fan out to them too
            futures.update(_ask_all(app, engine_peers, deep, timeout))
        else:
            answers, via = engine.answers, "engine"
            futures.update(_ask_all(app, engine.left_over, deep, timeout))  # those the engine could not reach
    if not answers:
        answers = [local_answer(session, index, deep)]
    done, _not_done = wait(futures, timeout=timeout + 0.2)
    for future, name in futures.items():
        if future not in done:
            future.cancel()
            log.warning("network search: %s did not answer within %.1f s", name, timeout)
            unavailable.append(name)
            continue
        try:
            answers.append(future.result())
            _seen_archives[name] = dict(answers[-1].archives)
        except Exception as exc:  # noqa: BLE001 — a peer's failure must not fail this search
            log.warning("network search: %s could not be searched: %s", name, type(exc).__name__)
            unavailable.append(name)
    return merge(query, answers, unavailable, started=started, backend=index.backend, via=via)


def unavailable_archives(session: Session, names: list[str]) -> list[str]:
    """For the page: each unavailable node with the archives this node knows it holds (mirrored
    archives, and those it named in its last answer), e.g. "gamma (柳州市柳江区档案馆)"."""
    if not names:
        return []
    rows = session.scalars(select(Archive).where(Archive.node.in_(names)))
    known: dict[str, dict[str, str]] = {n: dict(_seen_archives.get(n, {})) for n in names}
    for archive in rows:
        known[archive.node][archive.code] = archive.name
    return [f"{n} ({', '.join(name for _code, name in sorted(archives.items()))})" if archives else n
            for n, archives in known.items()]


def peer_name_search_counted() -> None:
    """A name search asked by a peer counts against that peer's limit (portal.throttle)."""
    from portal import throttle

    throttle.check("peer_name_search")


def network_json(page: NetworkPage) -> dict:
    """GET /api/v1/search?scope=network's answer (portal.api.responses.SearchAnswer)."""
    return {"scope": "network", "total": page.total, "page": page.query.page, "per_page": page.query.per_page,
            "hits": [h.as_json() for h in page.hits], "facets": page.facets, "unavailable": page.unavailable,
            "took_ms": page.took_ms, "backend": page.backend, "via": page.via}
