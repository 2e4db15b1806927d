"""The fixed list of livelihood-record categories: canonical code → Chinese label."""
from __future__ import annotations

from portal.core.i18n import N_


CATEGORIES: dict[str, str] = {
    "land_contract": N_("土地承包"),
    "marriage": N_("婚姻登记"),
    "social_insurance": N_("社会保险"),
    "medical_insurance": N_("医疗保险"),
    "subsistence": N_("最低生活保障"),
    "land_acquisition": N_("征地拆迁"),
    "housing": N_("房改房产"),
    "education": N_("学籍"),
    "employment": N_("招工就业"),
    "veterans": N_("退役安置"),
    "forest_rights": N_("林权"),
}

ACCESS_LEVELS: dict[str, str] = {"open": N_("开放"), "restricted": N_("限制利用"), "closed": N_("控制使用")}


def category_label(code: str) -> str:
    return CATEGORIES.get(code, code)
