"""Render a certificate as an unsigned A4 PDF.

Typst (the `typst` package: the typesetter compiled into a Python extension) lays the page out:
it embeds subsets of the CFF-outline Noto CJK fonts with a ToUnicode map (so pypdf and readers
extract correct Chinese), breaks Chinese lines by the usual rules, and flows long tables onto
further pages with their header repeated. The template below is fixed text: every value from the
request reaches it as JSON through `sys.inputs` and is printed as a string, never read as markup.

Certified copies follow the certificate: images as one page each, laid out by the same template;
each page of a PDF copy as a page of its own size that Typst fills with that page, embedded whole
(a form XObject: its content untouched, turned and cropped as a reader shows it), with the
template's footer over it. Every page of the document says "第N页，共M页", M counting the
copies too, so a page lost from a printed bundle is noticed. One Typst compile makes the whole
file: no second pass re-writes it (pypdf only reads the copies' page sizes).
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from datetime import datetime, time
from io import BytesIO
from pathlib import Path

import segno
import typst
from pypdf import PdfReader

from portal.certificates import seal
from portal.certificates.document import FOUND, Attachment, CertificateContent, chinese_date
from portal.core.clock import CHINA_TIME

log = logging.getLogger(__name__)

# Debian's fonts-noto-cjk. Any folder holding Noto Serif CJK SC and Noto Sans CJK SC will do.
FONT_DIR = Path(os.environ.get("PORTAL_CERTIFICATE_FONT_DIR") or "/usr/share/fonts/opentype/noto")
REQUIRED_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")


_fonts: typst.Fonts | None = None
_fonts_lock = threading.Lock()


class FontsMissing(RuntimeError):
    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(f"证书字体缺失 (certificate fonts missing): {', '.join(missing)} in {FONT_DIR}; "
                         "install Debian's fonts-noto-cjk (make browser-deps) or set PORTAL_CERTIFICATE_FONT_DIR")


def _typst_fonts() -> typst.Fonts:
    """The font book, read once per process: scanning the CJK collections costs about 40 ms.
    Neither system fonts nor Typst's own are searched, so every glyph comes from Noto CJK."""
    global _fonts
    with _fonts_lock:
        if _fonts is None:
            fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False,
                                font_paths=[str(FONT_DIR)] if FONT_DIR.is_dir() else [])
            missing = [family for family in REQUIRED_FAMILIES if family not in fonts.families()]
            if missing:
                raise FontsMissing(missing)
            _fonts = fonts
        return _fonts


def render(content: CertificateContent) -> bytes:
    """The certificate and its attachments as one unsigned PDF."""
    pdf_pages = {n: _page_sizes(_open_pdf(a)) for n, a in enumerate(content.attachments) if a.kind == "pdf"}
    with tempfile.TemporaryDirectory(prefix="certificate-") as folder:
        # Images and PDF copies reach Typst as files in the document's own folder (sys.inputs holds only text).
        root = Path(folder)
        seal_file = None
        if content.seal_png is not None:
            seal_file = "seal.png"
            (root / seal_file).write_bytes(content.seal_png)
        files = {}
        for n, attachment in enumerate(content.attachments):
            files[n] = f"attachment-{n + 1}.{attachment.kind}"
            (root / files[n]).write_bytes(attachment.data)
        data = _template_data(content, seal_file, files, pdf_pages)
        compiler = typst.Compiler(TEMPLATE.encode(), root=folder, font_paths=_typst_fonts(), ignore_system_fonts=True)
        # The PDF's dates come from the issue date, not the clock: the same content renders the same.
        issued_at = datetime.combine(content.issued_on, time(0), CHINA_TIME)
        pdf, warnings = compiler.compile_with_warnings(
            format="pdf", sys_inputs={"data": json.dumps(data, ensure_ascii=False)}, timestamp=issued_at)
    for warning in warnings:
        log.warning("certificate %s: typst: %s", content.serial, warning.message)
    return pdf


