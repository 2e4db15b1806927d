"""Configuration from the environment, with defaults that run on one laptop."""
from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

MIN_SECRET_LENGTH = 32
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"  # `portal serve` replaces it by the address it serves


def _read_or_create(path: Path, make) -> str:
    """A secret generated once and kept in the data dir, so restarts keep sessions and keys.
    Written to a temporary file and linked into place, so a process starting at the same moment
    (gunicorn workers on a new data dir) reads either nothing or the whole secret, never half."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".new-")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(make())
            os.link(tmp, path)  # fails if another process won the race: then its secret is used
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return _checked(path.read_text().strip(), str(path))


def _checked(secret: str, where: str) -> str:
    if len(secret) < MIN_SECRET_LENGTH:
        raise RuntimeError(f"{where}: the secret is missing or shorter than {MIN_SECRET_LENGTH} characters")
    return secret


def load_config(overrides: dict | None = None) -> dict:
    """Settings as a dict for `app.config`; `overrides` (tests, tools) win over the environment."""
    overrides = dict(overrides or {})
    env = os.environ
    data_dir = Path(overrides.pop("DATA_DIR", None) or env.get("PORTAL_DATA_DIR") or "instance").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    cfg = {
        "DATA_DIR": data_dir,
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'portal.db'}",
        "SECRET_KEY": _checked(env["SECRET_KEY"], "SECRET_KEY") if env.get("SECRET_KEY")
        else _read_or_create(data_dir / "keys" / "secret_key", lambda: secrets.token_hex(32)),
        # Key for resident ID numbers at rest; production passes it from a secret store.
        "DATA_KEY": _checked(env["PORTAL_DATA_KEY"], "PORTAL_DATA_KEY") if env.get("PORTAL_DATA_KEY")
        else _read_or_create(data_dir / "keys" / "data_key", lambda: secrets.token_urlsafe(32)),
        "SEARCH_BACKEND": env.get("SEARCH_BACKEND", "embedded"),
        "MEILI_URL": env.get("MEILI_URL"),
        "MEILI_MASTER_KEY": env.get("MEILI_MASTER_KEY"),
        # How often a serving process retries changes queued while the search engine was down.
        "SEARCH_SYNC_INTERVAL": float(env.get("PORTAL_SEARCH_SYNC_INTERVAL", "5")),
        # How long a serving process reuses the answer to a public search it gave (0: never).
        "SEARCH_CACHE_SECONDS": float(env.get("PORTAL_SEARCH_CACHE_SECONDS", "5")),
        "MAX_CONTENT_LENGTH": 60 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("PORTAL_SECURE_COOKIES") == "1",
        # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host (0: none, trust nothing).
        "PROXY_HOPS": int(env.get("PORTAL_PROXY_HOPS", "0")),
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "LANGUAGES": ("zh_Hans_CN", "en"),
        # Self-registrations per address per day: a family or a reading-room PC registers a few,
        # a script many (and each costs an argon2 hash).
        "MAX_REGISTRATIONS_PER_IP": int(env.get("PORTAL_MAX_REGISTRATIONS_PER_IP", "20")),
        # Rate limits (portal/throttle.py): counters in this process, or in Redis shared by every
        # serving process when REDIS_URL is set; PORTAL_RATE_LIMITS=off only for load benchmarks.
        "REDIS_URL": env.get("REDIS_URL") or None,
        "RATELIMIT_ENABLED": env.get("PORTAL_RATE_LIMITS", "on") != "off",
        # Log-in attempts for one email from any address (a browser that logged in to it before is
        # not counted: a stranger cannot lock its owner out).
        "LOGIN_LIMIT_PER_EMAIL": env.get("PORTAL_LOGIN_LIMIT_PER_EMAIL", "100 per hour"),
        # Searches read with a full name (guessing a masked name costs one each), per address.
        "NAME_SEARCH_LIMIT": env.get("PORTAL_NAME_SEARCH_LIMIT", "60 per hour"),
        # Network search (portal/federation/search.py): how long a peer is waited for, in seconds, and
        # how many name searches one peer node may ask here for its visitors.
        "FEDERATION_SEARCH_TIMEOUT": float(env.get("PORTAL_FEDERATION_SEARCH_TIMEOUT", "1.5")),
        "FEDERATION_PEER_NAME_SEARCH_LIMIT": env.get("PORTAL_FEDERATION_PEER_NAME_SEARCH_LIMIT", "600 per hour"),
        # A real-name provider over OpenID Connect (a provincial government-service platform):
        # signing in there verifies the identity (portal/accounts/oidc.py). Off unless the issuer is set.
        "OIDC_ISSUER": (env.get("PORTAL_OIDC_ISSUER") or "").rstrip("/") or None,
        "OIDC_CLIENT_ID": env.get("PORTAL_OIDC_CLIENT_ID", ""),
        "OIDC_CLIENT_SECRET": env.get("PORTAL_OIDC_CLIENT_SECRET", ""),
        "OIDC_ID_CLAIM": env.get("PORTAL_OIDC_ID_CLAIM", "id_number"),  # the claim holding the ID number
        "OIDC_NAME_CLAIM": env.get("PORTAL_OIDC_NAME_CLAIM", "name"),
        "OIDC_LABEL": env.get("PORTAL_OIDC_LABEL", "政务服务网"),  # the provider's name on the buttons
        # Where links in emails, certificates and API answers point: the portal's public address
        # (scheme, host and port). Links never take their host from a request. Unset, `portal serve`
        # uses the address it serves (--host, --port); certificates are not issued with a link to
        # this machine (localhost, 127.x, ::1) outside development (`development()`).
        "PUBLIC_URL": (env.get("PORTAL_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
        # Development: Werkzeug's reloading server instead of gunicorn (`portal serve`). A demo on one
        # machine (`make run` sets PORTAL_DEMO=1) is served by gunicorn as in production. Either, and
        # Flask's DEBUG and TESTING, may sign certificates whose link points at this machine.
        "DEV": env.get("PORTAL_DEV", "") in ("1", "true", "yes"),
        "DEMO": env.get("PORTAL_DEMO", "") in ("1", "true", "yes"),
        # Email: "folder" writes each message as an .eml file under MAIL_FOLDER (development);
        # "smtp" sends through SMTP_HOST. Either way messages wait in the outbox until sent.
        "MAIL_TRANSPORT": env.get("PORTAL_MAIL_TRANSPORT", "folder"),
        "MAIL_FOLDER": Path(env.get("PORTAL_MAIL_FOLDER") or data_dir / "mail"),
        "MAIL_FROM": env.get("PORTAL_MAIL_FROM", "档案利用服务平台 <noreply@localhost>"),
        "SMTP_HOST": env.get("PORTAL_SMTP_HOST", "localhost"),
        "SMTP_PORT": int(env.get("PORTAL_SMTP_PORT", "25")),
        "SMTP_USER": env.get("PORTAL_SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("PORTAL_SMTP_PASSWORD", ""),
        "SMTP_SECURITY": env.get("PORTAL_SMTP_SECURITY", "none"),  # none, starttls or ssl
        "SMTP_TIMEOUT": float(env.get("PORTAL_SMTP_TIMEOUT", "10")),
        "MAIL_MAX_ATTEMPTS": int(env.get("PORTAL_MAIL_MAX_ATTEMPTS", "8")),
        "MAIL_SEND_INTERVAL": float(env.get("PORTAL_MAIL_SEND_INTERVAL", "10")),
        # Messages to peer nodes (portal.federation.messages): the outbox is tried every
        # FEDERATION_INTERVAL seconds; a peer that does not answer is tried again after
        # FEDERATION_RETRY_BASE seconds, doubling each time up to FEDERATION_RETRY_CAP.
        "FEDERATION_INTERVAL": float(env.get("PORTAL_FEDERATION_INTERVAL", "5")),
        "FEDERATION_RETRY_BASE": float(env.get("PORTAL_FEDERATION_RETRY_BASE", "5")),
        "FEDERATION_RETRY_CAP": float(env.get("PORTAL_FEDERATION_RETRY_CAP", "600")),
        # Certificate signing keys: ca.cert.pem, {code}.key.pem, {code}.cert.pem (see `portal keys init`).
        "SIGNING_KEYS_DIR": Path(env.get("PORTAL_SIGNING_KEYS_DIR") or data_dir / "keys"),
        "SIGNING_KEY_PASSPHRASE": env.get("PORTAL_SIGNING_KEY_PASSPHRASE") or None,
        # Uploaded proofs live here, outside static/, under random names.
        "UPLOAD_FOLDER": Path(env.get("PORTAL_UPLOAD_FOLDER") or data_dir / "uploads"),
        # Issued certificates (signed PDFs), written once and never changed.
        "CERTIFICATE_FOLDER": Path(env.get("PORTAL_CERTIFICATE_FOLDER") or data_dir / "certificates"),
        # Public verification: wrong serial/code pairs, and uploaded files checked, per address
        # in 15 minutes.
        "MAX_CERTIFICATE_LOOKUP_FAILURES": int(env.get("PORTAL_MAX_CERTIFICATE_LOOKUP_FAILURES", "20")),
        "MAX_CERTIFICATE_FILE_CHECKS": int(env.get("PORTAL_MAX_CERTIFICATE_FILE_CHECKS", "30")),
        # Promised completion (承诺时限) in working days; public holidays and make-up working days
        # come from a file (see portal/core/holidays-cn.txt for the format).
        "DUE_WORKING_DAYS": int(env.get("PORTAL_DUE_WORKING_DAYS", "5")),
        "DUE_WORKING_DAYS_CROSS_ARCHIVE": int(env.get("PORTAL_DUE_WORKING_DAYS_CROSS_ARCHIVE", "10")),
        "HOLIDAYS_FILE": env.get("PORTAL_HOLIDAYS_FILE"),
        "MAX_OPEN_REQUESTS": int(env.get("PORTAL_MAX_OPEN_REQUESTS", "20")),
        "API_TOKEN_HOURS": 12,
        # A signed-in browser not used for this long is signed out (staff, citizens); staff type their
        # password again before signing or revoking a certificate if they last did longer ago.
        "SESSION_IDLE_MINUTES_STAFF": int(env.get("PORTAL_SESSION_IDLE_MINUTES_STAFF", "30")),
        "SESSION_IDLE_MINUTES": int(env.get("PORTAL_SESSION_IDLE_MINUTES", "120")),
        "REAUTH_MINUTES": int(env.get("PORTAL_REAUTH_MINUTES", "30")),
        # How often an open request's page asks whether anything changed.
        "PROGRESS_POLL_SECONDS": int(env.get("PORTAL_PROGRESS_POLL_SECONDS", "20")),
        # argon2 defaults (RFC 9106 low-memory profile); tests may lower them to stay fast.
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 65536,
    }
    cfg.update(overrides)
    # Host names requests may carry (others get 400, Flask's TRUSTED_HOSTS): PUBLIC_URL's and the
    # loopback names, or PORTAL_TRUSTED_HOSTS, comma-separated (behind a proxy: the names people type).
    if "TRUSTED_HOSTS" not in overrides:
        listed = [h.strip() for h in env.get("PORTAL_TRUSTED_HOSTS", "").split(",") if h.strip()]
        cfg["TRUSTED_HOSTS"] = listed or list(dict.fromkeys(
            [urlsplit(cfg["PUBLIC_URL"]).hostname or "localhost", "localhost", "127.0.0.1", "::1"]))
    return cfg


def development(config) -> bool:
    """Whether the portal runs for its developers or as a demo on one machine (PORTAL_DEV,
    PORTAL_DEMO, DEBUG or TESTING), not for the public."""
    return bool(config.get("DEV") or config.get("DEMO") or config.get("DEBUG") or config.get("TESTING"))


def served_url(host: str, port: int) -> str:
    """The address `portal serve --host H --port P` can be reached at: a wildcard host (0.0.0.0,
    ::) is this machine's name on the network."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"


# What /etc/hosts names the loopback address on common systems (`socket.getfqdn()` may answer one).
LOOPBACK_NAMES = ("localhost.localdomain", "localhost6", "localhost6.localdomain6", "ip6-localhost", "ip6-loopback")


def points_at_this_machine(url: str) -> bool:
    """A link only this machine can open: localhost, a loopback or a wildcard address."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host in ("", "localhost", *LOOPBACK_NAMES) or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:  # the short forms the C library still reads: 127.1, 2130706433
            address = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return False
    if address.version == 6 and address.ipv4_mapped is not None:  # ::ffff:127.0.0.1
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified
