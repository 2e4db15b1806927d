"""Driving forms the way a browser does (fetch the page, take its CSRF token, post), and reading
HTML through a parser."""
from __future__ import annotations

import re
import socket
import threading
import warnings
from contextlib import contextmanager

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

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


# ---- reading HTML through a parser (BeautifulSoup on lxml) rather than counting substrings ----------

def parse(html) -> BeautifulSoup:
    """The document (or fragment) as a tree; `html` may be a str, bytes or a test-client response."""
    if hasattr(html, "get_data"):
        html = html.get_data(as_text=True)
    with warnings.catch_warnings():  # a short fragment ("a.pdf") is markup here, not a file name
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(html, "lxml")


def select_all(html, css: str) -> list[Tag]:
    """Every element matching the CSS selector, in document order."""
    return parse(html).select(css)


def select_one(html, css: str) -> Tag | None:
    """The first element matching the CSS selector, or None."""
    return parse(html).select_one(css)


def text(element: Tag | None) -> str:
    """An element's visible text, whitespace squeezed ("" for None)."""
    return " ".join(element.get_text(" ").split()) if element is not None else ""


def texts(html, css: str) -> list[str]:
    """The visible text of each element matching the CSS selector."""
    return [text(element) for element in select_all(html, css)]


def count(html, css: str) -> int:
    """How many elements match the CSS selector."""
    return len(select_all(html, css))


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (for a server a test starts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app):
    """`app` on 127.0.0.1 and a free port, in a thread, for tests that need real HTTP and real
    concurrency (mark them `real_commits`, so the server's own sessions see the test's data)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="app-under-test", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def wait_for_http(url: str, process, log) -> None:
    """Wait (60 s at most) until a server process a test started answers `url`/healthz; its log
    (a Path) in the failure if it ends or never answers."""
    import time
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server ended: {log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not answer: {log.read_text()}")
