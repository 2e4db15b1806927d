"""Opening a table someone uploaded: a CSV file (portal.catalog.csv_input) or an Excel workbook
(.xlsx, its first sheet), told apart by what the file holds, not by its name. A workbook is a zip:
its entries and their uncompressed size are checked before openpyxl opens it (read-only, values
only), so a zip bomb is refused without being inflated. Anything else (a picture, a PDF, a broken
zip, an old .xls) is refused with a message that says what to do."""
from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime, time
from pathlib import Path

from flask_babel import gettext as _

from portal.catalog.csv_input import ImportFileError, Row, Rows, csv_rows

# A 100,000-row catalog sheet is about 60 MB of XML once inflated; a workbook with more than
# this, or with more entries than any real workbook has, is refused before openpyxl opens it.
MAX_XLSX_UNCOMPRESSED = 400 * 1024 * 1024
MAX_XLSX_ENTRIES = 2000
MAX_ROWS = 200_000

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc)
_BINARY = (b"\x89PNG", b"\xff\xd8\xff", b"%PDF", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")


def open_table(path: str | Path, name: str, stack: ExitStack, *, quick: bool = False,
               capped: bool = True) -> Rows | None:
    """The rows of the uploaded file at `path` (`name` is what it was called on the person's disk).
    `quick` (an upload's request): a workbook's zip is checked but not opened (None), as openpyxl
    reads its whole shared-strings part first, seconds for 100,000 rows; the dry run reads it.
    `capped`: at most MAX_ROWS rows (the browser's limit; `portal import` has none)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(_ZIP):
        if quick:
            _check_zip(path)
            return None
        return xlsx_rows(path, stack, capped)
    if head.startswith(_OLE) or name.lower().endswith(".xls"):
        raise ImportFileError(_("不支持旧版 Excel（.xls）文件，请在 Excel 或 WPS 中另存为 .xlsx 或“CSV UTF-8”后重新上传。"))
    if name.lower().endswith(".xlsx"):
        raise ImportFileError(_("文件不是有效的 XLSX 表格（可能已损坏），请在 Excel 或 WPS 中重新保存后上传。"))
    if head.startswith(_BINARY):
        raise ImportFileError(_("文件不是 CSV 或 XLSX 表格（看起来是图片、PDF 或压缩包），请上传目录表格。"))
    rows = csv_rows(path, stack)
    if capped and rows.total is not None and rows.total - 1 > MAX_ROWS:
        raise ImportFileError(_too_many())
    return rows


def xlsx_rows(path: str | Path, stack: ExitStack, capped: bool = True) -> Rows:
    _check_zip(path)
    from openpyxl import load_workbook  # a heavy import, needed only here

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a damaged workbook
        raise ImportFileError(_broken()) from None
    stack.callback(book.close)
    if not book.worksheets:
        raise ImportFileError(_broken())
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        header = next(values, None)
    except Exception:  # noqa: BLE001
        raise ImportFileError(_broken()) from None
    header = [_text(v) for v in header] if header is not None else None
    total = sheet.max_row if isinstance(sheet.max_row, int) and sheet.max_row > 1 else None
    if capped and total and total - 1 > MAX_ROWS:
        raise ImportFileError(_too_many())

    def rows() -> Iterator[Row]:
        line = 1
        while True:
            line += 1
            try:
                cells = next(values)
            except StopIteration:
                return
            except Exception:  # noqa: BLE001 — a damaged sheet part: stop here, say where
                yield line, None, _("第 %(line)s 行起无法读取（表格文件已损坏）；已停止读取后续内容", line=line)
                return
            if capped and line - 1 > MAX_ROWS:  # a sheet without a <dimension>: found by reading (the dry run)
                raise ImportFileError(_too_many())
            yield line, [_text(v) for v in cells], None

    return Rows(header, total, rows())


def _check_zip(path: str | Path) -> None:
    """Refuse a broken zip, a zip bomb and entries that climb out of the archive, by the central
    directory alone. (zipfile also stops inflating an entry at its declared size.)"""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError(_broken()) from None
    if len(entries) > MAX_XLSX_ENTRIES or sum(e.file_size for e in entries) > MAX_XLSX_UNCOMPRESSED:
        raise ImportFileError(_("XLSX 文件解压后过大（超过 %(mb)s MB），未导入任何数据。请分成几个文件导入。",
                                mb=MAX_XLSX_UNCOMPRESSED // (1024 * 1024)))
    if any(e.filename.startswith(("/", "\\")) or ".." in e.filename.replace("\\", "/").split("/") for e in entries):
        raise ImportFileError(_broken())
    if not any(e.filename == "[Content_Types].xml" for e in entries):
        raise ImportFileError(_broken())


def _text(value) -> str:
    """A cell as the CSV export would have written it: dates as YYYY-MM-DD, whole numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _broken() -> str:
    return _("文件不是有效的 XLSX 表格（可能已损坏），请在 Excel 或 WPS 中重新保存后上传。")


def _too_many() -> str:
    return _("文件超过 %(rows)s 行，未导入任何数据。请分成几个文件导入。", rows=f"{MAX_ROWS:,}")
