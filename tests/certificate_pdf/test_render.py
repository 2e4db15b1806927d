"""The unsigned certificate: its wording, layout over pages, QR code, seal and attachments."""
from __future__ import annotations

import io
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from pypdf import PdfReader

from portal.certificates.document import Attachment, RecordLine, chinese_date
from portal.certificates.pdf import render
from tests.certificate_pdf.conftest import (FULL_ID, VERIFY_URL, compact, found_content, not_found_content,
                                            page_png, page_texts)
from tests.files import jpeg_bytes, pdf_bytes, png_bytes


@pytest.fixture(scope="module")
def found_pdf() -> bytes:
    return render(found_content())


def test_found_certificate_says_who_what_and_for_what(found_pdf):
    text = compact("".join(page_texts(found_pdf)))
    for expected in ("档案查询结果证明", "证明编号：450100-2026-000001", "有关单位：",
                     "韦秀英（公民身份号码：4512**********0622）", "查询用途为：办理养老保险或退休",
                     "以上档案记载内容经馆藏档案馆核实，与馆藏原件一致。", "特此证明。",
                     "验证码：AB12CD34", "扫描二维码或访问https://dangan.example.cn/verify输入证明编号和验证码",
                     "南宁市档案馆2026年11月21日"):
        assert expected in text, expected
    for record in found_content().records:
        for value in (record.holding_archive, record.reference_code, record.title, record.date, record.statement):
            assert compact(value) in text, value


def test_the_full_id_number_never_appears(found_pdf):
    assert FULL_ID not in "".join(page_texts(found_pdf))
    assert FULL_ID.encode() not in found_pdf


def test_fonts_are_embedded_subsets():
    reader = PdfReader(io.BytesIO(render(found_content())))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for font in fonts.values():
        font = font.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile3" in descriptor or "/FontFile2" in descriptor, font["/BaseFont"]
        assert re.match(r"/[A-Z]{6}\+Noto(Serif|Sans)CJK", font["/BaseFont"]), font["/BaseFont"]
        assert "/ToUnicode" in font


def test_page_is_a4(found_pdf):
    box = PdfReader(io.BytesIO(found_pdf)).pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)


def test_not_found_certificate_states_the_exact_search():
    content = not_found_content()
    text = compact("".join(page_texts(render(content))))
    for expected in ("查无档案记录证明", "证明编号：451202-2026-000042", "覃建军（公民身份号码：4512**********1234）",
                     "查询用途为：继承", "婚姻登记、土地承包", "1980—1990", "河池市金城江区",
                     "未查到与上述查询条件相符的档案记录", "河池市金城江区档案馆2026年1月5日"):
        assert expected in text, expected
    for answer in content.answers:
        assert compact(answer.archive + answer.answer) in text, answer
    assert "档案查询结果证明" not in text


def test_empty_search_conditions_print_as_unlimited():
    text = compact("".join(page_texts(render(not_found_content(searched_categories=(), searched_years="",
                                                                searched_place="")))))
    assert "档案类别不限年度范围不限地点不限" in text


def test_chinese_date_has_no_leading_zeros():
    from datetime import date
    assert chinese_date(date(2026, 1, 5)) == "2026年1月5日"


def test_qr_code_opens_the_verification_url(found_pdf):
    # The verification block closes the certificate: on its last page.
    image = Image.open(io.BytesIO(page_png(found_pdf, len(page_texts(found_pdf)))))
    assert [barcode.text for barcode in zxingcpp.read_barcodes(image)] == [VERIFY_URL]


def test_many_records_and_long_content_flow_onto_further_pages_without_loss():
    long_content = "".join(f"第{n:03d}段核实内容。" for n in range(50))
    assert len(long_content) == 500
    records = tuple(RecordLine("南宁市档案馆", f"J045-2-1998-{n:04d}", f"第{n}号结婚登记审查处理表", "1998",
                               note=long_content if n == 17 else f"记录{n}核实无误。") for n in range(30))
    pdf = render(found_content(records=records))
    pages = page_texts(pdf)
    assert len(pages) >= 3
    assert f"共{len(pages)}页" in compact(pages[0])
    # Each page's running header and footer are not body text: take them out, then the body
    # reads on across the page breaks.
    body = "".join(re.sub(r"第\d+页，共\d+页|档案查询结果证明证明编号：450100-2026-000001|序号馆藏档案馆档号题名日期核实内容",
                          "", compact(p))
                   for p in pages[1:])
    body = compact(pages[0]) + body
    for record in records:
        assert compact(record.reference_code + record.title) in body, record.title
        assert compact(record.statement) in body, record.reference_code
    assert "特此证明" in compact(pages[-1])


def test_demo_seal_is_drawn_and_marked_when_there_is_no_seal_image(found_pdf):
    text = compact("".join(page_texts(found_pdf)))
    assert "演示印章" in text and "仅供演示" in text
    assert _images(found_pdf) == []


