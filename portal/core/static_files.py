"""Static files (CSS, scripts, icons): fingerprinted links cached for a year, sent compressed.

Every `url_for('static', filename=…)` gets `?v=<first 10 hex digits of the file's SHA-256>`. A
request that carries the file's current fingerprint is answered with `Cache-Control: public,
max-age=31536000, immutable`: browsers and proxies keep it and never ask again, and a changed file
has a new link. Any other request for the file (no `v`, an old or made-up one) gets Flask's default:
`no-cache` with an ETag, so it is checked each time. The fingerprint is computed once per file and
version of it (its size and modification time), so an edited file gets a new link at once, also in
a running server.

Compression (Flask-Compress: Brotli, else gzip) applies to static files only, and each file is
compressed once per process and fingerprint. Pages are not compressed: an HTML page can hold a
secret (a CSRF token) next to text an attacker chose (a search query), which is what BREACH needs;
a reverse proxy in front may compress them if it handles that. (The API's answers hold no secret a
cross-site request could reach, but compressing each answer costs more CPU than it saves on the
network the portal's users are on; a proxy can do it too.)"""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from flask import Flask, Response, request
from flask_compress import Compress

YEAR = 365 * 24 * 3600
FINGERPRINT = "v"
# What is worth compressing among our static files (images other than SVG are compressed already).
COMPRESSED_TYPES = ["text/css", "text/javascript", "application/javascript", "image/svg+xml", "text/plain"]


class _Fingerprints:
    """File name → fingerprint, remembered per (size, mtime) of the file."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder).resolve()
        self.known: dict[str, tuple[tuple[int, int], str]] = {}
        self.lock = threading.Lock()

    def of(self, filename: str) -> str | None:
        path = (self.folder / filename).resolve()
        if not path.is_relative_to(self.folder):
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = (stat.st_size, stat.st_mtime_ns)
        known = self.known.get(filename)
        if known and known[0] == stamp:
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        with self.lock:
            self.known[filename] = (stamp, digest)
        return digest


class _Compressed:
    """Flask-Compress's cache: the compressed bytes of each static file, at most one entry per file
    name, algorithm and fingerprint (keys come from the file, never from the query string, so a
    stranger cannot fill memory with made-up `?v=` values)."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.entries.get(key)

    def set(self, key: str, value: bytes) -> None:
        self.entries[key] = value


def init_static(app: Flask) -> None:
    fingerprints = _Fingerprints(app.static_folder)
    app.config.update(COMPRESS_REGISTER=False, COMPRESS_ALGORITHM=["br", "gzip"], COMPRESS_MIMETYPES=COMPRESSED_TYPES,
                      COMPRESS_MIN_SIZE=512, COMPRESS_BR_LEVEL=11, COMPRESS_LEVEL=9)  # once per file: the best
    compress = Compress(app)
    compress.cache = _Compressed()
    app.extensions["static_compression"] = compress
    compress.cache_key = lambda req: f"{req.view_args.get('filename')};{fingerprints.of(req.view_args.get('filename', ''))}"

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and FINGERPRINT not in values and "filename" in values:
            if version := fingerprints.of(values["filename"]):
                values[FINGERPRINT] = version

    @app.after_request
    def _static_caching(response: Response) -> Response:
        if request.endpoint != "static" or not request.view_args:
            return response
        filename = request.view_args.get("filename", "")
        asked = request.args.get(FINGERPRINT)
        if response.status_code == 304 or request.method == "HEAD":
            # No body is sent: its file is closed now. Werkzeug's development server would close it
            # only after reading what is left on the socket, which a dropped connection skips.
            body, response.response = response.response, []
            if hasattr(body, "close"):
                body.close()
            return response
        if response.status_code != 200:
            return response
        if asked and asked == fingerprints.of(filename):
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        # Read the (small) file into the response, so Flask-Compress takes its cached path rather
        # than compressing the file as a stream on every request.
        file = response.response
        response.direct_passthrough = False
        response.set_data(b"".join(file))
        if hasattr(file, "close"):
            file.close()
        return compress.after_request(response)

