"""How personal data looks to people who may not see it in full."""
from __future__ import annotations


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


def mask_name_in(text: str | None, name: str | None) -> str:
    """Titles and summaries sometimes quote the subject's name; mask it there too."""
    if not text or not name or len(name.strip()) < 2:
        return text or ""
    return text.replace(name.strip(), mask_name(name))
