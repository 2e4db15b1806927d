"""Rate limits: one table of named throttles, counted atomically before the work they guard.

Flask-Limiter keeps the counters (memory storage in the process by default; Redis, shared by every
serving process, when `REDIS_URL` is set) and its moving-window strategy checks and counts in one
step: 40 requests arriving at the same moment cannot all read "9 so far". A view calls
`check(name)` where the work starts (after the form's CSRF check, before the password is hashed,
the PDF read or the request stored) and shows `Throttled.text()` next to the form, keeping what
was typed; anything else that raises Throttled gets the one 429 answer below.

Throttle the source, not the victim. Log-in attempts are counted per address (many accounts from
one place), per (email typed, address) (one person's password guessed from one place) and per
email from any address — but that last one is generous and skips a browser that has logged in to
that account with its current password (a signed "known device" cookie, OWASP's device-cookie
scheme, keyed by the password so a new one forgets every browser): a stranger hammering victim@x
from one address is stopped by the first two long before the third fills, and even a botnet that
fills it cannot lock the victim out of the browser they use. Mail to an address typed (password
reset, confirmation) has no per-email limit at all, so strangers cannot keep its owner from it.

Adding a throttle: an entry in THROTTLES, then `check(name)` in each door that leads to the work
(web and API doors share the counters).
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Callable

from flask import Flask, current_app, g, has_request_context, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItem, parse
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests

from portal.web_util import client_ip, render

KNOWN_DEVICE_COOKIE = "known_device"
_KNOWN_DEVICES_KEPT = 5  # accounts one browser remembers (a family computer)


@dataclass(frozen=True)
class Rule:
    """`limit` requests (a limits string such as "10 per 15 minutes", or a function of the app's
    config giving one) per `per`: "ip", "email+ip", "email" (the email typed, from any address),
    "user" (the signed-in user) or "peer" (the node that signed a peer API call)."""
    per: str
    limit: str | Callable[[dict], str]
    unless_known_device: bool = False  # a browser that logged in to this account is not counted


@dataclass(frozen=True)
class Throttle:
    rules: tuple[Rule, ...]
    message: object  # what the person is told (a lazy string with %(minutes)s)
    methods: tuple[str, ...] = ("POST",)
    applies: Callable[[], bool] | None = None  # besides the method: whether this request counts at all


def _name_shaped() -> bool:
    """A search whose words the index would also read as a full name (search_index.query.readings)."""
    from search_index.query import holds_full_name

    return holds_full_name(request.args.get("q") or "")


TOO_MANY = _l("操作太频繁，请 %(minutes)s 分钟后再试。")
THROTTLES: dict[str, Throttle] = {
    # POST /login and POST /api/v1/tokens: one set of counters.
    "login": Throttle((Rule("ip", "50 per 15 minutes"), Rule("email+ip", "10 per 15 minutes"),
                       Rule("email", lambda c: c["LOGIN_LIMIT_PER_EMAIL"], unless_known_device=True)),
                      _l("登录尝试次数过多，请 %(minutes)s 分钟后再试，或到档案馆查档大厅办理。")),
    # Self-registration: a family or a reading-room PC registers a few accounts, a script many.
    "register": Throttle((Rule("ip", lambda c: f"{c['MAX_REGISTRATIONS_PER_IP']} per day"),),
                         _l("从这个网络注册的账号太多，请 %(minutes)s 分钟后再试，或到档案馆查档大厅办理。")),
    # POST /apply and POST /api/v1/requests (each stores files and queues mail).
    "apply": Throttle((Rule("ip", "60 per hour"), Rule("user", "30 per hour")), TOO_MANY),
    # /verify and GET /api/v1/certificates/<serial>: every look-up, right or wrong, and every PDF checked
    # (counted before the file is read; failed look-ups are limited further by certificates.service).
    "verify_lookup": Throttle((Rule("ip", "100 per 15 minutes"),),
                              _l("核验次数过多，请 %(minutes)s 分钟后再试。"), methods=("GET",)),
    "verify_file": Throttle((Rule("ip", lambda c: f"{c['MAX_CERTIFICATE_FILE_CHECKS']} per 15 minutes"),),
                            _l("核验次数过多，请 %(minutes)s 分钟后再试。")),
    # GET /federation/v1/certificates/<serial>: a peer's checks for the people at its address (each
    # counted there too), per peer.
    "peer_certificate": Throttle((Rule("peer", "600 per 15 minutes"),), TOO_MANY, methods=("GET",)),
    # Password reset and "send the confirmation again": each sends an email to the address typed.
    # No limit per email from any address: strangers filling it would keep its owner from resetting.
    "account_email": Throttle((Rule("ip", "20 per hour"), Rule("email+ip", "3 per hour")), TOO_MANY),
    # Searches the index would read with a hidden full name: guessing a masked name character by
    # character (覃?兰 with 3,000 characters) takes days, not seconds. Other searches are free.
    "name_search": Throttle((Rule("ip", lambda c: c["NAME_SEARCH_LIMIT"]),),
                            _l("按姓名检索的次数过多，请 %(minutes)s 分钟后再试；不含姓名的检索不受限制。"),
                            methods=("GET",), applies=_name_shaped),
    # The same searches asked by a peer node for its visitors (GET /federation/v1/search), per peer.
    "peer_name_search": Throttle((Rule("peer", lambda c: c["FEDERATION_PEER_NAME_SEARCH_LIMIT"]),),
                                 _l("按姓名检索的次数过多，请 %(minutes)s 分钟后再试；不含姓名的检索不受限制。"),
                                 methods=("GET",), applies=_name_shaped),
}


class Throttled(TooManyRequests):
    def __init__(self, message, retry_after: int):
        super().__init__(retry_after=retry_after)
        self.message, self.retry_after_seconds = message, retry_after

    @property
    def minutes(self) -> int:
        return max(1, -(-self.retry_after_seconds // 60))

    def text(self) -> str:
        """What the person is told, in their language (a form shows it next to what they typed)."""
        return str(self.message) % {"minutes": self.minutes}

    def headers_on(self, response):
        response.headers["Retry-After"] = str(self.retry_after_seconds)
        response.headers["Cache-Control"] = "no-store"
        return response


def init_throttle(app: Flask) -> None:
    """One Limiter per app (tests make several apps; each keeps its own counters)."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "portal")
    limiter = Limiter(key_func=client_ip)
    limiter.init_app(app)
    app.extensions["throttle"] = limiter
    app.register_error_handler(Throttled, _answer)


