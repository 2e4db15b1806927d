"""Every node-to-node call is signed with HTTP Message Signatures (RFC 9421), through the
maintained `http-message-signatures` / `requests-http-signature` libraries:

- Ed25519, keyid = the sending node's name;
- covering the method, the target URI, the Content-Digest of the body (RFC 9530, SHA-256; an empty
  body has one too) and the Date;
- with `created` (accepted for 5 minutes, 5 seconds of clock skew) and a random nonce, which the
  receiver keeps (federation_nonce) for as long as the signature could be accepted: the same
  signed call sent again is refused.

Refusals (unsigned, unknown key, bad signature or digest, stale, replayed) are 401 and logged, in
the application log and the audit log."""
from __future__ import annotations

import logging
from datetime import timedelta

import requests
from http_message_signatures import HTTPSignatureKeyResolver, InvalidSignature, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from requests_http_signature import HTTPSignatureAuth
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core.clock import utcnow
from portal.federation.models import Peer, SeenNonce
from portal.federation.node import NodeError, read_public_key

log = logging.getLogger(__name__)

MAX_AGE = timedelta(minutes=5)
# What must be signed; the Date and the Content-Digest are added (and covered) by the signer.
COVERED = ("@method", "@target-uri")
REQUIRED = ("@method", "@target-uri", "content-digest")
NONCE_KEPT = MAX_AGE + timedelta(minutes=1)


class Refused(Exception):
    """A call that is not from a trusted peer, or not fresh; the message says why (for the log:
    the caller is told only 401)."""

    def __init__(self, reason: str, keyid: str = ""):
        super().__init__(reason)
        self.reason, self.keyid = reason, keyid


class _Keys(HTTPSignatureKeyResolver):
    """The sending node's own key to sign; a trusted peer's public key to verify."""

    def __init__(self, private_key=None, peers: dict[str, Peer] | None = None):
        self.private_key, self.peers = private_key, peers or {}

    def resolve_private_key(self, key_id: str):
        return self.private_key

    def resolve_public_key(self, key_id: str):
        peer = self.peers.get(key_id)
        if peer is None:
            return None
        try:
            return read_public_key(peer.public_key)
        except NodeError:
            return None


def signer(node_name: str, private_key) -> HTTPSignatureAuth:
    """A requests auth that signs each call as `node_name`."""
    return HTTPSignatureAuth(signature_algorithm=algorithms.ED25519, key_id=node_name,
                             key_resolver=_Keys(private_key), covered_component_ids=COVERED, use_nonce=True)


def _keyid(signature_input: str) -> str:
    """The keyid the caller claims (read only to find its key and to log; verification decides)."""
    marker = 'keyid="'
    start = signature_input.find(marker)
    if start < 0:
        return ""
    end = signature_input.find('"', start + len(marker))
    return signature_input[start + len(marker):end][:40] if end > 0 else ""


def verify(session: Session, method: str, url: str, headers: dict[str, str], body) -> Peer:
    """The trusted peer that signed this call, or Refused. `url` is the URL the caller addressed,
    rebuilt from this node's configured public URL (never from the Host header). `body`: the bytes,
    or a function that reads them — called only once the call names a trusted peer, so that an
    outsider's unsigned upload is refused before it is read."""
    signature_input = headers.get("Signature-Input") or headers.get("signature-input") or ""
    if not signature_input or not (headers.get("Signature") or headers.get("signature")):
        raise Refused("unsigned")
    keyid = _keyid(signature_input)
    peer = session.scalar(select(Peer).where(Peer.name == keyid)) if keyid else None
    if peer is None:
        raise Refused("unknown key", keyid)
    body = body() if callable(body) else body
    message = requests.Request(method, url, headers=headers, data=body or None).prepare()
    try:
        result = HTTPSignatureAuth.verify(message, signature_algorithm=algorithms.ED25519,
                                          key_resolver=_Keys(peers={peer.name: peer}), max_age=MAX_AGE,
                                          require_components=REQUIRED)
    except (InvalidSignature, HTTPMessageSignaturesException, ValueError) as exc:
        raise Refused(f"bad signature: {str(exc)[:200]}", keyid) from None
    if result.parameters.get("keyid") != peer.name:
        raise Refused("keyid not signed", keyid)
    nonce = result.nonce
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= 100:
        raise Refused("no nonce", keyid)
    _remember(session, peer.name, nonce)
    return peer


def _remember(session: Session, peer: str, nonce: str) -> None:
    """Keep the nonce; one seen before is a replay. Committed at once, in its own transaction, so
    that two copies of a call arriving together cannot both pass."""
    now = utcnow()
    session.execute(delete(SeenNonce).where(SeenNonce.seen_at < now - NONCE_KEPT))
    session.add(SeenNonce(peer=peer, nonce=nonce, seen_at=now))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Refused("replayed nonce", peer) from None
