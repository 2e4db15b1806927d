"""Who is calling the JSON API: a bearer token, and nothing else.

The API never looks at the browser's session cookie. A cross-site page can make a browser send
its cookies but cannot add an Authorization header, which is why the API blueprint may be exempt
from CSRF; a view that read current_user would reopen that hole."""
from __future__ import annotations

import functools

from flask import after_this_request, g, request
from flask_babel import gettext as _

from portal.accounts.tokens import user_for_token
from portal.api.errors import api_error
from portal.db import db


def at(value) -> str | None:
    """A time as the API writes it: ISO 8601, to the second, with its offset (UTC)."""
    return value.isoformat(timespec="seconds") if value else None


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _sep, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_required(view):
    """Run `view` with flask.g.api_user set to the token's user; otherwise a 401 JSON answer."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        user = user_for_token(db.session, token) if token else None
        if user is None:
            response = api_error(_("缺少访问令牌，或令牌无效、已过期 (missing, invalid or expired bearer token)"), 401)
            # RFC 6750: a request without credentials gets the bare challenge, a bad token says so.
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"' if token else "Bearer"
            return response
        g.api_user = user

        @after_this_request
        def _private(response):
            # Personal data: no shared cache (a proxy, the browser's disk) may keep it. Answers of
            # the API's error handlers pass here too.
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("Authorization")
            return response

        return view(*args, **kwargs)
    return wrapper
