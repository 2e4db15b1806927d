"""How personal data looks to people who may not see it in full."""
from __future__ import annotations

import functools
import re

from opencc import OpenCC

# An ID number quoted in free text: 18 characters (GB 11643) or the old 15-digit form.
_ID_IN_TEXT = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")


def mask_id_number(value: str | None) -> str:
    """451200********1234: region kept (it says which archive), birth date and sequence hidden."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(name: str | None) -> str:
    """张* / 张*三 / 欧**五: first and last character kept, the rest starred."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@functools.lru_cache(maxsize=1)
def _converters() -> tuple[OpenCC, OpenCC]:
    return OpenCC("s2t"), OpenCC("t2s")


@functools.lru_cache(maxsize=65536)
def _spellings(name: str) -> tuple[str, ...]:
    """The name as stored and in the other script: files before 1956 write 韦秀英 as 韋秀英."""
    s2t, t2s = _converters()
    return tuple(dict.fromkeys((name, s2t.convert(name), t2s.convert(name))))


def same_name(a: str | None, b: str | None) -> bool:
    """The same person's name, whichever script each was written in."""
    a, b = (a or "").strip(), (b or "").strip()
    return bool(a) and bool(b) and (a == b or b in _spellings(a))


def mask_personal_text(text: str | None, name: str | None) -> str:
    """Free text (a title, a summary) as the public may read it: the subject's name masked in
    either script, and any ID number quoted in it masked."""
    text = text or ""
    name = (name or "").strip()
    if len(name) >= 2:
        for spelling in _spellings(name):
            if spelling in text:
                text = text.replace(spelling, mask_name(spelling))
    return _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)


# Phone numbers quoted in free text: mainland mobiles (11 digits from 13x-19x, optionally +86 or
# split 3-4-4) and landlines (an area code 0xx or 0xxx, a dash or space or none, 7-8 digits).
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9*])((?:\+?86[- ]?)?1[3-9][0-9])[- ]?([0-9]{4})[- ]?([0-9]{4})(?![0-9])")
_LANDLINE_IN_TEXT = re.compile(r"(?<![0-9*])(0[1-9][0-9]{1,2})([- ]?)([0-9]{7,8})(?![0-9])")


def mask_contact_text(text: str | None) -> str:
    """Text read from a digitized copy as it may be stored and indexed: every ID number
    (451200********1234), mobile number (138****5678) and landline number (0778-********) in it
    masked. Runs before anything else sees the text, so the full numbers are never kept."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text or "")
    text = _MOBILE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE_IN_TEXT.sub(lambda m: m.group(1) + m.group(2) + "*" * len(m.group(3)), text)
