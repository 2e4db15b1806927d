"""Reading a digitized copy: the PDF's own text layer (pdftotext) where it has one, otherwise OCR
with Tesseract (chi_sim+chi_tra) of each page (PDF pages rasterized by pdftoppm) in the background
job "ocr", with progress per page. Personal data in the text is masked before it is stored; the
record is then queued for the search index (open records only reach it: portal.catalog.copies)."""
from __future__ import annotations

import re
import subprocess
from io import BytesIO
from pathlib import Path

from PIL import Image
from sqlalchemy.orm import Session

from portal.admin import jobs
from portal.admin.models import AdminJob
from portal.catalog.copies import TOOL_SECONDS, DigitizedCopy, copy_path, render_page
from portal.catalog.indexing import sync_after_commit
from portal.catalog.outbox import queue_index
from portal.core.masking import mask_contact_text
from portal.core.uploads import tiff_page_png

OCR_LANGUAGES = "chi_sim+chi_tra"
RENDER_DPI = 200          # OCR of a scanned A4 page at 200 dpi: about 1650 x 2340 pixels
OCR_MAX_PAGES = 50        # pages read by OCR of one file (the rest keep no text; said on the page)
# A text layer with fewer readable characters per page than this is a scan with a stray word
# (a page number, a stamp's label): it is read by OCR instead.
MIN_CHARS_PER_PAGE = 8
_SPACE_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])[ \t]+(?=[\u3400-\u9fff\uf900-\ufaff])")
_READABLE = re.compile(r"\w")


def pdf_text_layer(path: Path, pages: int) -> str:
    """The PDF's own text, or "" when it has (next to) none."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-l", str(max(pages, 1)), str(path), "-"],
                         capture_output=True, timeout=TOOL_SECONDS, check=False)
    text = out.stdout.decode("utf-8", "replace") if out.returncode == 0 else ""
    return text if len(_READABLE.findall(text)) >= MIN_CHARS_PER_PAGE * max(pages, 1) else ""


def ocr_image(data: bytes) -> str:
    import pytesseract

    with Image.open(BytesIO(data)) as img:
        img.load()
        gray = img.convert("L")
        text = pytesseract.image_to_string(gray, lang=OCR_LANGUAGES, timeout=TOOL_SECONDS)
        if not text.strip():  # a strip of a page (one line): read as one block of text instead
            text = pytesseract.image_to_string(gray, lang=OCR_LANGUAGES, config="--psm 6", timeout=TOOL_SECONDS)
    # Tesseract puts spaces between Chinese characters; the words are what people search for.
    return _SPACE_BETWEEN_CJK.sub("", text)


def read_text(copy: DigitizedCopy, progress) -> tuple[str, str]:
    """(text, source) of a copy: its text layer, or OCR page by page (progress(done, total))."""
    path = copy_path(copy)
    if copy.is_pdf:
        text = pdf_text_layer(path, copy.page_count)
        if text:
            return text, "pdf_text"
        total = min(copy.page_count, OCR_MAX_PAGES)
        parts = []
        for page in range(1, total + 1):
            parts.append(ocr_image(render_page(path, page, RENDER_DPI)))
            progress(page, total)
        return "\n".join(parts), "ocr"
    if copy.is_tiff:
        total = min(copy.page_count, OCR_MAX_PAGES)
        parts = []
        for page in range(1, total + 1):
            parts.append(ocr_image(tiff_page_png(path, page)))
            progress(page, total)
        return "\n".join(parts), "ocr"
    text = ocr_image(path.read_bytes())
    progress(1, 1)
    return text, "ocr"


@jobs.handler("ocr")
def run_ocr(session: Session, job: AdminJob, progress) -> None:
    """Read one copy's text (job.params["copy_id"]), mask it, store it and queue its record."""
    copy = session.get(DigitizedCopy, job.params["copy_id"])
    if copy is None:  # removed meanwhile
        job.result = {"gone": True}
        return
    text, source = read_text(copy, progress)  # a failure fails the job (its status says so on the page)
    copy.text = mask_contact_text(text).strip()
    copy.text_source = source if copy.text else ""
    copy.text_status = "done"
    queue_index(session, [copy.record_id])
    job.result = {"source": copy.text_source, "chars": len(copy.text)}
    session.commit()
    sync_after_commit()  # now if the engine is up; else the search worker applies it later
