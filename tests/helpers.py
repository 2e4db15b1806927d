"""Driving forms the way a browser does: fetch the page, take its CSRF token, post."""
from __future__ import annotations

import re

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def submit(client, url: str, data: dict, *, follow_redirects: bool = False, form_url: str | None = None):
    token = csrf_token(client, form_url or url)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=follow_redirects)


def login(client, email: str, password: str):
    return submit(client, "/login", {"email": email, "password": password})


_HX_TOKEN = re.compile(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'')


def hx_csrf_token(client, url: str = "/") -> str:
    """The token the base template hands to htmx (sent as the X-CSRFToken header)."""
    html = client.get(url).get_data(as_text=True)
    match = _HX_TOKEN.search(html)
    assert match, f"no hx-headers CSRF token on {url}"
    return match.group(1)


def field_error(html: str, field: str) -> str | None:
    """The error message the form macro shows next to `field`, or None."""
    match = re.search(rf'<p class="error" id="{re.escape(field)}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else None


def logout(client):
    return submit(client, "/logout", {}, form_url="/")
