"""The peers this node trusts, as its admin added them (`portal peers …`, the admin page
/admin/peers). Each peer has a system account here (role "peer", `node` = its name, no password),
through which what the peer does here is dispatched and audited; removing a peer disables that
account and keeps the history."""
from __future__ import annotations

import json
import logging
import secrets

import requests

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.archives.models import Archive
from portal.audit.service import log
from portal.federation.models import Peer
from portal.federation.node import NodeError, check_name, check_url, read_public_key, this_node


logger = logging.getLogger(__name__)


def peer_email(name: str) -> str:
    return f"peer+{name}@federation.invalid"


def list_peers(session: Session) -> list[Peer]:
    return list(session.scalars(select(Peer).order_by(Peer.name)))


def get_peer(session: Session, name: str) -> Peer | None:
    return session.scalar(select(Peer).where(Peer.name == name))


def add_peer(session: Session, name: str, url: str, public_key: str, *, meili_url: str | None = None,
             meili_key: str | None = None, added_by: str = "cli", actor=None, ip: str = "") -> Peer:
    """Trust a node (or change its URL, key or search engine). Raises NodeError for a bad name,
    URL or key, or this node's own name."""
    name, url = check_name(name), check_url(url)
    read_public_key(public_key)
    me = this_node()
    if me is not None and me.name == name:
        raise NodeError(f"{name} 是本节点自己的名称 (that is this node's own name)")
    if meili_url:
        meili_url = check_url(meili_url)
    peer = get_peer(session, name)
    if peer is None:
        account = session.scalar(select(User).where(User.email == peer_email(name)))
        if account is None:
            # No password (an unusable hash): the account never logs in; it only acts for the peer.
            account = User(email=peer_email(name), password_hash="!" + secrets.token_hex(8), real_name=name,
                           role="peer", node=name)
            session.add(account)
        account.is_active_account = True
        peer = Peer(name=name, account=account)
        session.add(peer)
    peer.url, peer.public_key = url, public_key.strip()
    peer.meili_url, peer.meili_key = meili_url or None, meili_key or None
    peer.added_by = added_by
    refresh_archives(peer)
    session.flush()
    log(session, "peer_added", actor=actor, object_type="peer", object_id=name, ip=ip, url=url)
    session.commit()
    return peer


def remove_peer(session: Session, name: str, *, actor=None, ip: str = "") -> bool:
    """Stop trusting a node: its calls are refused from now on. What it sent stays on record."""
    peer = get_peer(session, name)
    if peer is None:
        return False
    peer.account.is_active_account = False
    session.delete(peer)
    log(session, "peer_removed", actor=actor, object_type="peer", object_id=name, ip=ip)
    session.commit()
    return True


def mirror_archive(session: Session, node: str, code: str, name: str, region: str = "") -> Archive:
    """The local row standing for an archive of peer `node` (archive.node = the peer's name): what
    a request here names as a holding archive on another node, or a peer's issuing archive on a
    task it sent. Staff never belong to it; lists of this node's own archives leave it out
    (`Archive.node.is_(None)`). Its name follows what the peer last said."""
    archive = session.scalar(select(Archive).where(Archive.code == code))
    if archive is None:
        archive = Archive(code=code, name=name[:100], region=region[:100], node=node)
        session.add(archive)
        session.flush()
    elif archive.node != node:
        raise NodeError(f"档案馆代码 {code} 已属于{'本节点' if archive.node is None else archive.node} "
                        f"(archive code {code} already belongs to {archive.node or 'this node'})")
    else:
        archive.name, archive.region = name[:100] or archive.name, region[:100] or archive.region
    return archive


def listed_codes(peer: Peer) -> set[str]:
    try:
        return {a["code"] for a in json.loads(peer.archives or "[]") if isinstance(a, dict) and "code" in a}
    except (ValueError, TypeError):
        return set()


def refresh_archives(peer: Peer) -> bool:
    """Read the archives the peer holds from its public /federation/v1/node, at the URL and with the
    key this node's admin gave (nothing a peer sends chooses where this node calls). False, and the
    list kept, when it cannot be read or the answer is not the peer's (another name or key)."""
    try:
        http = requests.Session()
        http.trust_env = False
        answer = http.get(peer.url + "/federation/v1/node", timeout=(2, 5), allow_redirects=False)
        info = answer.json() if answer.status_code == 200 else None
        if not isinstance(info, dict) or info.get("name") != peer.name or info.get("public_key") != peer.public_key:
            return False
        archives = [{"code": str(a["code"])[:12], "name": str(a.get("name", ""))[:100],
                     "region": str(a.get("region", ""))[:100]} for a in info.get("archives", [])[:1000]
                    if isinstance(a, dict) and "code" in a]
    except (requests.RequestException, ValueError, TypeError, KeyError) as exc:
        logger.warning("the archives of peer %s could not be read: %s", peer.name, type(exc).__name__)
        return False
    peer.archives = json.dumps(archives, ensure_ascii=False)
    return True


def speaks_for(session: Session, peer: Peer, code: str) -> bool:
    """May `peer` act for archive `code` (name it as the issuing archive of a task it sends)? Only
    an archive it listed, and no other peer did; a code not listed yet makes this node read the
    peer's list again, once."""
    others = [p for p in list_peers(session) if p.name != peer.name]
    if any(code in listed_codes(p) for p in others):
        return False
    if code in listed_codes(peer):
        return True
    return refresh_archives(peer) and code in listed_codes(peer)
