"""Highlighting finds a needle at the right place in the original text, whatever normalisation did
to the characters before it (full-width punctuation, traditional script, characters that become
several, or none)."""
from __future__ import annotations

import pytest

from search_index.text import highlight, match_spans


@pytest.mark.parametrize(("text", "needle", "marked"), [
    ("婚姻登记（1985年），结婚证存根", "结婚", "结婚"),  # full-width punctuation: not NFKC, one to one
    ("婚姻登記（1985年）", "登记", "登記"),  # traditional script in the text
    ("ＡＢＣ村土地承包", "abc", "ＡＢＣ"),  # full-width letters, upper case
    ("㈱公司土地", "土地", "土地"),  # one character becomes three: positions after it shift
    ("İstanbul 婚姻", "婚姻", "婚姻"),  # lower() makes two characters of one
])
def test_the_mark_covers_the_matching_characters_of_the_original(text, needle, marked):
    spans = match_spans(text, [needle])
    assert [text[s:e] for s, e in spans] == [marked]


def test_highlight_marks_and_escapes():
    assert highlight("<b>婚姻</b>（登記）", None, ["登记"]) == "&lt;b&gt;婚姻&lt;/b&gt;（<mark>登記</mark>）"
