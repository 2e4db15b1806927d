"""Real sample files for upload tests: made with pypdf and Pillow, so what passes is what a citizen's device makes."""
from __future__ import annotations

import random
import struct
import zlib
from io import BytesIO

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

MB = 1024 * 1024


def pdf_bytes(pages: int = 1, text: str | None = None, *, password: str | None = None,
              attachment: bytes | None = None) -> bytes:
    """A valid A4 PDF. `text` is drawn on each page (Latin-1 only, Helvetica) and kept whole as the title;
    `password` encrypts it with that user password; `attachment` embeds bytes (used for padding)."""
    writer = PdfWriter()
    for _ in range(pages):
        page = writer.add_blank_page(width=595, height=842)
        if text is not None:
            escaped = text.encode("latin-1", "replace")
            for char in (b"\\", b"(", b")"):  # PDF string-literal escapes, backslash first
                escaped = escaped.replace(char, b"\\" + char)
            content = DecodedStreamObject()
            content.set_data(b"BT /F1 14 Tf 72 770 Td (" + escaped + b") Tj ET")
            page[NameObject("/Contents")] = writer._add_object(content)
            font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                     NameObject("/Subtype"): NameObject("/Type1"),
                                     NameObject("/BaseFont"): NameObject("/Helvetica")})
            page[NameObject("/Resources")] = DictionaryObject(
                {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    if text is not None:
        writer.add_metadata({"/Title": text})
    if attachment is not None:
        writer.add_attachment("padding.bin", attachment)
    if password is not None:
        writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def big_file_bytes(mb: float = 10, extra: int = 1) -> bytes:
    """A valid PDF of exactly mb MiB + extra bytes, padded with an embedded file (cheap: one zero run)."""
    target = int(mb * MB) + extra
    padding = target - len(pdf_bytes(attachment=b""))
    for _ in range(3):  # the padding's /Length digits change the overhead by a few bytes; settle it
        data = pdf_bytes(attachment=b"\0" * padding)
        if len(data) == target:
            return data
        padding += target - len(data)
    raise AssertionError(f"could not pad a PDF to {target} bytes")


def _image(width: int, height: int, mode: str) -> Image.Image:
    # A gradient with noise, not a flat colour: the file has real pixel data to truncate.
    img = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    return Image.blend(img, noise, 0.5).convert(mode)


def jpeg_bytes(width: int = 40, height: int = 30) -> bytes:
    out = BytesIO()
    _image(width, height, "RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


def png_bytes(width: int = 40, height: int = 30, mode: str = "RGB") -> bytes:
    out = BytesIO()
    _image(width, height, mode).save(out, format="PNG")
    return out.getvalue()


def fake_pdf_bytes() -> bytes:
    """Only claims to be a PDF: the right header, then text."""
    return b"%PDF-1.4 this is not a pdf, only a text file that starts like one.\n" * 20 + b"%%EOF\n"


def garbage_pdf_bytes() -> bytes:
    """A PDF header followed by random bytes."""
    return b"%PDF-1.7\n" + random.Random(1).randbytes(20_000)


def text_bytes() -> bytes:
    return "这是一个文本文件，不是 PDF。\n".encode()


def html_bytes() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"


def corrupt_png_bytes() -> bytes:
    """A valid signature and header, then image data cut off half-way."""
    data = png_bytes(64, 64)
    return data[: len(data) // 2]


def truncated_jpeg_bytes() -> bytes:
    data = jpeg_bytes(64, 64)
    return data[: len(data) // 2]


def bomb_png_bytes(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny, valid 1-bit PNG with a huge pixel count: decoding it would take width*height bytes of memory."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
