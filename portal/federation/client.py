"""Calling a peer: every call signed as this node (portal.federation.signing), over one kept-alive
connection pool per thread, never through an HTTP proxy from the environment, never following a
redirect (a peer's answer comes from the peer)."""
from __future__ import annotations

import json
import threading

import requests

from portal.federation.models import Peer
from portal.federation.node import NodeError, this_node, this_private_key
from portal.federation.signing import signer

_local = threading.local()
# Connect, read (seconds): what a message delivery waits for; searches pass their own, shorter.
DEFAULT_TIMEOUT = (3.0, 30.0)


class PeerUnavailable(Exception):
    """The peer could not be reached, timed out, or answered with a server error."""


def _http() -> requests.Session:
    http = getattr(_local, "http", None)
    if http is None:
        http = _local.http = requests.Session()
        http.trust_env = False
    return http


def call(peer: Peer, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
         timeout=DEFAULT_TIMEOUT, stream: bool = False) -> requests.Response:
    """A signed call to `peer` (path under its base URL, e.g. "/federation/v1/ping"). Returns the
    answer, whatever its status below 500; raises PeerUnavailable for no answer or a 5xx."""
    node = this_node()
    if node is None:
        raise NodeError("本节点尚未初始化 (run `portal node init` first)")
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() if body is not None else None
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        response = _http().request(method, peer.url + path, params=params, data=data, headers=headers,
                                   auth=signer(node.name, this_private_key()), timeout=timeout,
                                   allow_redirects=False, stream=stream)
    except requests.RequestException as exc:
        raise PeerUnavailable(f"{peer.name}: {type(exc).__name__}") from exc
    if response.status_code >= 500:
        raise PeerUnavailable(f"{peer.name}: HTTP {response.status_code}")
    return response
