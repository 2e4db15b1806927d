"""What a node keeps about the network: its trusted peers, the nonces it has seen (replay), and
every message it sent to or received from a peer (the outbox and the inbox, with the peer's
signature kept for any dispute)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.core.clock import utcnow
from portal.db import Base, UTCDateTime

MESSAGE_STATUSES = ("pending", "delivered", "failed", "received")


class Peer(Base):
    """A node this node's admin trusts: its name, base URL and Ed25519 public key (raw, base64).
    `account` is the peer's system account: what the peer does here (answer a task, withdraw a
    request it forwarded) goes through the one dispatcher as that account (role "peer")."""

    __tablename__ = "peer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    url: Mapped[str] = mapped_column(String(300))
    public_key: Mapped[str] = mapped_column(String(64))
    # Search through Meilisearch's network feature (portal.federation.search): the peer's engine and
    # a search-only key restricted to its public index. None: signed fan-out only.
    meili_url: Mapped[str | None] = mapped_column(String(300))
    meili_key: Mapped[str | None] = mapped_column(String(200))
    # The archives the peer said it holds (its /federation/v1/node, read when it was added or
    # when it names one not listed yet), JSON [{code, name, region}]: a peer may speak for these only.
    archives: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    account_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by: Mapped[str] = mapped_column(String(254), default="")

    account: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Peer {self.name} {self.url}>"


class SeenNonce(Base):
    """A signature's nonce, kept as long as its signature could still be accepted (5 minutes and
    the clock skew allowed): the same signed call sent again is refused."""

    __tablename__ = "federation_nonce"
    __table_args__ = (Index("ix_federation_nonce_seen_at", "seen_at"),)

    peer: Mapped[str] = mapped_column(String(20), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FederationMessage(Base):
    """One message between nodes. Outgoing ("out"): queued in the transaction of the change that
    caused it, delivered by the background process with retries ("pending" → "delivered", or
    "failed" once the peer refused it for good). Incoming ("in", "received"): stored as it came,
    with the peer's Signature-Input and Signature; the (peer, message_id) pair makes a message
    sent twice act once."""

    __tablename__ = "federation_message"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in MESSAGE_STATUSES)})", name="status"),
        CheckConstraint("direction IN ('out', 'in')", name="direction"),
        UniqueConstraint("direction", "peer", "message_id", name="uq_federation_message_id"),
        Index("ix_federation_message_due", "direction", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    peer: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str] = mapped_column(String(64))  # the idempotency key, made by the sender
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)  # JSON
    signature: Mapped[str] = mapped_column(Text, default="")  # incoming: Signature-Input + Signature
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    response: Mapped[str] = mapped_column(Text, default="")  # JSON: the answer given / received
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
