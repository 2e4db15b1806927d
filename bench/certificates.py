"""Benchmark: render and sign one certificate, as issuing does.

The certificate: 档案查询结果证明 with 3 records, a one-page PDF certified copy and a JPEG
certified copy (a 200 dpi A4 scan, about 400 KB), the demo seal; signed with a development key
(RSA 2048, PAdES). Warm-up rounds first (the first call reads the CJK font collections and the
key), then N timed rounds of render + sign, each from the plain data to the signed bytes.
Writes p50 / p95 / max into docs/benchmarks.md between the `certificates` markers, and exits 1
when p95 is over the target.

    .venv/bin/python bench/certificates.py                 # 50 rounds after 3 warm-ups
    .venv/bin/python bench/certificates.py --rounds 200 --no-write
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from datetime import date
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402
from pypdf import PdfWriter  # noqa: E402

from bench.common import cpu_model, replace_section  # noqa: E402
from portal.certificates.document import Attachment, CertificateContent, RecordLine  # noqa: E402
from portal.certificates.pdf import render  # noqa: E402
from portal.certificates.signing import check, init_keys, load_signer, sign, trust_roots  # noqa: E402

TARGET_MS = 300
TARGET = f"Target: render + sign one certificate (3 records, a one-page PDF and a JPEG copy) at p95 ≤ {TARGET_MS} ms on 2 cores, after warm-up."


def scan_jpeg() -> bytes:
    """An A4 page scanned at 200 dpi: paper tone, lines of "text", some noise. About 400 KB."""
    width, height = 1654, 2339
    page = Image.new("L", (width, height), 235)
    draw = ImageDraw.Draw(page)
    for y in range(260, height - 260, 70):
        draw.rectangle((180, y, width - 180 - (y * 7) % 400, y + 28), fill=60)
    noise = Image.effect_noise((width, height), 18)
    page = Image.blend(page, noise, 0.15).convert("RGB")
    out = BytesIO()
    page.save(out, format="JPEG", quality=85)
    return out.getvalue()


def one_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def content() -> CertificateContent:
    return CertificateContent(
        kind="found", serial="450100-2026-000001", code="AB12CD34",
        verify_url="https://dangan.example.cn/verify?serial=450100-2026-000001&code=AB12CD34",
        issuing_archive="南宁市档案馆", issued_on=date(2026, 11, 21), subject_name="韦秀英",
        subject_id_masked="4512**********0622", purpose="办理养老保险或退休",
        records=(
            RecordLine("南宁市档案馆", "J045-2-1998-0012", "韦秀英、李建国结婚登记审查处理表", "1998-05-12",
                       verified_on=date(2026, 11, 19),
                       note="韦秀英与李建国于1998年5月12日在南宁市青秀区民政局登记结婚。"),
            RecordLine("河池市档案馆", "Z012-1-1976-0345", "河池县知青招工登记表", "1976", verified_on=date(2026, 11, 20)),
            RecordLine("河池市金城江区档案馆", "L3-1983-0077", "金城江区土地承包合同（韦秀英户）", "1983-03",
                       verified_on=date(2026, 11, 20)),
        ),
        attachments=(Attachment("结婚登记审查处理表.pdf", one_page_pdf()), Attachment("结婚证存根.jpg", scan_jpeg())),
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print, do not update docs/benchmarks.md")
    args = parser.parse_args()
    command = " ".join(shlex.quote(a) for a in [os.path.relpath(sys.executable, ROOT), "bench/certificates.py",
                                                *sys.argv[1:]])
    data = content()
    with tempfile.TemporaryDirectory() as keys:
        keys_dir = Path(keys)
        init_keys(keys_dir, [("450100", "南宁市档案馆")])
        started = time.perf_counter()
        first = sign(render(data), load_signer(keys_dir, "450100"))
        first_ms = (time.perf_counter() - started) * 1000
        result = check(first, trust_roots(keys_dir))
        if not result.trusted:
            sys.exit(f"the signed certificate does not check: {result}")
        for _ in range(max(0, args.warmup - 1)):
            sign(render(data), load_signer(keys_dir, "450100"))
        total, rendering, signing = [], [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            unsigned = render(data)
            t1 = time.perf_counter()
            signed = sign(unsigned, load_signer(keys_dir, "450100"))
            t2 = time.perf_counter()
            rendering.append((t1 - t0) * 1000)
            signing.append((t2 - t1) * 1000)
            total.append((t2 - t0) * 1000)
    p95 = percentile(total, 0.95)
    ok = p95 <= TARGET_MS
    lines = [
        f"Machine: {os.cpu_count()} CPUs (`nproc`), {cpu_model()}; Python {platform.python_version()}. "
        f"Command: `{command}`. {args.rounds} rounds after {args.warmup} warm-ups; signed PDF {len(signed) / 1024:.0f} KB "
        f"({len(data.attachments[1].data) / 1024:.0f} KB of it the JPEG).",
        "",
        TARGET,
        "",
        "| step | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for name, values in (("render (Typst, the copies embedded whole)", rendering),
                         ("sign (pyHanko, RSA 2048)", signing),
                         ("render + sign", total)):
        mark = "" if name != "render + sign" or ok else " ❌"
        lines.append(f"| {name} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} | "
                     f"{max(values):.1f}{mark} |")
    lines += ["", f"First call in a fresh process (fonts scanned, key loaded): {first_ms:.0f} ms."]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        replace_section(ROOT / "docs" / "benchmarks.md", "certificates", "### Certificates", text)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
