"""Punctuation around text put together from pieces: full-width in Chinese, ASCII with its spaces
in English (a page in English must not show "，" or "（"). Translated sentences carry their own
punctuation; this is for the joints between a label, a value, a remark and the items of a list."""
from __future__ import annotations

from flask_babel import get_locale
from markupsafe import Markup, escape


PUNCTUATION = {
    "zh": {"colon": "：", "semicolon": "；", "comma": "，", "list": "、", "open": "（", "close": "）"},
    "en": {"colon": ": ", "semicolon": "; ", "comma": ", ", "list": ", ", "open": " (", "close": ")"},
}


def punct(name: str) -> str:
    """The punctuation mark `name` in the page's language (e.g. `punct('colon')`)."""
    locale = get_locale()
    return PUNCTUATION["en" if locale is not None and locale.language == "en" else "zh"][name]


def paren(text) -> Markup:
    """`text` in brackets, as the page's language writes them: 「（text）」 or 「 (text)」."""
    return Markup(punct("open")) + escape(text) + Markup(punct("close"))
