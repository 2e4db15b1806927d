"""Sample files for the digitized-copy tests: a text-layer PDF (pypdf), a scanned page rendered
with the Noto CJK font (Pillow) as PNG and as an image-only PDF, and ZIPs of them."""
from __future__ import annotations

import zipfile
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

from tests.files import pdf_bytes

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
ID_NUMBER = "45120219650312123X"
MOBILE = "13812345678"
LANDLINE = "0778-2283456"
TEXT_LAYER = f"Longtan forest register, owner ID {ID_NUMBER}, mobile {MOBILE}, office {LANDLINE}"


def text_pdf(text: str = TEXT_LAYER, pages: int = 1) -> bytes:
    return pdf_bytes(pages, text)


def scanned_page(lines=("林权登记簿 龙滩村集体林地", f"身份证号 {ID_NUMBER}", f"联系电话 {MOBILE}")) -> Image.Image:
    font = ImageFont.truetype(FONT, 44)
    img = Image.new("L", (1400, 140 + 120 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for n, line in enumerate(lines):
        draw.text((60, 60 + 120 * n), line, font=font, fill=0)
    return img


def scanned_png(**kw) -> bytes:
    out = BytesIO()
    scanned_page(**kw).save(out, "PNG")
    return out.getvalue()


def scanned_pdf(**kw) -> bytes:
    """An image-only PDF (no text layer), as a scanner makes."""
    out = BytesIO()
    scanned_page(**kw).convert("RGB").save(out, "PDF", resolution=200)
    return out.getvalue()


def zip_of(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def scanned_tiff(*pages: tuple[str, ...]) -> bytes:
    """A multi-page TIFF, as archives' scanners make (bilevel pages, Group 4), one page per entry."""
    images = [scanned_page(lines=lines).convert("1") for lines in pages]
    out = BytesIO()
    images[0].save(out, "TIFF", save_all=True, append_images=images[1:], compression="group4", dpi=(200, 200))
    return out.getvalue()
