"""Small helpers views share."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Response, abort, current_app, make_response, redirect, render_template, request
from flask_login import current_user, login_required


def client_ip() -> str:
    return request.remote_addr or ""


def public_url(endpoint: str, **values) -> str:
    """An absolute link to `endpoint`, on the portal's configured address (PUBLIC_URL, which holds
    any path prefix a proxy adds), never on the Host header a request came with (`Host:
    evil.example` must not end up in links). Works outside a request too (emails from jobs)."""
    path = current_app.url_map.bind("portal.invalid").build(endpoint, values)
    return current_app.config["PUBLIC_URL"] + path


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: a login link must not bounce people to another site."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        # Browsers read a backslash as a slash: "/\evil.example" would mean "//evil.example".
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def is_htmx() -> bool:
    """An htmx request that swaps part of a page: not a history restore, nor a boosted link or
    form that replaces the whole body (a boosted link inside a part, such as a results page's
    paging and facets, names its target: that one gets the part)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return False
    return not htmx.boosted or bool(request.headers.get("HX-Target"))


def render(template: str, partial: str | None = None, *, status: int = 200,
           oob_partials: tuple[str, ...] = (), headers: dict | None = None, **ctx) -> Response:
    """The one way a page answers: the full page, or for an htmx request only its partial (the
    page `{% include %}`s the same partial) followed by the `oob_partials` (out-of-band swaps,
    rendered with `oob=True`). Real status codes either way: base.html tells htmx to swap 400,
    403, 404, 409, 413, 422, 429 and 503 answers too (portal.web adds `Vary` for the htmx headers)."""
    if partial and is_htmx():
        extras = (render_template(extra, oob=True, **ctx) for extra in oob_partials)
        body = render_template(partial, **ctx) + "".join(extras)
    else:
        body = render_template(template, **ctx)
    return make_response(body, status, headers or {})


def see_other(url: str) -> Response:
    """Send the browser to another page: a 303, or for an htmx request HX-Redirect (htmx would
    follow a 303 itself and swap the whole page into the part)."""
    if is_htmx():
        return make_response("", 204, {"HX-Redirect": url})
    return redirect(url, 303)


def role_required(allowed):
    """Only signed-in users for whom `allowed(user)` holds; anonymous visitors go to log in, the
    rest get a 404, so that these addresses reveal nothing."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not allowed(current_user):
                abort(404)
            return view(*args, **kwargs)
        return wrapper
    return decorate


staff_required = role_required(lambda user: user.is_staff)  # clerks, reviewers and admins
citizen_only = role_required(lambda user: user.role == "citizen")  # pages only a citizen's account has
admin_required = role_required(lambda user: user.role == "admin")

