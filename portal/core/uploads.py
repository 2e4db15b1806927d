"""Citizens' uploaded proofs: checking what a file really is, storing it privately, serving it back safely."""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import time
import unicodedata
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from flask import send_file
from flask_babel import lazy_gettext as _l
from PIL import Image, PngImagePlugin
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from portal.core.after_commit import on_rollback

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
# Images: at most 40 megapixels, read from the header before any pixel is decoded. A 600-dpi A4
# scan is about 35 MP and a phone photo 12-50 MP; decoding costs up to 4 bytes a pixel (an 80-MP
# PNG of 200 KB took 2 s of CPU and 300 MB). Below Pillow's own limit (89 MP), whose warning we
# treat as a refusal too, so no image near Pillow's threshold is ever decoded.
MAX_IMAGE_PIXELS = 40_000_000
# A PNG's text chunks (tEXt, zTXt, iTXt) are decompressed when it is opened: Pillow allows 64 MB of
# them per image. Proofs need none, so every PNG this process opens gets at most 4 MB (a photo
# editor's metadata is a few KB); more is refused as a damaged file.
MAX_PNG_TEXT_BYTES = 4 * 1024 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = min(PngImagePlugin.MAX_TEXT_MEMORY, MAX_PNG_TEXT_BYTES)
# PDFs: at most 200 pages (a thick file of proofs is far less) and 50,000 objects (a 200-page
# document has a few thousand; each costs pypdf about 20 µs to read, so the check of the whole
# file stays under a second), read in at most MAX_PDF_CHECK_SECONDS (a backstop for files whose
# broken cross-reference table makes pypdf search the whole file for each object).
MAX_PDF_PAGES = 200
MAX_PDF_OBJECTS = 50_000
MAX_PDF_CHECK_SECONDS = 5.0
ALLOWED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}  # citizens' proofs
# TIFF, the scanning format of digitization, only where a form asks for it (digitized copies: a
# browser cannot show it, so it is drawn as PNG to be seen): at most MAX_PDF_PAGES pages, each
# within MAX_IMAGE_PIXELS, read from the headers; the first page is decoded to catch junk.
TIFF = "image/tiff"
_EXTENSIONS = {**ALLOWED_TYPES, TIFF: "tif"}
UNNAMED = "未命名文件"
MAX_NAME_CHARS = 100

