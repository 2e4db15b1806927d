"""Node-to-node calls are signed (RFC 9421, Ed25519, content-digest, created, nonce) and only a
trusted peer's fresh, first-time call is taken: two real nodes, each a `portal serve` process."""
from __future__ import annotations

import datetime
import json
import sqlite3

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.federation.signing import signer
from tests.federation.cluster import Node, close, running


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    base = tmp_path_factory.mktemp("pair")
    a, b = Node.create(base / "a", "alpha"), Node.create(base / "b", "beta")
    with running(a, b):
        yield a, b


def _private_key(node: Node) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key((node.data_dir / "keys" / "node.key.pem").read_bytes(), password=None)


def _refusals(node: Node) -> list[dict]:
    with sqlite3.connect(node.data_dir / "portal.db") as conn:
        rows = conn.execute("SELECT object_id, details FROM audit_log WHERE action = 'federation_refused'").fetchall()
    return [{"keyid": keyid, **json.loads(details)} for keyid, details in rows]


def test_node_show_and_public_identity(pair):
    a, b = pair
    shown = json.loads(a.cli("node", "show", "--json").stdout)
    assert set(shown) == {"name", "url", "public_key"} and shown["name"] == "alpha" and shown["url"] == a.url
    status, info = b.get_json("/federation/v1/node")
    assert status == 200 and info["name"] == "beta" and info["public_key"] == b.public_key


def test_peers_added_checked_and_removed_by_the_commands_an_admin_types(pair, tmp_path):
    a, b = pair
    assert "signature accepted" in a.cli("peers", "check", "beta").stdout
    # A third node: beta's admin adds it with `portal peers add`, then removes it.
    c = Node.create(tmp_path / "c", "gamma")
    try:
        assert "beta" in c.cli("peers", "add", "beta", b.url, b.public_key).stdout
        assert "gamma" in b.cli("peers", "add", "gamma", c.url, c.public_key).stdout
        assert "signature accepted" in c.cli("peers", "check", "beta").stdout
        listed = json.loads(b.cli("peers", "list", "--json").stdout)
        assert [p["name"] for p in listed] == ["alpha", "gamma"]
        # What the two admins read out to each other: the same fingerprint on both sides.
        shown = c.cli("node", "show").stdout
        assert listed[1]["fingerprint"] in shown and len(listed[1]["fingerprint"].split()) == 8
        assert "gamma" in b.cli("peers", "remove", "gamma").stdout
        refused = c.cli("peers", "check", "beta", check=False)
        assert refused.returncode == 2 and "401" in refused.stderr
    finally:
        close(c)


def _signed(node: Node, url: str, *, key=None, keyid=None, created=None, method="GET", body=None):
    auth = signer(keyid or node.name, key or _private_key(node))
    if created is not None:
        auth.get_created = lambda _request: created
    return requests.Request(method, url, auth=auth, data=body,
                            headers={"Content-Type": "application/json"} if body else {}).prepare()


def test_unsigned_forged_unknown_stale_and_replayed_calls_are_refused(pair):
    a, b = pair
    url = b.url + "/federation/v1/ping"
    http = requests.Session()
    http.trust_env = False
    before = len(_refusals(b))
    assert http.get(url).status_code == 401  # unsigned
    forged = _signed(a, url, key=Ed25519PrivateKey.generate())  # alpha's name, another key
    assert http.send(forged).status_code == 401
    assert http.send(_signed(a, url, keyid="gamma")).status_code == 401  # not a peer of beta
    stale = datetime.datetime.now() - datetime.timedelta(minutes=6)
    assert http.send(_signed(a, url, created=stale)).status_code == 401
    fresh = _signed(a, url)
    first = http.send(fresh)
    assert first.status_code == 200 and first.json() == {"node": "beta", "peer": "alpha"}
    assert http.send(fresh).status_code == 401  # the same signed call again: a replay
    refusals = _refusals(b)[before:]
    assert [r["reason"].split(":")[0] for r in refusals] == [
        "unsigned", "bad signature", "unknown key", "bad signature", "replayed nonce"]


def test_a_body_changed_after_signing_is_refused(pair):
    a, b = pair
    url = b.url + "/federation/v1/ping"
    tampered = _signed(a, url, method="GET", body=b'{"x":1}')
    tampered.body = b'{"x":2}'
    tampered.headers["Content-Length"] = str(len(tampered.body))
    http = requests.Session()
    http.trust_env = False
    assert http.send(tampered).status_code == 401


def test_bad_names_urls_and_keys_are_refused_with_a_reason(pair):
    a, _b = pair
    for args, expected in ((("Bad Name", "http://x.example", a.public_key), "节点名称"),
                           (("delta", "ftp://x.example", a.public_key), "http(s)"),
                           (("delta", "http://x.example", "not-a-key"), "公钥无效"),
                           (("alpha", "http://x.example", a.public_key), "本节点自己")):
        done = a.cli("peers", "add", *args, check=False)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
    assert [p["name"] for p in json.loads(a.cli("peers", "list", "--json").stdout)] == ["beta"]


def test_an_unsigned_upload_is_refused_before_it_is_read(pair):
    """An outsider's large POST: 401 as soon as the headers show no trusted peer's signature,
    without the node reading the body (the connection is closed on the sender mid-upload)."""
    import socket

    _a, b = pair
    size = 50 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", b.port), timeout=10) as conn:
        conn.sendall(f"POST /federation/v1/messages HTTP/1.1\r\nHost: 127.0.0.1:{b.port}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode() + b"{" * 65536)
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
