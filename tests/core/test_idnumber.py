"""Resident ID numbers: GB 11643 shape, region, birth date and MOD 11-2 check character."""
from __future__ import annotations

import re
from datetime import date

import pytest

from portal.core.idnumber import InvalidIdNumber, birth_date, check_character, is_valid_id_number, normalize_id_number
from tests.factories import make_id_number

CJK = re.compile(r"[\u4e00-\u9fff]")


def _with_x_check() -> str:
    """A valid number whose check character is X."""
    for seq in range(1000):
        first17 = f"11010519491231{seq:03d}"
        if check_character(first17) == "X":
            return first17 + "X"
    raise AssertionError("no sequence gives X")


def _reason(raw: str, today: date | None = None) -> str:
    with pytest.raises(InvalidIdNumber) as exc:
        normalize_id_number(raw, today=today)
    message = str(exc.value.args[0])
    assert CJK.search(message), f"message is not Chinese: {message!r}"
    return message


@pytest.mark.parametrize("number", [
    make_id_number(),
    make_id_number(region="110105", born="19491001", seq=1),
    make_id_number(region="820000", born="20000229", seq=999),  # a leap day
    _with_x_check(),
])
def test_valid_number_is_accepted_unchanged(number):
    assert normalize_id_number(number) == number
    assert is_valid_id_number(number)


def test_lowercase_x_is_accepted_and_normalized_to_upper_case():
    number = _with_x_check()
    assert normalize_id_number(number.lower()) == number


def test_surrounding_and_inner_spaces_are_trimmed():
    number = make_id_number()
    spaced = f"  {number[:6]} {number[6:14]} {number[14:]}  "
    assert normalize_id_number(spaced) == number


def test_wrong_check_character_is_rejected():
    number = make_id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert "校验位" in _reason(wrong)
    assert not is_valid_id_number(wrong)


def test_birth_date_that_does_not_exist_is_rejected():
    first17 = "451202" + "19990230" + "123"
    assert "出生日期不存在" in _reason(first17 + check_character(first17))


def test_birth_date_in_the_future_is_rejected():
    number = make_id_number(born="20300101")
    assert "出生日期不合理" in _reason(number, today=date(2026, 1, 1))


def test_birth_date_before_1900_is_rejected():
    assert "出生日期不合理" in _reason(make_id_number(born="18991231"))


@pytest.mark.parametrize("raw", ["45120219650312123", "4512021965031212345", "451202"])
def test_wrong_length_is_rejected(raw):
    assert "18 位" in _reason(raw)


@pytest.mark.parametrize("raw", ["45120219650A12123X", "X51202196503121234", "4512021965031212X4"])
def test_letters_anywhere_but_the_last_place_are_rejected(raw):
    assert "前 17 位应为数字" in _reason(raw)


@pytest.mark.parametrize("region", ["991202", "001202", "191202"])
def test_unknown_province_code_is_rejected(region):
    assert "地区代码" in _reason(make_id_number(region=region))


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_empty_number_asks_for_one(raw):
    assert "请填写" in _reason(raw)


def test_birth_date_is_read_from_the_number():
    assert birth_date(make_id_number(born="19650312")) == date(1965, 3, 12)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def test_full_width_digits_and_x_from_chinese_input_methods_become_ascii():
    number = _with_x_check()
    typed = _full_width(number[:17]) + "ｘ"
    assert normalize_id_number(typed) == number
    assert normalize_id_number(f"\u3000{number}\u3000") == number  # ideographic spaces


def test_non_ascii_digits_are_rejected():
    # int() reads Arabic-Indic digits, so without this check the "same" number would get another lookup hash.
    number = make_id_number()
    arabic_indic = number[:6] + "".join(chr(0x660 + int(c)) for c in number[6:17]) + number[17]
    assert "前 17 位应为数字" in _reason(arabic_indic)
