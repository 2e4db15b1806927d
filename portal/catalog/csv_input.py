"""Opening a CSV file someone uploaded or named on the command line: check the whole file is UTF-8
and the header is right before a single row is used, so a refused file imports nothing.

A table's rows reach the importer as `Rows` (portal.catalog.xlsx_input makes them from a
spreadsheet): the header, how many lines there are if known, and each row as (line, cells,
problem) where a problem (the rest cannot be read) ends the rows."""
from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import BinaryIO, TextIO

from flask_babel import gettext as _

from portal.core.punctuation import punct


class ImportFileError(Exception):
    """The file as a whole cannot be imported (encoding, header); nothing was written."""


Row = tuple[int, list[str] | None, str | None]  # (line, cells, why the rest cannot be read)


@dataclass
class Rows:
    header: list[str] | None
    total: int | None       # lines in the file (progress), None when unknown
    rows: Iterator[Row]


def csv_rows(source: str | os.PathLike | BinaryIO | TextIO, stack: ExitStack) -> Rows:
    text, total = open_text(source, stack)
    # strict: an unclosed quote must be an error, not swallow the rest of the file into one field.
    reader = csv.reader(text, strict=True)
    header = next(reader, None)

    def rows() -> Iterator[Row]:
        line = reader.line_num
        while True:
            start = line + 1  # a quoted field may span lines: the row starts after the previous one
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, None, _("无法解析（%(error)s），请检查英文双引号是否成对；已停止读取后续内容", error=exc)
                return
            line = reader.line_num
            yield start, cells, None

    return Rows(header, total, rows())


def open_text(source: str | os.PathLike | BinaryIO | TextIO, stack: ExitStack) -> tuple[Iterable[str], int | None]:
    """Lines of the file for csv.reader, and how many there are (None for an already-decoded stream)."""
    if isinstance(source, io.TextIOBase):
        return _strip_bom(source), None
    if isinstance(source, (str, os.PathLike)):
        raw = stack.enter_context(open(source, "rb"))
    elif source.seekable():
        raw = source
    else:
        raw = io.BytesIO(source.read())
    start = raw.tell()
    lines = _check_utf8(raw)
    raw.seek(start)
    # utf-8-sig drops the byte-order mark Excel writes; newline="" is what the csv module needs.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    stack.callback(text.detach)  # leave a caller's stream open
    return text, lines


def _strip_bom(text: TextIO) -> Iterable[str]:
    first = True
    for chunk in text:
        yield chunk.lstrip("\ufeff") if first else chunk
        first = False


def _check_utf8(raw: BinaryIO) -> int:
    """Read the whole file once: a decoding error found half-way would leave half an import."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, last, head = 0, b"", b""
    while chunk := raw.read(1 << 20):
        head = head or chunk
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise ImportFileError(_not_utf8(lines + chunk[:max(exc.start, 0)].count(b"\n") + 1, head)) from None
        lines += chunk.count(b"\n")
        last = chunk
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileError(_not_utf8(lines + 1, head)) from None
    return lines + (1 if last and not last.endswith(b"\n") else 0)


def _not_utf8(line: int, head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        guess = _("，看起来是 UTF-16 编码（Excel 的“Unicode 文本”格式）")
    else:
        try:
            codecs.getincrementaldecoder("gb18030")().decode(head)
            guess = _("，看起来是 GBK/GB18030 编码（Excel 和 WPS 保存“CSV”时的默认编码）")
        except UnicodeDecodeError:
            guess = ""
    return _("文件不是 UTF-8 编码（第 %(line)s 行出现无法识别的字符）%(guess)s，未导入任何数据。"
             "请把文件另存为 UTF-8 编码后重新导入：Excel 中选“文件 → 另存为 → CSV UTF-8（逗号分隔）”，"
             "WPS 或记事本中另存时把编码选为 UTF-8。", line=line, guess=guess)


def column_layout(header: list[str] | None, expected: Sequence[str]) -> list[int]:
    """Where each expected column is: the order may differ, the names may not."""
    should_be = _("第 1 行应为表头：%(header)s", header=",".join(expected))
    if header is None:
        raise ImportFileError(_("文件是空的。") + should_be)
    names = [h.strip().lower() for h in header]
    while names and not names[-1]:
        names.pop()  # spreadsheets sometimes add empty columns at the end
    missing = [c for c in expected if c not in names]
    unknown = [n or _("（空列名）") for n in names if n not in expected]
    repeated = sorted({n for n in names if n in expected and names.count(n) > 1})
    problems = []
    if missing:
        problems.append(_("缺少列 %(columns)s", columns=", ".join(missing)))
    if unknown:
        problems.append(_("未知列 %(columns)s", columns=", ".join(unknown)))
    if repeated:
        problems.append(_("重复列 %(columns)s", columns=", ".join(repeated)))
    if problems:
        raise ImportFileError(_("表头不正确：%(problems)s，未导入任何数据。", problems=punct("semicolon").join(problems)) + should_be)
    return [names.index(c) for c in expected]
