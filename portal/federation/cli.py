"""`portal node …` (this node's identity) and `portal peers …` (the nodes it trusts)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.db import db
from portal.federation import peers as service
from portal.federation.node import NodeError, fingerprint, init_node, this_node


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(2)


@click.group("node")
def node_group() -> None:
    """This node's name, URL and Ed25519 key (federation between deployments)."""


@node_group.command("init")
@click.option("--name", required=True, help="2–16 lower-case letters or digits, e.g. changsha")
@click.option("--url", required=True, help="the public base URL peers call this node at")
@click.option("--force", is_flag=True, help="rename, with a new key (every peer must add it again)")
@with_appcontext
def node_init(name: str, url: str, force: bool) -> None:
    """Name this node and make its key pair (kept beside the certificate keys). Run again with a
    new --url to move it; the key stays."""
    config = current_app.config
    passphrase = config.get("SIGNING_KEY_PASSPHRASE")
    try:
        node = init_node(Path(config["SIGNING_KEYS_DIR"]), name, url,
                         passphrase=passphrase.encode() if passphrase else None, force=force)
    except NodeError as exc:
        _fail(str(exc))
    click.echo(f"本节点 (this node): {node.name} {node.url}\n公钥 (public key): {node.public_key}")
    public = os.environ.get("PORTAL_PUBLIC_URL", "").rstrip("/")
    if public and public != node.url:
        # Peers check that search answers link to the URL they know this node by.
        click.echo(f"注意：节点网址与 PORTAL_PUBLIC_URL（{public}）不同，对等节点将无法使用本节点的检索结果 "
                   f"(warning: the node URL differs from PORTAL_PUBLIC_URL; peers will refuse this node's search answers)",
                   err=True)


@node_group.command("show")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def node_show(as_json: bool) -> None:
    """Print this node's name, URL and public key (give them to the admins of peers)."""
    node = this_node()
    if node is None:
        _fail("本节点尚未初始化：portal node init --name NAME --url URL (this node is not initialised)")
    if as_json:
        click.echo(json.dumps(node.as_json(), ensure_ascii=False))
    else:
        click.echo(f"名称 (name): {node.name}\n网址 (url): {node.url}\n公钥 (public key): {node.public_key}\n"
                   f"指纹 (fingerprint): {fingerprint(node.public_key)}")


@click.group("peers")
def peers_group() -> None:
    """The nodes this node trusts."""


@peers_group.command("add")
@click.argument("name")
@click.argument("url")
@click.argument("public_key")
@click.option("--meili-url", default=None, help="the peer's Meilisearch, for network search through the engine")
@click.option("--meili-key", default=None, help="the search-only key the peer gave for its public index")
@with_appcontext
def peers_add(name: str, url: str, public_key: str, meili_url: str | None, meili_key: str | None) -> None:
    """Trust NAME at URL with PUBLIC_KEY (as its `portal node show` printed them); again to change them."""
    try:
        peer = service.add_peer(db.session, name, url, public_key, meili_url=meili_url, meili_key=meili_key)
    except NodeError as exc:
        _fail(str(exc))
    click.echo(f"已添加对等节点 (peer added): {peer.name} {peer.url}")


@peers_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def peers_list(as_json: bool) -> None:
    """The trusted peers."""
    rows = [{"name": p.name, "url": p.url, "public_key": p.public_key, "fingerprint": fingerprint(p.public_key),
             "meili_url": p.meili_url}
            for p in service.list_peers(db.session)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("尚无对等节点 (no peers)")
    for row in rows:
        click.echo(f"{row['name']:<16} {row['url']:<40} {row['public_key']}  {row['fingerprint']}")


@peers_group.command("remove")
@click.argument("name")
@with_appcontext
def peers_remove(name: str) -> None:
    """Stop trusting NAME: its calls are refused from now on; what it sent stays on record."""
    if not service.remove_peer(db.session, name):
        _fail(f"没有名为 {name} 的对等节点 (no peer named {name})")
    click.echo(f"已移除对等节点 (peer removed): {name}")


@peers_group.command("check")
@click.argument("name")
@with_appcontext
def peers_check(name: str) -> None:
    """Make one signed call to NAME: does it know this node's key?"""
    from portal.federation.client import PeerUnavailable, call

    peer = service.get_peer(db.session, name)
    if peer is None:
        _fail(f"没有名为 {name} 的对等节点 (no peer named {name})")
    try:
        response = call(peer, "GET", "/federation/v1/ping", timeout=(3, 10))
    except PeerUnavailable as exc:
        _fail(f"无法连接 (unreachable): {exc}")
    if response.status_code != 200:
        _fail(f"{name} 拒绝了本节点的签名 (refused our signature): HTTP {response.status_code}")
    click.echo(f"{name}: 签名已接受 (signature accepted)")


@node_group.command("search-key")
@with_appcontext
def node_search_key() -> None:
    """Print a Meilisearch key that may only search this node's public index (open records,
    masked), for the admins of peers: `portal peers add THIS_NODE URL PUBLIC_KEY --meili-url
    ENGINE_URL --meili-key SEARCH_KEY`. Needs Meilisearch and `portal node init`; run `portal reindex` once
    after `node init` so the public index holds the catalog."""
    from portal.catalog.indexing import get_public_index
    from search_index import SearchUnavailable

    node = this_node()
    if node is None:
        _fail("本节点尚未初始化：portal node init --name NAME --url URL (this node is not initialised)")
    public = get_public_index()
    if public is None:
        _fail("本节点未使用 Meilisearch，对等节点将通过签名接口检索 (this node does not run Meilisearch: "
              "peers search it over the signed API)")
    try:
        key = public.search_key()
    except SearchUnavailable as exc:
        _fail(f"检索服务不可用 (Meilisearch unavailable): {exc}")
    click.echo(key)
