"""What people who may not see personal data see instead."""
from __future__ import annotations

import pytest

from portal.core.masking import mask_id_number, mask_name, mask_personal_text


@pytest.mark.parametrize(("name", "masked"), [
    ("张", "*"),
    ("张三", "张*"),
    ("张三丰", "张*丰"),
    ("欧阳小五", "欧**五"),
    (" 李四 ", "李*"),
    ("", ""),
    (None, ""),
])
def test_name_keeps_only_first_and_last_character(name, masked):
    assert mask_name(name) == masked


def test_id_number_keeps_region_and_last_four():
    assert mask_id_number("451200196503121234") == "451200********1234"
    assert mask_id_number("45120019650312123X") == "451200********123X"


@pytest.mark.parametrize(("value", "masked"), [("", ""), (None, ""), ("1234567890", "**********")])
def test_short_or_missing_id_number_is_fully_hidden(value, masked):
    assert mask_id_number(value) == masked


def test_name_quoted_in_text_is_masked_everywhere():
    assert mask_personal_text("张三丰与李四结婚登记；张三丰户籍", "张三丰") == "张*丰与李四结婚登记；张*丰户籍"


def test_single_character_name_is_not_masked_in_text():
    # Starring every 张 in a title would mangle unrelated words.
    assert mask_personal_text("张家村土地承包", "张") == "张家村土地承包"


@pytest.mark.parametrize(("text", "name", "expected"), [
    (None, "张三", ""),
    ("结婚登记", None, "结婚登记"),
    ("结婚登记", "", "结婚登记"),
])
def test_missing_text_or_name_leaves_text_as_is(text, name, expected):
    assert mask_personal_text(text, name) == expected


def test_name_written_in_traditional_characters_is_masked_too():
    assert mask_personal_text("韋秀英結婚登記審查處理表", "韦秀英") == "韋*英結婚登記審查處理表"


@pytest.mark.parametrize(("text", "expected"), [
    ("申请人身份证 451202196208154817 一份", "申请人身份证 451202********4817 一份"),
    ("旧证号451202620815481，已换领", "旧证号451202*****5481，已换领"),
    ("证号45120219620815481x。", "证号451202********481x。"),
])
def test_id_numbers_quoted_in_text_are_masked(text, expected):
    assert mask_personal_text(text, "") == expected


def test_longer_digit_runs_and_reference_codes_are_left_alone():
    text = "档号 J032-1985-0147，账号 62220219620815481700"
    assert mask_personal_text(text, "") == text
