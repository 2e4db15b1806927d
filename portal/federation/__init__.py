"""Federation between deployments ("nodes"): query anywhere, issue locally across the network,
with no central hub. Each node keeps its own database, search engine, keys and staff, and trusts
only the peers its admin added (docs/federation.md).

- node.py: this node's name, URL and Ed25519 key (`portal node init/show`);
- peers.py: the trusted peers and their system accounts; archives of other nodes mirrored here;
- signing.py: RFC 9421 signatures on every call, verified with a 5-minute window and a nonce;
- client.py: signed calls to a peer; views.py: the peer API under /federation/v1/;
- cli.py: `portal node …`, `portal peers …`;
- records.py: peers' records a citizen here applies for, mirrored with their public facts;
- messages.py (the outbox and the steps that fill it), messages_worker.py (delivery with retries),
  messages_inbox.py (what a peer's message does here, once), messages_views.py (/records, /messages):
  requests across nodes (docs/federation.md)."""
