"""The fixed list of livelihood-record categories: canonical code → Chinese label."""
from __future__ import annotations

CATEGORIES: dict[str, str] = {
    "land_contract": "土地承包",
    "marriage": "婚姻登记",
    "social_insurance": "社会保险",
    "medical_insurance": "医疗保险",
    "subsistence": "最低生活保障",
    "land_acquisition": "征地拆迁",
    "housing": "房改房产",
    "education": "学籍",
    "employment": "招工就业",
    "veterans": "退役安置",
    "forest_rights": "林权",
}

ACCESS_LEVELS: dict[str, str] = {"open": "开放", "restricted": "限制利用", "closed": "控制使用"}


def category_label(code: str) -> str:
    return CATEGORIES.get(code, code)
