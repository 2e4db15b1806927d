"""Resident ID numbers (居民身份证号码, GB 11643-1999): 6-digit region, 8-digit birth date,
3-digit sequence and an ISO 7064 MOD 11-2 check character."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# First two digits: the provinces, autonomous regions and municipalities of GB/T 2260.
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
}
# ASCII digits only: \d would also accept Arabic-Indic and other digits that int() reads.
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


class InvalidIdNumber(ValueError):
    """Says, in Chinese, what is wrong with the number."""


def check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def with_check_character(first17: str) -> str:
    """A whole ID number from its first 17 digits (demo data and tests make them)."""
    return first17 + check_character(first17)


def normalize_id_number(raw: str, today: date | None = None) -> str:
    """Return the canonical form (upper-case X) or raise InvalidIdNumber with the reason."""
    # NFKC turns full-width digits, Ｘ and the ideographic space (common from Chinese input methods) into ASCII.
    value = unicodedata.normalize("NFKC", raw or "").strip().replace(" ", "").upper()
    if not value:
        raise InvalidIdNumber(_l("请填写身份证号码"))
    if len(value) != 18:
        raise InvalidIdNumber(_l("身份证号码应为 18 位"))
    if not _SHAPE.match(value):
        raise InvalidIdNumber(_l("身份证号码前 17 位应为数字，最后一位为数字或 X"))
    if value[:2] not in _PROVINCES:
        raise InvalidIdNumber(_l("身份证号码的地区代码不正确"))
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber(_l("身份证号码中的出生日期不存在")) from None
    if born.year < 1900 or born > (today or date.today()):
        raise InvalidIdNumber(_l("身份证号码中的出生日期不合理"))
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumber(_l("身份证号码校验位不正确，请核对"))
    return value


def is_valid_id_number(raw: str) -> bool:
    try:
        normalize_id_number(raw)
    except InvalidIdNumber:
        return False
    return True


def birth_date(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
