"""Citizens' uploaded proofs: checking what a file really is, storing it privately, serving it back safely."""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from flask import send_file
from flask_babel import lazy_gettext as _l
from PIL import Image
from pypdf import PdfReader

from portal.core.after_commit import on_rollback

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
# Our own limit, below Pillow's global one, so no image near Pillow's threshold is ever decoded.
MAX_IMAGE_PIXELS = 80_000_000
ALLOWED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
UNNAMED = "未命名文件"
MAX_NAME_CHARS = 100

_MAGIC = ((b"%PDF-", "application/pdf"), (b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
_PILLOW_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG"}
_STORED_NAME = re.compile(r"([0-9a-f]{2})/(\1[0-9a-f]{30})")
_CHUNK = 1024 * 1024


class UploadRejected(Exception):
    """A file the citizen must replace; `message` is shown next to the form, which keeps its other fields."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CheckedUpload:
    original_name: str
    content_type: str
    extension: str
    data: bytes
    size: int
    sha256: str


def clean_filename(filename: str | None) -> str:
    """The name to show: browsers may send a client path, and control or bidi characters can disguise a name."""
    name = re.split(r"[/\\]", filename or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C")).strip()
    name = name[:MAX_NAME_CHARS].strip()
    return name if name not in ("", ".", "..") else UNNAMED


def check_upload(filename: str, stream, max_bytes: int = MAX_FILE_BYTES) -> CheckedUpload:
    name = clean_filename(filename)
    data = _read_at_most(stream, max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRejected(_l("“%(name)s”超过 %(mb)s MB", name=name, mb=f"{max_bytes / 1024 / 1024:g}"))
    if not data:
        raise UploadRejected(_l("“%(name)s”是空文件", name=name))
    # The name and the declared type are the sender's claims; only the content counts.
    content_type = next((t for magic, t in _MAGIC if data.startswith(magic)), None)
    if content_type is None:
        raise UploadRejected(_l("“%(name)s”不是 PDF、JPG 或 PNG 文件", name=name))
    if content_type == "application/pdf":
        _verify_pdf(name, data)
    else:
        _verify_image(name, data, _PILLOW_FORMAT[content_type])
    return CheckedUpload(original_name=name, content_type=content_type, extension=ALLOWED_TYPES[content_type],
                         data=data, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def _read_at_most(stream, limit: int) -> bytes:
    # A single read() may return less than asked for, so loop; never more than `limit` is held in memory.
    chunks, remaining = [], limit
    while remaining > 0:
        chunk = stream.read(min(remaining, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _verify_image(name: str, data: bytes, pillow_format: str) -> None:
    corrupt = UploadRejected(_l("“%(name)s”已损坏或无法打开", name=name))
    too_big = UploadRejected(_l("“%(name)s”的图片尺寸过大，无法处理", name=name))
    with warnings.catch_warnings():
        # Pillow warns about oddities in otherwise readable images (ignore those), but a decompression bomb
        # warning must stop us before any pixel is decoded.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=[pillow_format]) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise too_big
                img.verify()
            # verify() leaves the image unusable and skips pixel data; a full load catches truncated files.
            with Image.open(BytesIO(data), formats=[pillow_format]) as img:
                img.load()
        except UploadRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_big from None
        except Exception:  # Pillow raises many types (OSError, SyntaxError, ValueError …) for hostile input
            raise corrupt from None


def _verify_pdf(name: str, data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = PdfReader(BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise UploadRejected(_l("“%(name)s”设有打开密码，请上传未加密的文件", name=name))
            if len(reader.pages) < 1:
                raise UploadRejected(_l("“%(name)s”没有任何页面", name=name))
            reader.pages[0]  # noqa: B018 — materialises the first page object, which a broken tree cannot
        except UploadRejected:
            raise
        except Exception:  # pypdf raises many types (PdfReadError, KeyError, ValueError …) for damaged files
            raise UploadRejected(_l("“%(name)s”已损坏或无法打开", name=name)) from None


def store(upload: CheckedUpload, folder: Path) -> str:
    """Write under a random name with no extension, so nothing about the stored file comes from the citizen."""
    return store_bytes(upload.data, folder)


def store_with(session, data: bytes, folder: Path) -> str:
    """store_bytes, undone when the session's transaction rolls back: no file outlives a change
    that was refused or lost a race."""
    name = store_bytes(data, folder)
    on_rollback(session, lambda: delete_stored(folder, name))
    return name


def store_bytes(data: bytes, folder: Path) -> str:
    token = secrets.token_hex(16)
    stored_name = f"{token[:2]}/{token}"
    target = stored_path(folder, stored_name)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp creates the file 0600; replacing it whole means no reader ever sees half a file.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return stored_name


def stored_path(folder: Path, stored_name: str) -> Path:
    """Only names store() could have made, so a tampered name cannot reach outside the folder."""
    if not isinstance(stored_name, str) or not _STORED_NAME.fullmatch(stored_name):
        raise ValueError(f"not a stored upload name: {stored_name!r}")
    return Path(folder) / stored_name


def delete_stored(folder: Path, stored_name: str) -> None:
    stored_path(folder, stored_name).unlink(missing_ok=True)


def send_stored(folder: Path, stored_name: str, *, download_name: str, content_type: str, inline: bool):
    # Anything but a type we checked ourselves is only ever downloaded, never rendered by the browser.
    inline = inline and content_type in ALLOWED_TYPES
    response = send_file(stored_path(folder, stored_name), mimetype=content_type, as_attachment=not inline,
                         download_name=download_name, etag=False)
    # Proofs hold personal data: no shared or disk cache may keep them.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even if a file were rendered as a document, it runs in an opaque origin with no script. Not
    # for PDFs shown inline: browsers refuse to open their PDF viewer in a sandbox (Chromium bug
    # 413851), and the type was checked on upload and is sent with nosniff.
    if not (inline and content_type == "application/pdf"):
        response.headers["Content-Security-Policy"] = "sandbox"
    return response
