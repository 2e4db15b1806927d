"""Certificates verifiable anywhere: a serial names the node that issued it
(ZM-NANNING-450100-2026-000001), so any node of the network answers for it — its own certificates
from its database, a trusted peer's by asking that peer (signed, a short timeout, never cached:
a revocation on the issuing node shows at the next check everywhere).

`check(session, serial, code, ip)` is what /verify and GET /api/v1/certificates/<serial> call: a
Local answer (this node's own certificate, or an older serial), a Remote one (the peer's public
facts, `node` naming the peer), None (no such certificate, or a wrong code: one answer for both,
and the failure is counted against the asker here, as a local one is), or IssuerUnreachable.
The peer's side is portal.federation.certificate_views."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.orm import Session

from portal.certificates import service
from portal.certificates.models import Certificate
from portal.core.masking import mask_name
from portal.federation.client import PeerUnavailable, call
from portal.federation.node import NodeError, this_node
from portal.federation.peers import get_peer

# Connect, read (seconds): a person is waiting on the page.
TIMEOUT = (2.0, 5.0)
RETRY_AFTER_SECONDS = 60


class IssuerUnreachable(Exception):
    """The node that issued the certificate is a trusted peer, but it cannot answer now."""

    def __init__(self, node: str):
        super().__init__(node)
        self.node = node


@dataclass(frozen=True)
class Facts:
    """What anyone holding the certificate may confirm, wherever it was issued."""
    node: str | None  # the node that answered (None: a node never initialised)
    serial: str
    status: str
    kind: str
    issued_at: datetime
    revoked_at: datetime | None
    sha256: str
    issuing_archive: dict  # {"code", "name"}
    holding_archives: list[dict]
    subject: str  # masked
    remote: bool = False

    def as_json(self) -> dict:
        """The peer API's answer (GET /federation/v1/certificates/<serial>)."""
        return {"node": self.node, "serial": self.serial, "status": self.status, "valid": self.status == "valid",
                "kind": self.kind, "issued_at": _iso(self.issued_at), "revoked_at": _iso(self.revoked_at),
                "sha256": self.sha256, "issuing_archive": self.issuing_archive,
                "holding_archives": self.holding_archives, "subject": self.subject}


def facts_of(certificate: Certificate) -> Facts:
    node = this_node()
    return Facts(node=node.name if node else None, serial=certificate.serial, status=certificate.status,
                 kind=certificate.kind, issued_at=certificate.issued_at, revoked_at=certificate.revoked_at,
                 sha256=certificate.sha256,
                 issuing_archive={"code": certificate.issuing_archive.code, "name": certificate.issuing_archive.name},
                 holding_archives=[{"code": a.code, "name": a.name} for a in certificate.holding_archives],
                 subject=mask_name(certificate.request.subject_name))


def issuing_peer(session: Session, serial: str):
    """The trusted peer a serial names, or None (this node's own, an older shape, or a node this
    node does not trust: those are looked up here, and a stranger's serial is simply not found)."""
    named = service.serial_node(serial)
    if named is None:
        return None
    me = this_node()
    if me is not None and me.name == named:
        return None
    return get_peer(session, named)


def check(session: Session, serial: str, code: str, ip: str = "") -> Facts | None:
    """The public facts of the certificate with this serial and code, from whichever node issued it;
    None for no such certificate or a wrong code. TooManyChecks once the asker failed too often;
    IssuerUnreachable when the issuing peer cannot answer now."""
    peer = issuing_peer(session, serial)
    if peer is None:
        found = service.lookup(session, serial, code, ip=ip)
        return facts_of(found) if found is not None else None
    service.check_failures(session, ip)
    serial_text = service.normalize_serial(serial)[:service.MAX_SERIAL_LENGTH]
    code_text = service.normalize_code(code)[:20]
    session.commit()  # no transaction held open while the peer is asked
    try:
        answer = call(peer, "GET", f"/federation/v1/certificates/{quote(serial_text, safe='')}",
                      params={"code": code_text}, timeout=TIMEOUT)
    except (PeerUnavailable, NodeError):
        raise IssuerUnreachable(peer.name) from None
    if answer.status_code == 404:
        service.lookup_failed(session, serial_text, ip)
        return None
    if answer.status_code == 200:
        try:
            return _read(peer.name, answer.json())
        except (ValueError, KeyError, TypeError):
            pass
    # Refused (its key for us changed, it no longer trusts us), throttled, or an answer we cannot read.
    raise IssuerUnreachable(peer.name)


def _read(node: str, data: dict) -> Facts:
    if data["status"] not in ("valid", "revoked") or data["kind"] not in ("found", "not_found"):
        raise ValueError(data["status"])

    def archive(value) -> dict:
        return {"code": str(value["code"])[:12], "name": str(value["name"])[:100]}

    return Facts(node=node, serial=str(data["serial"])[:service.MAX_SERIAL_LENGTH], status=data["status"],
                 kind=data["kind"], issued_at=datetime.fromisoformat(data["issued_at"]),
                 revoked_at=datetime.fromisoformat(data["revoked_at"]) if data.get("revoked_at") else None,
                 sha256=str(data["sha256"])[:64], issuing_archive=archive(data["issuing_archive"]),
                 holding_archives=[archive(a) for a in data["holding_archives"]][:50],
                 subject=str(data["subject"])[:40], remote=True)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
