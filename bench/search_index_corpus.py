"""Deterministic synthetic livelihood-record corpus for benchmarks and demos.

Shaped like the real thing where it matters for search cost: ~10% marriage
registrations (so 婚姻 matches ~10% of documents), Zipf-like surnames, a few
dozen archives, years 1950–2020, 80% open records, masked names in titles and
the full name only in ``subject_name``.  Nothing here is real personal data.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

# code, label, weight, title templates, summary template
CATEGORIES: list[tuple[str, str, int, tuple[str, ...], str]] = [
    ("marriage", "婚姻登记", 10, ("{m}与{m2}结婚登记", "{m}与{m2}离婚登记", "{m}补办结婚证申请"),
     "{y}年{mo}月在{place}民政部门办理婚姻登记，当事人{m}，证件编号{n}。"),
    ("land", "土地房产", 9, ("{m}土地房产所有证存根", "{place}土地房产所有证登记表（{m}）"),
     "{place}{m}户土地房产所有证存根，面积{n}平方米，{y}年颁发。"),
    ("social", "社会保险", 9, ("{m}社会保险缴费记录", "{m}养老保险待遇核定表"),
     "{m}在{place}参加社会保险，{y}年起缴费，累计{n}个月。"),
    ("medical", "医疗保险", 8, ("{m}医疗保险报销档案", "{m}合作医疗参合登记"),
     "{y}年{m}医疗保险报销材料，就诊于{place}卫生院，金额{n}元。"),
    ("subsistence", "最低生活保障", 7, ("{m}最低生活保障审批表", "{place}低保户{m}年审材料"),
     "{place}{m}家庭申请最低生活保障，{y}年审批通过，月保障金{n}元。"),
    ("demolition", "征地拆迁", 7, ("{place}征地拆迁补偿协议（{m}）", "{m}房屋拆迁安置登记"),
     "{y}年{place}建设项目征地拆迁，{m}户获补偿{n}元并安置。"),
    ("school", "学籍档案", 8, ("{m}学籍档案", "{place}中学{y}届毕业生{m}学籍表"),
     "{m}于{y}年入学{place}中学，学籍号{n}，成绩登记表一份。"),
    ("employment", "招工就业", 7, ("{m}招工录用审批表", "{m}就业登记卡"),
     "{y}年{place}招工，{m}被录用为全民所有制职工，工号{n}。"),
    ("forest", "林权", 5, ("{m}林权证存根", "{place}集体林权制度改革档案（{m}）"),
     "{place}{m}户林权证，林地面积{n}亩，{y}年登记。"),
    ("housing", "房改房产", 6, ("{m}房改购房审批表", "{place}公有住房出售档案（{m}）"),
     "{y}年{place}房改，{m}购买公有住房，建筑面积{n}平方米。"),
    ("veteran", "退役安置", 6, ("{m}退伍军人安置登记", "{m}复员转业安置档案"),
     "{m}于{y}年退役，安置到{place}工作，档案编号{n}。"),
    ("land_contract", "土地承包经营权", 8, ("{m}土地承包经营权证", "{place}农村土地承包合同（{m}）"),
     "{place}{m}户土地承包经营权登记，承包耕地{n}亩，{y}年签订。"),
    ("adoption", "收养登记", 3, ("{m}收养登记档案",),
     "{y}年{place}民政部门办理收养登记，收养人{m}，登记号{n}。"),
    ("pension", "养老保险", 3, ("{m}城乡居民养老保险登记",),
     "{m}{y}年参加{place}城乡居民养老保险，缴费档次{n}元。"),
]

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
            "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉海燕云飞鹏"
         "辉斌宇浩凯晓东文林春梅雪婷晨阳丹亮成龙凤琴兵新福德荣贵宝山水清利")

PREFECTURES = [
    ("4512", "河池市", ["金城江区", "宜州区", "南丹县", "天峨县", "凤山县", "东兰县", "罗城仫佬族自治县",
                       "环江毛南族自治县", "巴马瑶族自治县", "都安瑶族自治县", "大化瑶族自治县"]),
    ("4501", "南宁市", ["兴宁区", "青秀区", "江南区", "西乡塘区", "良庆区", "邕宁区", "武鸣区", "隆安县",
                       "马山县", "上林县", "宾阳县", "横州市"]),
    ("4502", "柳州市", ["城中区", "鱼峰区", "柳南区", "柳北区", "柳江区", "柳城县", "鹿寨县", "融安县",
                       "融水苗族自治县", "三江侗族自治县"]),
    ("4503", "桂林市", ["秀峰区", "叠彩区", "象山区", "七星区", "雁山区", "临桂区", "阳朔县", "灵川县",
                       "全州县", "兴安县", "永福县", "灌阳县", "龙胜各族自治县", "资源县", "平乐县", "荔浦市",
                       "恭城瑶族自治县"]),
]
TOWNS = ("城关镇", "东风乡", "新华街道", "红旗村", "和平乡", "光明村", "胜利街道", "长乐镇", "石门村",
         "龙江乡", "板桥村", "大河镇", "六甲镇", "拔贡镇", "保平乡")


def archives() -> list[tuple[str, str]]:
    out = []
    for prefix, city, counties in PREFECTURES:
        out.append((prefix + "00", f"{city}档案馆"))
        for i, county in enumerate(counties, start=1):
            out.append((f"{prefix}{i:02d}", f"{city}{county}档案馆"))
    return out


# Zipf-like surname weights: 王/李/张 each ~6–7%, as in the census.
_SURNAME_WEIGHTS = list(itertools.accumulate(1 / (rank + 2) for rank in range(len(SURNAMES))))


def person(rng: random.Random) -> str:
    surname = rng.choices(SURNAMES, cum_weights=_SURNAME_WEIGHTS)[0]
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def mask(name: str) -> str:
    return name[0] + "*" * (len(name) - 2) + name[-1] if len(name) > 2 else name[0] + "*"


def generate(n: int, seed: int = 42) -> Iterator[dict]:
    rng = random.Random(seed)
    arcs = archives()
    cats = [c for c in CATEGORIES for _ in range(c[2])]
    for i in range(n):
        code, label, _, titles, summary = rng.choice(cats)
        arc_code, arc_name = rng.choice(arcs)
        counties = next(cs for p, _, cs in PREFECTURES if arc_code.startswith(p))
        place = rng.choice(counties) + rng.choice(TOWNS)
        year = min(2020, 1950 + int(rng.triangular(0, 71, 35)))
        name, other = person(rng), person(rng)
        fill = {"m": mask(name), "m2": mask(other), "place": place, "y": year,
                "mo": rng.randint(1, 12), "n": rng.randint(100, 99999)}
        roll = rng.random()
        yield {
            "id": f"r{i:07d}",
            "reference_code": f"{arc_code}-{code[:1].upper()}{rng.randint(1, 99):03d}-{year}-{i % 10000:04d}",
            "title": rng.choice(titles).format(**fill),
            "category": code,
            "category_label": label,
            "archive_code": arc_code,
            "archive_name": arc_name,
            "year": year,
            "place": place,
            "summary": summary.format(**fill),
            "subject_name": name,
            "subject_mask": mask(name),
            "access_level": "open" if roll < 0.8 else ("restricted" if roll < 0.95 else "closed"),
        }
