"""The hits of a network search, and a peer's answer read with suspicion (what
portal.federation.search and portal.federation.search_engine share)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from portal.core.categories import CATEGORIES

RANK_K = 20
NETWORK_DEPTH = 100  # the deepest merged hit a network page reaches (a peer answers 100 a page at most)
FACET_KINDS = ("category", "archive", "decade")


@dataclass
class NetworkHit:
    """One hit of a network search: only public, masked fields."""
    node: str
    url: str
    archive_code: str
    archive_name: str
    reference_code: str
    category: str
    category_label: str
    title: str
    subject_name: str  # masked
    year: int | None
    place: str
    highlight: Markup
    score: float
    local: bool = False

    def as_json(self) -> dict:
        return {"reference_code": self.reference_code, "archive_code": self.archive_code,
                "archive_name": self.archive_name, "archive": {"code": self.archive_code, "name": self.archive_name},
                "category": self.category, "category_label": self.category_label, "title": self.title,
                "subject_name": self.subject_name, "year": self.year, "place": self.place, "url": self.url,
                "highlight": str(self.highlight), "node": self.node, "score": round(self.score, 6)}


@dataclass
class NodeAnswer:
    node: str
    total: int
    hits: list[NetworkHit]
    facets: dict[str, dict[str, int]]
    archives: dict[str, str] = field(default_factory=dict)  # code → name, for the archive facet


def rank_score(position: int) -> float:
    """The score of the hit at `position` (0-based) of one node's answer: 1.0 for its first."""
    return RANK_K / (RANK_K + position)


_ENTITY = re.compile(r"&amp;(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")


class Garbage(ValueError):
    """A peer's answer that is not the shape GET /federation/v1/search answers."""


def _text(value, limit: int = 500) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise Garbage(f"not text: {type(value).__name__}")
    return str(value)[:limit]


def safe_highlight(text: str) -> Markup:
    """A peer's highlight is HTML from elsewhere: everything escaped but the <mark>s."""
    escaped = str(escape(text)).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
    return Markup(_ENTITY.sub(r"&\1;", escaped))  # its entities (&amp;, &#39;) stay entities


def _counts(value) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k)[:40]: v for k, v in list(value.items())[:2000] if isinstance(v, int) and not isinstance(v, bool)
            and v >= 0}


def read_peer_answer(peer_name: str, peer_url: str, doc) -> NodeAnswer:
    """A peer's JSON as a NodeAnswer; Garbage when it is not one. The node named is the peer we
    asked, whatever it says; links must be http(s) addresses on the peer; labels are our own."""
    if not isinstance(doc, dict) or not isinstance(doc.get("hits"), list) or not isinstance(doc.get("total"), int):
        raise Garbage("not a search answer")
    hits = []
    for position, h in enumerate(doc["hits"][:NETWORK_DEPTH]):
        if not isinstance(h, dict):
            raise Garbage("a hit is not an object")
        url = _text(h.get("url"), 1000)
        if not url.startswith(peer_url + "/"):
            raise Garbage("a hit's link is not on the peer")
        category = _text(h.get("category"), 40)
        year = h.get("year")
        hits.append(NetworkHit(
            node=peer_name, url=url, archive_code=_text(h.get("archive_code"), 40),
            archive_name=_text(h.get("archive_name"), 100), reference_code=_text(h.get("reference_code"), 200),
            category=category, category_label=CATEGORIES.get(category, category), title=_text(h.get("title")),
            subject_name=_text(h.get("subject_name"), 40), year=year if isinstance(year, int) else None,
            place=_text(h.get("place"), 200), highlight=safe_highlight(_text(h.get("highlight"), 2000)),
            score=rank_score(position)))
        if not hits[-1].archive_code or not hits[-1].reference_code:
            raise Garbage("a hit without its archive or reference code")
    facets = doc.get("facets") if isinstance(doc.get("facets"), dict) else {}
    archives = doc.get("archives") if isinstance(doc.get("archives"), dict) else {}
    return NodeAnswer(node=peer_name, total=max(doc["total"], 0), hits=hits,
                      facets={k: _counts(facets.get(k)) for k in FACET_KINDS},
                      archives={str(k)[:40]: _text(v, 100) for k, v in list(archives.items())[:500]})
