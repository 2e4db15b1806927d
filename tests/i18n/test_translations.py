"""The English catalog: complete, in step with the code, placeholders intact, and actually used by the app."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.core.categories import ACCESS_LEVELS, CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "portal" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# The same command as in the README / the lead's instructions (babel.cfg lists the files).
EXTRACT = ["--quiet", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location"]
# %(name)s-style and bare %s/%d placeholders; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")


def _read(path: Path):
    with path.open("rb") as f:
        return read_po(f, locale="en")


def _messages(catalog):
    """The real entries: no header, no obsolete (#~) ones, ids as plain strings."""
    return [m for m in catalog if m.id]


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="session")
def catalog():
    return _read(PO)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalog(catalog):
    """The .mo is git-ignored (`make setup` builds it): compile it here so the app tests use the current .po."""
    tmp = MO.with_name(f".messages.mo.{os.getpid()}")
    with tmp.open("wb") as f:
        write_mo(f, catalog)
    os.replace(tmp, MO)  # atomic: a concurrently starting app never sees half a file
    return MO


def test_every_message_is_translated_and_none_is_fuzzy(catalog):
    messages = _messages(catalog)
    assert len(messages) > 100
    untranslated = [m.id for m in messages if not (m.string or "").strip()]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not untranslated, f"untranslated msgids: {untranslated}"
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not any(isinstance(m.id, tuple) for m in messages), "plural entries need a test of their own"


def test_msgstrs_are_english(catalog):
    # Chinese may remain inside a msgstr (sample queries, values a CSV file may contain), but each one is English.
    copied = [m.id for m in _messages(catalog) if m.string == m.id or not re.search(r"[A-Za-z]{2}", m.string)]
    assert not copied


def test_fresh_extraction_has_nothing_missing_from_the_catalog(catalog, tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *EXTRACT, "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True, text=True)
    extracted = {m.id for m in _messages(_read(pot))}
    assert len(extracted) > 100  # the extraction really ran over the templates and the code
    translated = {m.id for m in _messages(catalog)}
    missing = sorted(extracted - translated, key=str)
    assert not missing, (f"strings not in {PO.relative_to(ROOT)}: {missing} — run pybabel extract/update "
                         "(see tests/i18n) and translate them")


def test_dynamic_labels_are_translated(catalog):
    """Categories and access levels are rendered as _(label), so extraction cannot find them."""
    translated = {m.id: m.string for m in _messages(catalog)}
    for label in [*CATEGORIES.values(), *ACCESS_LEVELS.values()]:
        assert translated.get(label, "").strip(), f"no English for the label {label!r}"


def test_placeholders_match(catalog):
    for m in _messages(catalog):
        assert _placeholders(m.string) == _placeholders(m.id), m.id
        # Jinja's newstyle gettext always applies "%" formatting: a stray % would break the page.
        rest = PLACEHOLDER.sub("", m.string).replace("%%", "")
        assert "%" not in rest, m.id
        # Chinese needs no space after 。？：, English does when the template glues the next text on.
        trailing_ok = m.id.endswith(("。", "？", "：")) and m.string.endswith(" ") and not m.string.endswith("  ")
        assert m.string == m.string.strip() or (m.string.lstrip() == m.string and trailing_ok), repr(m.string)


def test_english_home_page(client):
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "<title>Archive Access Portal</title>" in page
    assert "Find and use livelihood records" in page and "How to request records" in page
    for label in ("Land contracts", "Marriage registration", "Forest rights"):  # dynamic _(label)
        assert label in page
    assert "档案利用服务平台" not in page and ">婚姻登记<" not in page
    assert 'lang="zh-CN">中文</a>' in page  # the way back


def test_chinese_is_the_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "<title>档案利用服务平台</title>" in page and "婚姻登记" in page
    assert "Archive Access Portal" not in page and "Land contracts" not in page


def test_english_login_form(client):
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "<h1>Log in</h1>" in page
    assert ">Email</label>" in page and ">Password</label>" in page
    assert "No account yet? " in page and "Register with your real name" in page
    assert "邮箱" not in page and "密码" not in page


def test_english_validation_messages(client):
    client.get("/?lang=en")
    page = client.post("/register", data={}).get_data(as_text=True)  # CSRF is on: that error page is English too
    assert '<html lang="en">' in page
    assert re.search(r"[\u4e00-\u9fff]{2,}", page.replace("中文", "")) is None


def test_english_record_page(client, factory):
    record = factory.record(factory.archive(), category="land_contract")
    page = client.get(f"/records/{record.archive.code}/{record.reference_code}?lang=en").get_data(as_text=True)
    assert "<dt>Reference code</dt>" in page
    assert "<dd>Land contracts</dd>" in page and "<dd>Open</dd>" in page


def test_english_error_page(client):
    response = client.get("/no-such-page?lang=en")
    assert response.status_code == 404
    assert "This page does not exist" in response.get_data(as_text=True)
