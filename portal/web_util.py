"""Small helpers views share."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, render_template, request
from flask_login import current_user, login_required


def client_ip() -> str:
    return request.remote_addr or ""


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: a login link must not bounce people to another site."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        # Browsers read a backslash as a slash: "/\evil.example" would mean "//evil.example".
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def render(template: str, partial: str | None = None, **ctx):
    """The full page, or for an HTMX request only its partial (the page includes the same partial)."""
    if partial and getattr(request, "htmx", False) and not request.htmx.history_restore_request:
        return render_template(partial, **ctx)
    return render_template(template, **ctx)


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
admin_required = role_required(lambda user: user.role == "admin")
