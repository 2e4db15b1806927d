"""This node's identity in the network: a name, the public base URL peers call it at, and an
Ed25519 key pair it signs every node-to-node call with. Kept beside the certificate signing keys
(SIGNING_KEYS_DIR): node.json (name, URL) and node.key.pem (mode 0600, encrypted with
SIGNING_KEY_PASSPHRASE when that is set). `portal node init` makes them; a node that was never
initialised is a single deployment, and the federation API answers 404."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

from portal.certificates.signing import _write, _write_private

# Lower-case letters and digits, starting with a letter: it is printed in certificate serials
# (upper-cased: ZM-CHANGSHA-430100-2026-000001) and used as a signature's keyid.
NAME_SHAPE = re.compile(r"[a-z][a-z0-9]{1,15}")
INFO_FILE, KEY_FILE = "node.json", "node.key.pem"


class NodeError(ValueError):
    """A name, URL or key that cannot be used; the message says why."""


@dataclass(frozen=True)
class Node:
    name: str
    url: str
    public_key: str  # raw 32 bytes, base64

    def as_json(self) -> dict:
        return {"name": self.name, "url": self.url, "public_key": self.public_key}


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_SHAPE.fullmatch(name):
        raise NodeError(f"节点名称须为 2–16 个小写字母或数字、以字母开头 (node names: 2–16 lower-case letters or "
                        f"digits, starting with a letter): {name[:40]!r}")
    return name


def check_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise NodeError(f"须为 http(s):// 开头的网址，不带查询参数 (an http(s) base URL): {url[:100]!r}")
    return url


def public_key_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


def fingerprint(public_key: str) -> str:
    """SHA-256 of the raw key, its first 16 bytes in groups of four hex digits: short enough to
    compare over the telephone, long enough that no one makes a key to match it."""
    try:
        raw = base64.b64decode(public_key, validate=True)
    except ValueError:
        return "—"
    digest = hashlib.sha256(raw).hexdigest()[:32].upper()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def read_public_key(text: str) -> Ed25519PublicKey:
    """A peer's public key as `portal node show` prints it (base64 of the raw 32 bytes)."""
    try:
        raw = base64.b64decode((text or "").strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise NodeError(f"公钥无效，应为 `portal node show` 打印的 44 个字符 (not an Ed25519 public key): {exc}") from None


def init_node(keys_dir: Path, name: str, url: str, *, passphrase: bytes | None = None, force: bool = False) -> Node:
    """Write node.json and a new key pair (or, for a node that exists, refuse unless `force`: a new
    key means every peer must add it again). Changing only the URL keeps the key."""
    name, url = check_name(name), check_url(url)
    keys_dir.mkdir(parents=True, exist_ok=True)
    key_file = keys_dir / KEY_FILE
    existing = read_node(keys_dir, passphrase)
    if existing and existing.name != name and not force:
        raise NodeError(f"本节点已命名为 {existing.name}；改名需加 --force，且各对等节点须重新添加 "
                        f"(this node is {existing.name}; renaming needs --force and every peer must add it again)")
    if existing is None or force:
        _write_private(key_file, Ed25519PrivateKey.generate(), passphrase)
    _write(keys_dir / INFO_FILE, json.dumps({"name": name, "url": url}, ensure_ascii=False).encode(), 0o644)
    _load.cache_clear()
    return read_node(keys_dir, passphrase)


def read_node(keys_dir: Path, passphrase: bytes | None = None) -> Node | None:
    """This node, or None when `portal node init` was never run."""
    info, key_file = keys_dir / INFO_FILE, keys_dir / KEY_FILE
    if not info.exists() or not key_file.exists():
        return None
    loaded = _load(str(info), str(key_file), info.stat().st_mtime_ns, key_file.stat().st_mtime_ns, passphrase)
    return loaded[0]


def private_key(keys_dir: Path, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    info, key_file = keys_dir / INFO_FILE, keys_dir / KEY_FILE
    return _load(str(info), str(key_file), info.stat().st_mtime_ns, key_file.stat().st_mtime_ns, passphrase)[1]


@lru_cache(maxsize=8)
def _load(info: str, key_file: str, _info_stamp: int, _key_stamp: int, passphrase: bytes | None):
    data = json.loads(Path(info).read_text())
    try:
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=passphrase)
    except (TypeError, ValueError) as exc:
        raise NodeError(f"{key_file}: 无法读取节点私钥 (cannot read the node key; wrong passphrase?): {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise NodeError(f"{key_file}: 不是 Ed25519 私钥 (not an Ed25519 key)")
    return Node(data["name"], data["url"], public_key_text(key.public_key())), key


def _passphrase(config) -> bytes | None:
    value = config.get("SIGNING_KEY_PASSPHRASE")
    return value.encode() if value else None


def this_node(config=None) -> Node | None:
    """This node (None: not part of a network), from the app's configuration."""
    config = config if config is not None else current_app.config
    return read_node(Path(config["SIGNING_KEYS_DIR"]), _passphrase(config))


def this_private_key(config=None) -> Ed25519PrivateKey:
    config = config if config is not None else current_app.config
    return private_key(Path(config["SIGNING_KEYS_DIR"]), _passphrase(config))
