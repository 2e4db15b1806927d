"""Certificates from plain data: real rendering (Typst, Noto CJK), real keys and signatures."""
from __future__ import annotations

import io
import re
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from portal.certificates.document import CertificateContent, RecordLine, SearchAnswer
from portal.certificates.signing import init_keys

ARCHIVES = [("450100", "南宁市档案馆"), ("451202", "河池市金城江区档案馆")]
FULL_ID = "451202194703160622"
VERIFY_URL = "https://dangan.example.cn/verify?serial=450100-2026-000001&code=AB12CD34"


def found_content(**changes) -> CertificateContent:
    content = CertificateContent(
        kind="found", serial="450100-2026-000001", code="AB12CD34", verify_url=VERIFY_URL,
        issuing_archive="南宁市档案馆", issued_on=date(2026, 11, 21), subject_name="韦秀英",
        subject_id_masked="4512**********0622", purpose="办理养老保险或退休",
        records=(
            RecordLine("南宁市档案馆", "J045-2-1998-0012", "韦秀英、李建国结婚登记审查处理表", "1998-05-12",
                       date(2026, 11, 18),
                       note="经核实，韦秀英与李建国于1998年5月12日在南宁市青秀区民政局登记结婚，内容与原件一致。"),
            RecordLine("河池市档案馆", "Z012-1-1976-0345", "河池县知青招工登记表", "1976", date(2026, 11, 19)),
            RecordLine("河池市金城江区档案馆", "L3-1983-0077", "金城江区土地承包合同（韦秀英户）", "1983-03",
                       date(2026, 11, 20), note="承包土地3.2亩，期限十五年。"),
        ))
    return replace(content, **changes)


def not_found_content(**changes) -> CertificateContent:
    content = CertificateContent(
        kind="not_found", serial="451202-2026-000042", code="ZX98QW76",
        verify_url="https://dangan.example.cn/verify?serial=451202-2026-000042&code=ZX98QW76",
        issuing_archive="河池市金城江区档案馆", issued_on=date(2026, 1, 5), subject_name="覃建军",
        subject_id_masked="4512**********1234", purpose="继承",
        searched_categories=("婚姻登记", "土地承包"), searched_years="1980—1990", searched_place="河池市金城江区",
        answers=(SearchAnswer("河池市金城江区档案馆", "未找到（已查 1980—1990 年全部婚姻登记案卷）"),
                 SearchAnswer("河池市档案馆", "未找到相关记录")))
    return replace(content, **changes)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def compact(text: str) -> str:
    """Text without whitespace: a wrapped line or a cell's line break is not a change of wording."""
    return re.sub(r"\s+", "", text)


def page_png(pdf: bytes, page: int = 1, dpi: int = 150) -> bytes:
    return subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-"],
                          input=pdf, capture_output=True, check=True, timeout=60).stdout


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("keys")
    init_keys(path, ARCHIVES)
    return path


@pytest.fixture(scope="session")
def other_ca_dir(tmp_path_factory) -> Path:
    """Another CA, with a key for the same archive code: same names, different trust."""
    path = tmp_path_factory.mktemp("other-keys")
    init_keys(path, ARCHIVES[:1])
    return path
