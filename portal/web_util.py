"""Small helpers views share."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import render_template, request


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
