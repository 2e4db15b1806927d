"""Records of other nodes that a citizen here applies for: each becomes a local *mirror* — a
`Record` under the mirror archive of the peer's archive (portal.federation.peers.mirror_archive) —
holding only the public, masked facts the peer gave (reference code, category, title, masked name,
date, place), fetched with a signed `GET /federation/v1/records/<archive code>/<reference code>`.
The request machinery then works unchanged: records are named by (archive code, reference code)
everywhere, and archive codes are unique across the network.

Mirrors never show in this node's own lists (search, record pages, "my records", statistics,
archive lists): those keep to `Archive.node IS NULL`."""
from __future__ import annotations

import logging
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.archives.models import Archive
from portal.catalog.models import Record
from portal.core.categories import CATEGORIES
from portal.core.storable import clean_json
from portal.federation.client import PeerUnavailable, call
from portal.federation.models import Peer
from portal.federation.node import NodeError, this_node
from portal.federation.peers import get_peer, list_peers, mirror_archive

log = logging.getLogger(__name__)
LOOKUP_TIMEOUT = (2.0, 5.0)


def public_facts(record: Record) -> dict:
    """What a peer is told of one of this node's open records: the same masked facts as the
    public catalog shows (portal.catalog.service.present, audience "public")."""
    from portal.catalog.service import present

    view = present(record, "public")
    return {"archive": {"code": record.archive.code, "name": record.archive.name, "region": record.archive.region},
            "reference_code": view.reference_code, "category": view.category, "title": view.title,
            "subject_name": view.subject_name, "event_year": record.event_year, "event_month": record.event_month,
            "event_day": record.event_day, "place": view.place}


def _peer_for(session: Session, archive_code: str, node: str | None) -> list[Peer]:
    """The peers that may hold `archive_code`: the one named, the one a mirror says, or every peer."""
    if node:
        peer = get_peer(session, node)
        return [peer] if peer is not None else []
    mirror = session.scalar(select(Archive).where(Archive.code == archive_code))
    if mirror is not None:
        if mirror.node is None:
            return []  # this node's own archive: never a peer's
        peer = get_peer(session, mirror.node)
        return [peer] if peer is not None else []
    return list_peers(session)


def _fetch(peer: Peer, archive_code: str, reference_code: str) -> dict | None:
    """The peer's public facts of the record, None when it has no such open record; raises
    PeerUnavailable."""
    path = f"/federation/v1/records/{quote(archive_code, safe='')}/{quote(reference_code, safe='')}"
    answer = call(peer, "GET", path, timeout=LOOKUP_TIMEOUT)
    if answer.status_code != 200:
        return None
    try:
        facts = answer.json()
    except ValueError:
        return None
    if not isinstance(facts, dict) or facts.get("reference_code") != reference_code or \
            (facts.get("archive") or {}).get("code") != archive_code:
        return None
    year = facts.get("event_year") or 0
    if not clean_json(facts) or not isinstance(year, int) or not 0 <= year <= 9999:  # else not storable here
        log.warning("peer %s sent a record this node cannot mirror: %s/%s", peer.name, archive_code, reference_code)
        return None
    return facts


def _store(session: Session, node: str, facts: dict) -> Record:
    archive_facts = facts["archive"]
    archive = mirror_archive(session, node, archive_facts["code"], str(archive_facts.get("name") or archive_facts["code"]),
                             str(archive_facts.get("region") or ""))
    record = session.scalar(select(Record).where(Record.archive_id == archive.id,
                                                 Record.reference_code == facts["reference_code"]))
    if record is None:
        record = Record(archive=archive, reference_code=str(facts["reference_code"])[:64])
        session.add(record)
    month, day = facts.get("event_month"), facts.get("event_day")
    record.category = facts.get("category") if facts.get("category") in CATEGORIES else "other"
    record.title = str(facts.get("title") or "")[:300]
    record.subject_name = str(facts.get("subject_name") or "")[:50]
    record.subject_id_enc = record.subject_id_hash = None  # never known here
    record.event_year = facts.get("event_year") or 0
    record.event_month = month if isinstance(month, int) and 1 <= month <= 12 else None
    record.event_day = day if record.event_month and isinstance(day, int) and 1 <= day <= 31 else None
    record.place = str(facts.get("place") or "")[:200]
    record.summary, record.access_level, record.copy_path = "", "open", None
    return record


def _stored(session: Session, node: str, facts: dict) -> Record | None:
    """The mirror of a peer's record as it sent it, or None (logged) when its facts cannot be kept."""
    try:
        return _store(session, node, facts)
    except (NodeError, KeyError, TypeError, ValueError) as exc:
        log.warning("peer %s sent a record this node cannot mirror: %s", node, exc)
        return None


def _only_claim(peers: list[Peer], code: str, reference: str) -> tuple[Peer, dict] | None:
    """An archive code this node has no mirror of yet goes to the one peer that has the record:
    every peer is asked, and none gets it when several claim it or one cannot answer now (not to
    whichever answers first: the tasks of its records carry the subject's ID number and proofs)."""
    claims = []
    for peer in peers:
        try:
            facts = _fetch(peer, code, reference)
        except (PeerUnavailable, NodeError) as exc:
            log.warning("record lookup at peer %s failed: %s", peer.name, exc)
            return None
        if facts is not None:
            claims.append((peer, facts))
    if len(claims) > 1:
        log.warning("archive %s claimed by several peers: %s", code, ", ".join(p.name for p, _ in claims))
    return claims[0] if len(claims) == 1 else None


def mirror_records(session: Session, keys, nodes: dict | None = None) -> dict[tuple[str, str], Record]:
    """Mirrors of peers' open records by (archive code, reference code), fetched now (refreshed
    when a mirror exists; the mirror as it was when the peer does not answer). `nodes` names the
    peer of a key where the caller knows it (the API's `"node"`; for an archive code not mirrored
    yet, only a check of the one peer that claims it: _only_claim). Keys of this node's own archives,
    and records no peer has (or holds open), are left out. Adds to the session; does not commit."""
    if this_node() is None:
        return {}
    found: dict[tuple[str, str], Record] = {}
    for code, reference in keys:
        named = (nodes or {}).get((code, reference))
        if session.scalar(select(Archive.id).where(Archive.code == code)) is None:  # whose, not known here yet
            claim = _only_claim(list_peers(session), code, reference)
            if claim is not None and named in (None, claim[0].name) and (
                    record := _stored(session, claim[0].name, claim[1])) is not None:
                found[(code, reference)] = record
            continue
        for peer in _peer_for(session, code, named):
            try:
                facts = _fetch(peer, code, reference)
            except (PeerUnavailable, NodeError) as exc:
                log.warning("record lookup at peer %s failed: %s", peer.name, exc)
                existing = session.scalar(select(Record).join(Record.archive).where(
                    Archive.code == code, Archive.node == peer.name, Record.reference_code == reference))
                if existing is not None:
                    found[(code, reference)] = existing
                    break
                continue
            if facts is not None and (record := _stored(session, peer.name, facts)) is not None:
                found[(code, reference)] = record
                break
    if found:
        session.flush()
    return found
