"""Text a database stores: PostgreSQL refuses a NUL in text, and a lone surrogate is not UTF-8.
What a person or a peer sends is checked with these before it reaches a column."""
from __future__ import annotations


def clean_text(value: str) -> bool:
    """No NUL (PostgreSQL refuses it in text) and no lone surrogates (not encodable as UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean_json(value) -> bool:
    """Every text of a JSON value clean (clean_text), keys too, however deep (no recursion)."""
    left = [value]
    while left:
        value = left.pop()
        if isinstance(value, dict):
            left.extend(value.keys())
            left.extend(value.values())
        elif isinstance(value, list):
            left.extend(value)
        elif isinstance(value, str) and not clean_text(value):
            return False
    return True