_MAGIC = ((b"%PDF-", "application/pdf"), (b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
          (b"II*\x00", TIFF), (b"MM\x00*", TIFF))
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


def check_upload(filename: str, stream, max_bytes: int = MAX_FILE_BYTES, *, tiff: bool = False) -> CheckedUpload:
    name = clean_filename(filename)
    data = _read_at_most(stream, max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRejected(_l("“%(name)s”超过 %(mb)s MB", name=name, mb=f"{max_bytes / 1024 / 1024:g}"))
    if not data:
        raise UploadRejected(_l("“%(name)s”是空文件", name=name))
    # The name and the declared type are the sender's claims; only the content counts.
    content_type = next((t for magic, t in _MAGIC if data.startswith(magic)), None)
    if content_type == TIFF and not tiff:
        content_type = None
    if content_type is None:
        raise UploadRejected(_l("“%(name)s”不是 PDF、JPG、PNG 或 TIFF 文件", name=name) if tiff
                             else _l("“%(name)s”不是 PDF、JPG 或 PNG 文件", name=name))
    if content_type == "application/pdf":
        _verify_pdf(name, data)
    elif content_type == TIFF:
        _verify_tiff(name, data)
    else:
        _verify_image(name, data, _PILLOW_FORMAT[content_type])
    return CheckedUpload(original_name=name, content_type=content_type, extension=_EXTENSIONS[content_type],
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


def _too_big(name: str) -> UploadRejected:
    return UploadRejected(_l("“%(name)s”的图片尺寸过大，无法处理", name=name))


@contextmanager
def _pillow_reading(name: str):
    """Reading an image with Pillow: oddities in otherwise readable images are ignored, a
    decompression bomb is "too large", anything else Pillow raises for hostile input (OSError,
    SyntaxError, ValueError …) is "damaged"; our own refusals pass through."""
    with warnings.catch_warnings():
        # A decompression bomb warning must stop us before any pixel is decoded.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except UploadRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_big(name) from None
        except Exception:  # noqa: BLE001
            raise UploadRejected(_l("“%(name)s”已损坏或无法打开", name=name)) from None


def _verify_image(name: str, data: bytes, pillow_format: str) -> None:
    with _pillow_reading(name):
        # open() reads the header only: the size is known before any pixel is decoded, and an
        # image over our limit is refused there (Pillow's limit is higher, so its warning, which
        # catch_warnings cannot reliably turn into an error in a threaded server, never matters).
        with Image.open(BytesIO(data), formats=[pillow_format]) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise _too_big(name)
            img.verify()
        # verify() leaves the image unusable and skips pixel data; a full load catches truncated files.
        with Image.open(BytesIO(data), formats=[pillow_format]) as img:
            img.load()


def _verify_tiff(name: str, data: bytes) -> None:
    """Every page's size from its header (none decoded past the limits), at most MAX_PDF_PAGES
    pages, and the first page decoded in full."""
    with _pillow_reading(name), Image.open(BytesIO(data), formats=["TIFF"]) as img:
        pages = getattr(img, "n_frames", 1)
        if pages > MAX_PDF_PAGES:
            raise UploadRejected(_l("“%(name)s”超过 %(n)d 页，请只上传需要的页面", name=name, n=MAX_PDF_PAGES))
        for page in range(pages):
            img.seek(page)
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise _too_big(name)
        img.seek(0)
        img.load()


def tiff_pages(data: bytes) -> int:
    """Pages of a TIFF check_upload accepted."""
    with Image.open(BytesIO(data), formats=["TIFF"]) as img:
        return getattr(img, "n_frames", 1)


def tiff_page_png(path: Path, page: int) -> bytes:
    """Page `page` (from 1) of a stored TIFF as PNG, for a browser (which cannot show TIFF)."""
    with Image.open(path, formats=["TIFF"]) as img:
        img.seek(page - 1)
        if img.width * img.height > MAX_IMAGE_PIXELS:
            raise ValueError("page too large")
        frame = img.convert("L" if img.mode in ("1", "L", "I;16", "I") else "RGB")
        out = BytesIO()
        frame.save(out, format="PNG")
        return out.getvalue()


def _verify_pdf(name: str, data: bytes) -> None:
    corrupt = UploadRejected(_l("“%(name)s”已损坏或无法打开", name=name))
    too_complex = UploadRejected(_l("“%(name)s”结构过于复杂，无法检查；请用“打印为 PDF”另存后再上传", name=name))
    too_long = UploadRejected(_l("“%(name)s”超过 %(n)d 页，请只上传需要的页面", name=name, n=MAX_PDF_PAGES))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = PdfReader(BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise UploadRejected(_l("“%(name)s”设有打开密码，请上传未加密的文件", name=name))
            # The sizes a file declares are checked before the work they would cost.
            if _object_count(reader) > MAX_PDF_OBJECTS:
                raise too_complex
            tree = _resolved(reader.root_object.get("/Pages"))
            declared = _resolved(tree.get("/Count")) if isinstance(tree, DictionaryObject) else None
            if isinstance(declared, int) and declared > MAX_PDF_PAGES:
                raise too_long
            pages = len(reader.pages)
            if pages > MAX_PDF_PAGES:
                raise too_long
            if pages < 1:
                raise UploadRejected(_l("“%(name)s”没有任何页面", name=name))
            reader.pages[0]  # noqa: B018 — materialises the first page object, which a broken tree cannot
            if _runs_something(reader, deadline=time.monotonic() + MAX_PDF_CHECK_SECONDS):
                raise UploadRejected(_l("“%(name)s”含有脚本或打开时自动执行的动作，不能接收；"
                                        "请用“打印为 PDF”另存后再上传", name=name))
        except UploadRejected:
            raise
        except TimeoutError:
            raise too_complex from None
        except Exception:  # pypdf raises many types (PdfReadError, KeyError, ValueError …) for damaged files
            raise corrupt from None


# What makes a viewer run something the reader did not click: JavaScript anywhere (a /JS entry of an
# action, the document's /JavaScript name tree), additional actions (/AA: on opening a page, on
# focusing a field …) and launching a program. An /OpenAction that only says where to open (a
# destination, or a /GoTo action) is what LibreOffice, WPS and Acrobat write into ordinary files:
# accepted; any other opening action is refused.
_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/AA"})
_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch"})


def _object_count(reader: PdfReader) -> int:
    return len(reader.xref_objStm) + sum(len(numbers) for numbers in reader.xref.values())


def _runs_something(reader: PdfReader, deadline: float) -> bool:
    """Whether any object of the file — reachable from its trailer or only listed in its
    cross-reference table (another viewer may repair a file differently) — is active content.
    Walked with a stack, each indirect object once; references to objects the table does not list
    are followed only a few times (pypdf searches the whole file for each)."""
    listed = {(number, 0) for number in reader.xref_objStm}
    listed.update((number, generation) for generation, numbers in reader.xref.items() for number in numbers)
    stack: list = [reader.trailer, *(IndirectObject(n, g, reader) for n, g in listed)]
    seen: set[tuple[int, int]] = set()
    unlisted = 16
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            if key not in listed:
                unlisted -= 1
                if unlisted < 0:
                    raise ValueError("too many references to objects the file does not list")
            seen.add(key)
            if time.monotonic() > deadline:
                raise TimeoutError
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            if not _ACTIVE_KEYS.isdisjoint(obj.keys()) or _name(obj.get("/S")) in _ACTIVE_ACTIONS:
                return True
            if "/OpenAction" in obj and not _only_a_destination(_resolved(obj["/OpenAction"])):
                return True
            stack.extend(obj.values())  # unresolved: indirect objects are visited once, above
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return False


def _resolved(obj):
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _name(obj) -> str | None:
    obj = _resolved(obj)
    return str(obj) if isinstance(obj, NameObject) else None


def _only_a_destination(action) -> bool:
    if not isinstance(action, DictionaryObject):
        return True  # an explicit destination (an array) or a named one (a name or string)
    return _name(action.get("/S")) == "/GoTo" and "/Next" not in action


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