def _open_pdf(attachment: Attachment) -> PdfReader:
    reader = PdfReader(BytesIO(attachment.data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ValueError(f"附件 {attachment.filename} 有密码，无法附在证明之后 (attachment is password-protected)")
    return reader


def _page_sizes(reader: PdfReader) -> list[tuple[float, float]]:
    """Each page's visible size in points, as it is read (a page turned by /Rotate is measured turned)."""
    sizes = []
    for page in reader.pages:
        width, height = float(page.cropbox.width), float(page.cropbox.height)
        sizes.append((height, width) if page.rotation % 180 else (width, height))
    return sizes


def _qr_svg(url: str) -> str:
    # Medium error correction: still reads when the print is creased or the seal's red overlaps.
    qr = segno.make(url, error="m", micro=False)
    out = BytesIO()
    qr.save(out, kind="svg", xmldecl=False, svgns=True, nl=False, border=0, scale=4)
    return out.getvalue().decode()


def _template_data(content: CertificateContent, seal_file: str | None, files: dict[int, str],
                   pdf_pages: dict[int, list[tuple[float, float]]]) -> dict:
    """Everything the template prints, as display strings (empty conditions become 不限)."""
    attachments = []
    for n, attachment in enumerate(content.attachments):
        sizes = pdf_pages.get(n, [])
        attachments.append({"number": n + 1, "filename": attachment.filename, "pages": len(sizes) or 1,
                            "file": files[n], "pdf": n in pdf_pages,
                            "sizes": [{"page": i + 1, "width": w, "height": h} for i, (w, h) in enumerate(sizes)]})
    return {
        "found": content.kind == FOUND,
        "title": content.title,
        "serial": content.serial,
        "code": content.code,
        "verify_page": content.verify_page,
        "qr_svg": _qr_svg(content.verify_url),
        "issuing_archive": content.issuing_archive,
        "issued": {"year": content.issued_on.year, "month": content.issued_on.month, "day": content.issued_on.day},
        "issued_cn": chinese_date(content.issued_on),
        "subject_name": content.subject_name,
        "subject_id": content.subject_id_masked,
        "purpose": content.purpose or "未说明",
        "records": [{"archive": r.holding_archive, "reference": r.reference_code, "title": r.title, "date": r.date,
                     "content": r.statement} for r in content.records],
        "categories": "、".join(content.searched_categories) or "不限",
        "years": content.searched_years or "不限",
        "place": content.searched_place or "不限",
        "answers": [{"archive": a.archive, "answer": a.answer} for a in content.answers],
        "attachments": attachments,
        "attachment_pages": sum(a["pages"] for a in attachments),
        "seal": seal_file,
    }


TEMPLATE = r"""
#let d = json(bytes(sys.inputs.data))
#let serif = "Noto Serif CJK SC"
#let sans = "Noto Sans CJK SC"
""" + seal.TYPST + r"""
#set document(title: d.title + " " + d.serial, author: d.issuing_archive, keywords: (d.serial,),
              date: datetime(year: d.issued.year, month: d.issued.month, day: d.issued.day))
// No automatic gap between Chinese and Latin text: dates print as 2026年11月21日, and extracted
// text has no spaces that the certificate does not show.
#set text(font: serif, size: 12pt, lang: "zh", region: "cn", cjk-latin-spacing: none)
// Ragged right: a justified line before an unbreakable ID number or URL would be stretched apart.
#set par(leading: 0.9em, spacing: 1.1em, justify: false)

// Running header and footer on every certificate page: the serial and "page n of m", so a
// printed page is never separated from the certificate it belongs to. m counts every page of the
// file, the certified copies after the certificate included.
#let page-of = context [第 #counter(page).get().first() 页，共 #counter(page).final().first() 页]
#set page(
  paper: "a4",
  margin: (top: 24mm, bottom: 22mm, x: 22mm),
  header: context if counter(page).get().first() > 1 {
    set text(font: sans, size: 9pt, fill: luma(90))
    grid(columns: (1fr, auto), d.title, [证明编号：#d.serial])
  },
  footer: context {
    set text(font: sans, size: 9pt, fill: luma(90))
    align(center, page-of)
  },
)

// The subject: name in full, the ID number masked (left out when there is none).
#let subject = [#text(weight: "bold", d.subject_name)#if d.subject_id != "" [（公民身份号码：#d.subject_id）]]
#let body-par(it) = par(first-line-indent: (amount: 2em, all: true), it)
#let cell-text(it) = {
  set par(justify: false, leading: 0.55em)
  set text(size: 10pt)
  it
}
#let head(it) = text(font: sans, size: 10pt, weight: "bold", it)
#let table-style = (stroke: 0.5pt + luma(60), inset: (x: 5pt, y: 6pt), align: left + horizon)

#align(right, text(font: sans, size: 10.5pt)[证明编号：#d.serial])
#v(6mm)
#align(center, text(size: 22pt, weight: "bold", d.title))
#v(8mm)

有关单位：

#if d.found [
  #body-par[根据申请，本馆通过档案利用服务平台查询了有关#(subject)的档案，查询用途为：#d.purpose。经查，下列档案馆藏有相关档案，记载内容如下：]

  #cell-text(table(
    columns: (11mm, 1.2fr, 1.4fr, 1.5fr, 20mm, 2.2fr),  // 档号 such as J001-1985-0010 has no break opportunity
    ..table-style,
    table.header(head[序号], head[馆藏档案馆], head[档号], head[题名], head[日期], head[核实内容]),
    ..d.records.enumerate().map(((i, r)) => (str(i + 1), r.archive, r.reference, r.title, r.date,
                                              if r.content == "" [—] else [#r.content])).flatten(),
  ))

  #body-par[以上档案记载内容经馆藏档案馆核实，与馆藏原件一致。]
] else [
  #body-par[根据申请，本馆通过档案利用服务平台为#(subject)查询档案，查询用途为：#d.purpose。查询条件如下：]

  #cell-text(table(
    columns: (28mm, 1fr),
    ..table-style,
    head[姓名], d.subject_name,
    head[公民身份号码], if d.subject_id == "" [—] else { d.subject_id },
    head[档案类别], d.categories,
    head[年度范围], d.years,
    head[地点], d.place,
  ))
]

#if d.answers.len() > 0 [
  #body-par[#if d.found [各档案馆的查询情况如下：] else [查询的档案馆及查询结果如下：]]

  #cell-text(table(
    columns: (11mm, 1fr, 1.6fr),
    ..table-style,
    table.header(head[序号], head[档案馆], head[查询结果]),
    ..d.answers.enumerate().map(((i, a)) => (str(i + 1), a.archive, a.answer)).flatten(),
  ))
]

#if not d.found [
  #body-par[经查，在上述档案馆馆藏档案中，未查到与上述查询条件相符的档案记录。]
  #body-par[本证明仅说明在上述查询范围内未查到相关档案记录。]
]

#if d.attachments.len() > 0 [
  #body-par[本证明后附档案复制件 #d.attachments.len() 份，共 #d.attachment_pages 页，与证明一并签章。]
]

#body-par[特此证明。]

#if d.attachments.len() > 0 {
  grid(columns: (auto, 1fr), row-gutter: 0.6em, column-gutter: 0.3em,
    ..d.attachments.enumerate().map(((i, a)) => (if i == 0 [附件：] else [],
                                                 [#a.number. #a.filename（#a.pages 页）])).flatten())
}

// The verification block (left) and the issuer, date and seal (right) stay together on one page.
#block(breakable: false, above: 8mm, grid(
  columns: (1fr, 66mm), column-gutter: 4mm, align: bottom,
  grid(columns: (26mm, 1fr), column-gutter: 4mm, align: horizon,
    image(bytes(d.qr_svg), format: "svg", width: 26mm),
    {
      set text(font: sans, size: 9pt)
      set par(justify: false, leading: 0.55em, spacing: 0.75em)
      [验证码：#text(weight: "bold", size: 10.5pt, d.code)]
      parbreak()
      [扫描二维码或访问 #d.verify_page 输入证明编号和验证码，核对本证明。]
      parbreak()
      [本证明由#(d.issuing_archive)加盖电子签章，内容被修改后签章即失效。]
    }),
  {
    box(width: 66mm, height: 42mm, {
      place(center + horizon, align(center)[#d.issuing_archive \ #v(1.5mm) #d.issued_cn])
      place(center + horizon, if d.seal == none { demo-seal(d.issuing_archive) }
                              else { image(d.seal, width: 40mm, height: 40mm, fit: "contain") })
    })
    if d.seal == none {
      align(center, text(font: sans, size: 8pt, fill: seal-red)[演示印章，仅供演示，不具法律效力])
    }
  },
))
#metadata("certificate-end") <certificate-end>

// The certified copies, in order: an image fills a page of its own, fitted to A4, with a caption;
// each page of a PDF copy is a page of its size, the copy's page embedded whole behind the footer.
#let copy-footer(a) = {
  set text(font: sans, size: 8.5pt, fill: luma(90))
  align(center)[证明编号：#d.serial　附件 #a.number　#page-of]
}
#for a in d.attachments {
  if not a.pdf {
    page(margin: 12mm, header: none, footer: copy-footer(a), grid(rows: (auto, 1fr), row-gutter: 4mm,
      text(font: sans, size: 10pt)[附件 #a.number：#a.filename],
      align(center + horizon, image(a.file, width: 100%, height: 100%, fit: "contain"))))
  } else {
    for size in a.sizes {
      page(width: size.width * 1pt, height: size.height * 1pt, margin: (x: 4mm, top: 4mm, bottom: 7mm),
           header: none, background: image(a.file, page: size.page, width: 100%, height: 100%),
           footer: copy-footer(a), footer-descent: 2mm, [])
    }
  }
}
"""
