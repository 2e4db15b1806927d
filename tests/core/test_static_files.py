"""Static files: links carry the file's fingerprint; a request with the current fingerprint may be
kept for a year, any other is revalidated; CSS and scripts are sent compressed (Brotli or gzip),
each compressed once, whatever `?v=` a stranger sends."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli
import pytest

from portal.core.static_files import YEAR, _Fingerprints

ROOT = Path(__file__).resolve().parents[2]


def static_links(client) -> list[str]:
    return re.findall(r'"(/static/[^"]+)"', client.get("/").get_data(as_text=True))


def test_every_static_link_on_a_page_carries_its_files_fingerprint(client):
    links = static_links(client)
    assert any("portal.css" in link for link in links) and any("htmx.min.js" in link for link in links)
    for link in links:
        path, _, query = link.partition("?")
        content = (ROOT / path.removeprefix("/")).read_bytes()
        assert query == "v=" + hashlib.sha256(content).hexdigest()[:10]


def test_the_current_fingerprint_is_cached_for_a_year_and_anything_else_is_revalidated(client):
    link = next(link for link in static_links(client) if "portal.css" in link)
    kept = client.get(link)
    assert kept.status_code == 200
    assert kept.headers["Cache-Control"] == f"public, max-age={YEAR}, immutable"
    for other in ("/static/css/portal.css", "/static/css/portal.css?v=0000000000", "/static/css/portal.css?v="):
        answer = client.get(other)
        assert answer.status_code == 200
        assert "immutable" not in answer.headers.get("Cache-Control", "")
        assert "no-cache" in answer.headers["Cache-Control"]


@pytest.mark.parametrize(("accepted", "encoding", "decode"), [
    ("br", "br", brotli.decompress),
    ("gzip", "gzip", gzip.decompress),
    ("gzip, deflate, br", "br", brotli.decompress),
])
def test_scripts_and_styles_are_sent_compressed_and_decompress_to_the_file(client, accepted, encoding, decode):
    for name in ("css/portal.css", "vendor/htmx.min.js", "js/portal.js"):
        original = (ROOT / "static" / name).read_bytes()
        answer = client.get(f"/static/{name}", headers={"Accept-Encoding": accepted})
        assert answer.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in answer.headers["Vary"]
        assert int(answer.headers["Content-Length"]) == len(answer.data) < len(original)
        assert decode(answer.data) == original


def test_without_accept_encoding_the_file_is_sent_as_it_is(client):
    original = (ROOT / "static" / "css" / "portal.css").read_bytes()
    answer = client.get("/static/css/portal.css")
    assert "Content-Encoding" not in answer.headers
    assert answer.data == original


def test_a_compressed_file_is_revalidated_with_its_own_etag(client):
    first = client.get("/static/vendor/htmx.min.js", headers={"Accept-Encoding": "br"})
    again = client.get("/static/vendor/htmx.min.js", headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


def test_made_up_fingerprints_do_not_grow_the_compressed_cache(app, client):
    cache = app.extensions["static_compression"].cache
    for n in range(50):
        client.get(f"/static/css/portal.css?v={n:010d}", headers={"Accept-Encoding": "br"})
        client.get(f"/static/css/portal.css?v={n:010d}", headers={"Accept-Encoding": "gzip"})
    assert len([key for key in cache.entries if "portal.css" in key]) == 2


def test_missing_files_and_paths_outside_the_folder_are_not_found(client):
    assert client.get("/static/nothing-here.css", headers={"Accept-Encoding": "br"}).status_code == 404
    assert client.get("/static/../pyproject.toml").status_code == 404


def test_an_edited_file_gets_a_new_fingerprint_at_once(tmp_path):
    (tmp_path / "a.css").write_text("body { color: black }")
    fingerprints = _Fingerprints(str(tmp_path))
    before = fingerprints.of("a.css")
    assert before == fingerprints.of("a.css")
    (tmp_path / "a.css").write_text("body { color: navy; }")
    assert fingerprints.of("a.css") not in (None, before)
    assert fingerprints.of("missing.css") is None
    assert fingerprints.of("../outside.css") is None


@pytest.mark.parametrize("method, conditional", [("GET", True), ("HEAD", False)])
def test_an_answer_without_a_body_holds_no_open_file(app, method, conditional):
    """A 304 or a HEAD answer sends no body: its file is closed before the server writes it (the
    development server would leave it open when the browser drops the connection first)."""
    etag = app.test_client().get("/static/favicon.svg").headers["ETag"]
    headers = {"If-None-Match": etag} if conditional else {}
    with app.test_request_context("/static/favicon.svg", method=method, headers=headers):
        response = app.full_dispatch_request()
    assert response.status_code == (304 if conditional else 200)
    assert response.response == [] and not hasattr(response.response, "close")