def _seal_png() -> bytes:
    image = Image.new("RGBA", (123, 117), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((2, 2, 120, 114), outline=(210, 20, 20, 255), width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _images(pdf: bytes, page: int = 0) -> list[tuple[int, int]]:
    """(width, height) of the images drawn on a page, wherever Typst nested them."""
    found = []

    def walk(resources):
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject["/Subtype"] == "/Image":
                found.append((int(xobject["/Width"]), int(xobject["/Height"])))
            elif "/Resources" in xobject:
                walk(xobject["/Resources"].get_object())

    walk(PdfReader(io.BytesIO(pdf)).pages[page]["/Resources"].get_object())
    return found


def test_the_archives_seal_image_is_used_when_given():
    pdf = render(found_content(seal_png=_seal_png()))
    assert (123, 117) in _images(pdf)
    text = compact("".join(page_texts(pdf)))
    assert "演示印章" not in text and "仅供演示" not in text


def test_attachments_follow_the_certificate_in_order():
    attachments = (Attachment("结婚登记审查处理表.pdf", pdf_bytes(2, "copy-A")),
                   Attachment("照片.jpg", jpeg_bytes(600, 800)),
                   Attachment("土地承包合同.pdf", pdf_bytes(1, "copy-B")),
                   Attachment("档案卷皮.png", png_bytes(900, 500)))
    pdf = render(found_content(attachments=attachments))
    pages = page_texts(pdf)
    certificate_pages = len(pages) - (2 + 1 + 1 + 1)
    tail = [compact(p) for p in pages[certificate_pages:]]
    assert tail[0].startswith("copy-A") and tail[1].startswith("copy-A")
    assert "附件2：照片.jpg" in tail[2]
    assert tail[3].startswith("copy-B")
    assert "附件4：档案卷皮.png" in tail[4]
    listing = compact("".join(pages[:certificate_pages]))
    assert "1.结婚登记审查处理表.pdf（2页）2.照片.jpg（1页）3.土地承包合同.pdf（1页）4.档案卷皮.png（1页）" in listing
    assert "后附档案复制件4份，共5页" in listing
    for n, size in ((certificate_pages + 2, (600, 800)), (certificate_pages + 4, (900, 500))):
        assert size in _images(pdf, n)


def test_attachment_that_is_not_pdf_jpeg_or_png_is_refused():
    with pytest.raises(ValueError):
        render(found_content(attachments=(Attachment("a.txt", "文本".encode()),)))


def test_same_content_renders_the_same_bytes_without_warnings(caplog):
    with caplog.at_level(logging.WARNING, logger="portal.certificates"):
        first = render(found_content())
        second = render(found_content())
    assert first == second
    assert caplog.records == []


def test_renders_in_several_threads_at_once():
    contents = [found_content(serial=f"450100-2026-{n:06d}") for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pdfs = list(pool.map(render, contents))
    for content, pdf in zip(contents, pdfs):
        assert content.serial in compact(page_texts(pdf)[0])


def test_values_are_printed_as_text_never_read_as_markup():
    title = "*粗体* _斜体_ #let x = 1 $x^2$ <label> @ref \\ [括号] // 注释 \"引号\""
    record = RecordLine("南宁市档案馆", "#J045", title, "1998", note="= 标题 =\n- 列表")
    text = compact("".join(page_texts(render(found_content(records=(record,), subject_name="韦#秀英")))))
    assert compact(title) in text
    assert compact("= 标题 =- 列表") in text and "韦#秀英" in text


def test_subject_without_id_number_prints_the_name_alone():
    text = compact("".join(page_texts(render(not_found_content(subject_id_masked="")))))
    assert "为覃建军查询档案" in text and "公民身份号码—" in text


def test_every_page_of_the_file_says_its_number_out_of_all_pages():
    """The certified copies count: not "第1页，共1页" on a file of five pages."""
    attachments = (Attachment("结婚登记审查处理表.pdf", pdf_bytes(2, "copy-A")), Attachment("照片.jpg", jpeg_bytes()),
                   Attachment("土地承包合同.pdf", pdf_bytes(1, "copy-B")))
    pages = [compact(p) for p in page_texts(render(found_content(attachments=attachments)))]
    assert len(pages) >= 5
    for n, text in enumerate(pages, start=1):
        assert f"第{n}页，共{len(pages)}页" in text, (n, text[-60:])
    assert all("证明编号：450100-2026-000001" in text for text in pages[-4:])  # the copies carry the serial too


def test_the_verification_content_states_the_facts_and_a_note_only_when_given():
    records = (RecordLine("南宁市档案馆", "J045-2-1998-0012", "结婚登记审查处理表", "1998", date(2026, 11, 18)),
               RecordLine("河池市档案馆", "—", "婚姻登记档案（代为查找）", "1980—1990", date(2026, 11, 19),
                          note="另有更正通知一份"))
    text = compact("".join(page_texts(render(found_content(records=records)))))
    assert "南宁市档案馆于2026年11月18日核实档号J045-2-1998-0012《结婚登记审查处理表》：已找到，与馆藏原件一致。" in text
    assert "河池市档案馆于2026年11月19日核实婚姻登记档案（代为查找）：已找到，与馆藏原件一致。说明：另有更正通知一份" in text
    assert text.count("说明：") == 1
