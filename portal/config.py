"""Configuration from the environment, with defaults that run on one laptop."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _read_or_create(path: Path, make) -> str:
    """A secret generated once and kept in the data dir, so restarts keep sessions and keys."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # O_EXCL: two processes starting at once must not write two different secrets.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def load_config(overrides: dict | None = None) -> dict:
    """Settings as a dict for `app.config`; `overrides` (tests, tools) win over the environment."""
    overrides = dict(overrides or {})
    env = os.environ
    data_dir = Path(overrides.pop("DATA_DIR", None) or env.get("PORTAL_DATA_DIR") or "instance").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    cfg = {
        "DATA_DIR": data_dir,
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'portal.db'}",
        "SECRET_KEY": env.get("SECRET_KEY") or _read_or_create(data_dir / "keys" / "secret_key", lambda: secrets.token_hex(32)),
        # Key for resident ID numbers at rest; production passes it from a secret store.
        "DATA_KEY": env.get("PORTAL_DATA_KEY") or _read_or_create(data_dir / "keys" / "data_key", lambda: secrets.token_urlsafe(32)),
        "SEARCH_BACKEND": env.get("SEARCH_BACKEND", "embedded"),
        "MEILI_URL": env.get("MEILI_URL"),
        "MEILI_MASTER_KEY": env.get("MEILI_MASTER_KEY"),
        # How often a serving process retries changes queued while the search engine was down.
        "SEARCH_SYNC_INTERVAL": float(env.get("PORTAL_SEARCH_SYNC_INTERVAL", "5")),
        "MAX_CONTENT_LENGTH": 60 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("PORTAL_SECURE_COOKIES") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "LANGUAGES": ("zh_Hans_CN", "en"),
        # argon2 defaults (RFC 9106 low-memory profile); tests may lower them to stay fast.
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 65536,
    }
    cfg.update(overrides)
    return cfg