def check(name: str, email: str | None = None) -> None:
    """Count this request against throttle `name`; raise Throttled (HTTP 429) once a rule is full.
    `email`: the address typed, when the caller has read it already (else it is taken from the form).
    Rules are counted in order and the first full one stops the count: a source that is refused
    does not use up anyone else's allowance."""
    throttle = THROTTLES[name]
    limiter: Limiter = current_app.extensions["throttle"]
    if not limiter.enabled or request.method not in throttle.methods:
        return
    if throttle.applies and not throttle.applies():
        return
    email = _email_typed() if email is None else email.strip().lower()[:254]
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]  # one deployment's counters, in a Redis others may share
    for rule in throttle.rules:
        key = _key(rule.per, email)
        if key is None or (rule.unless_known_device and is_known_device(email)):
            continue
        item = parse(rule.limit(current_app.config) if callable(rule.limit) else rule.limit)
        if not limiter.limiter.hit(item, prefix, name, rule.per, key):
            raise Throttled(throttle.message, _retry_after(limiter, item, prefix, name, rule.per, key))


def _retry_after(limiter: Limiter, item: RateLimitItem, *keys: str) -> int:
    reset_at = limiter.limiter.get_window_stats(item, *keys).reset_time
    return max(1, int(reset_at - time.time()) + 1)


def _key(per: str, email: str) -> str | None:
    if per == "ip":
        return client_ip() or "-"
    if per == "peer":
        peer = g.get("peer")
        return f"peer:{peer.name}" if peer is not None else None
    if per == "user":
        user = g.get("api_user") or current_user
        return str(user.id) if user and user.is_authenticated else None
    if not email:
        return None
    digest = _keyed("throttle", email)
    return f"{digest}:{client_ip() or '-'}" if per == "email+ip" else digest


def _email_typed() -> str:
    """The email of a log-in, reset or resend form ('' if none)."""
    value = request.form.get("email") if request.form else None
    return value.strip().lower()[:254] if isinstance(value, str) else ""


def _keyed(purpose: str, *parts: str) -> str:
    """A keyed hash of `parts`: counters and cookies never hold the emails people typed (nor, for
    known browsers, anything derived from a password without the secret key)."""
    message = "\0".join((purpose, *parts)).encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()[:32]


# ---- the known-device cookie ---------------------------------------------------------------------

def _devices() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _known_digests() -> list[str]:
    raw = request.cookies.get(KNOWN_DEVICE_COOKIE) if has_request_context() else None
    if not raw:
        return []
    try:
        value = _devices().loads(raw)
    except BadSignature:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _device_digest(email: str, password_hash: str) -> str:
    """What a known browser keeps for an account: keyed by the account's current password, so a
    new password (changed, reset, or set again after a counter check) forgets every browser, and
    a copied cookie is worth nothing to someone who does not know the password anyway."""
    return _keyed("device", email, password_hash)


def is_known_device(email: str) -> bool:
    """Whether this browser has logged in to the account of `email`, with its current password."""
    if not email or not (digests := _known_digests()):
        return False
    from portal.accounts.models import User
    from portal.db import db

    password_hash = db.session.scalar(select(User.password_hash).where(User.email == email))
    return password_hash is not None and _device_digest(email, password_hash) in digests


def remember_device(response, user):
    """After a successful log-in: this browser is known to `user` from now on (one year, or until
    the password changes)."""
    digest = _device_digest(user.email, user.password_hash)
    kept = [digest, *(d for d in _known_digests() if d != digest)][:_KNOWN_DEVICES_KEPT]
    response.set_cookie(KNOWN_DEVICE_COOKIE, _devices().dumps(kept), max_age=365 * 86400, httponly=True,
                        samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


# ---- the answer ------------------------------------------------------------------------------------

def _answer(exc: Throttled):
    minutes = exc.minutes
    if request.path.startswith("/api/"):
        # The API's messages carry the English after the Chinese (docs/api.md).
        response = jsonify({"error": _("操作太频繁，请稍后再试 (too many requests, try again in %(minutes)s minutes)",
                                       minutes=minutes)})
        response.status_code = 429
    else:
        response = render("errors/error.html", "errors/_error.html", status=429, code=429, message=exc.text())
    return exc.headers_on(response)
