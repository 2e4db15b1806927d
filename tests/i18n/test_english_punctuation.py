"""English pages speak English punctuation: no full-width marks (，。：；（）《》、) in any English
string, neither in the catalog's translations nor in the text templates put between them."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal.core.punctuation import paren, punct

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "portal" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
TEMPLATES = ROOT / "templates"
# CJK symbols and punctuation (、。《》「」…) and the full-width forms (，：；（）！？…).
FULL_WIDTH = re.compile(r"[\u3000-\u303f\uff00-\uffef]")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def _text(message) -> str:
    return message.string if isinstance(message.string, str) else "".join(message.string)


def test_no_english_translation_uses_full_width_punctuation():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    offenders = [(m.id, _text(m)) for m in catalog if m.id and FULL_WIDTH.search(_text(m))]
    assert not offenders, "\n".join(f"{msgid!r} → {text!r}" for msgid, text in offenders)


def _literal_text(path: Path):
    """(line, text) of what a template writes outside {{ }}, {% %} and {# #}: shown in every language."""
    blanked = JINJA.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), path.read_text(encoding="utf-8"))
    for number, line in enumerate(blanked.splitlines(), 1):
        yield number, line


def test_templates_put_no_full_width_punctuation_between_translated_strings():
    """A literal "（" or "：" in a template shows on English pages too: use `| paren` or `punct()`
    (portal.core.punctuation), or put the mark inside the translated sentence."""
    offenders = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                 for path in sorted(TEMPLATES.rglob("*.html")) for number, line in _literal_text(path)
                 if FULL_WIDTH.search(line)]
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("lang, expected_paren, expected_colon", [
    ("zh", "档案馆（A01）", "代为查找：婚姻"),
    ("en", "Archive (A01)", "Search: marriage"),
])
def test_joints_follow_the_page_language(app, lang, expected_paren, expected_colon):
    first, label = ("档案馆", "代为查找") if lang == "zh" else ("Archive", "Search")
    value = "婚姻" if lang == "zh" else "marriage"
    with app.test_request_context(f"/?lang={lang}"):
        assert first + paren("A01") == expected_paren
        assert label + punct("colon") + value == expected_colon
        assert paren("<b>") .endswith("&lt;b&gt;" + punct("close"))  # text is escaped, not markup


# Lists joined with a full-width mark end up in English pages and messages too. The certificate
# (a Chinese document) and the command line (which speaks Chinese) may.
CHINESE_ONLY = {"portal/certificates/pdf.py", "portal/certificates/service.py"}


def test_lists_are_joined_in_the_page_language():
    joined = re.compile(r"""join\(\s*["'][\u3000-\u303f\uff00-\uffef]["']|["'][\u3000-\u303f\uff00-\uffef]["']\.join""")
    offenders = []
    for path in sorted([*TEMPLATES.rglob("*.html"), *(ROOT / "portal").rglob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative in CHINESE_ONLY or relative.endswith("cli.py"):
            continue
        offenders += [f"{relative}:{n}: {line.strip()}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                      if joined.search(line)]
    assert not offenders, "use punct('list') / punct('semicolon'):\n" + "\n".join(offenders)
