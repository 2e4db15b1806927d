"""Fixtures for the search_index contract suite, run against both backends.

The Meilisearch half needs a real server (``make test`` installs the binary
into .tools/).  Without it those tests are skipped, unless MEILI_REQUIRED=1,
which turns a missing server into a failure.
"""

from __future__ import annotations

import copy
import uuid

import pytest

from portal.core.masking import mask_name
from search_index import SearchIndex, open_index

# Keys the index's name tokens (search_index/names.py) in every test index.
NAME_SECRET = "name-secret-of-the-search-index-tests"
BACKENDS = ["embedded", pytest.param("meilisearch", marks=pytest.mark.meilisearch)]


def _doc(id, title, category, label, archive, year, *, summary="", name="", access="open",
         ref=None, place="金城江区", archive_name=None) -> dict:
    return {
        "id": id, "reference_code": ref or f"{archive}-{id}", "title": title, "category": category,
        "category_label": label, "archive_code": archive,
        "archive_name": archive_name or {"451200": "河池市档案馆", "451202": "宜州区档案馆",
                                         "450100": "南宁市档案馆"}[archive],
        "year": year, "place": place, "summary": summary, "subject_name": name, "subject_mask": mask_name(name),
        "access_level": access,
    }


# Full names deliberately never appear in titles or summaries (those arrive
# masked), so any name showing up in a hit is a leak.
DOCS = [
    _doc("m1", "张*明与李*红结婚登记", "marriage", "婚姻登记", "451200", 1985, ref="J012-1985-0031",
         summary="1985年在金城江区民政局办理结婚登记。", name="张晓明"),
    _doc("m2", "孫*華與趙*英結婚登記", "marriage", "婚姻登记", "451202", 1979,
         summary="宜州區民政局辦理，附結婚證存根。", name="孙建华", place="宜州区"),
    _doc("m3", "黄*玲离婚登记", "marriage", "婚姻登记", "451200", 1990, access="restricted",
         summary="离婚协议书一份。", name="黄美玲"),
    _doc("l1", "王*華土地房產所有證存根", "land", "土地房产", "451202", 1953,
         summary="宜州区土地改革时期颁发。", name="王建华", place="宜州区"),
    _doc("l2", "刘*强土地房产所有证登记表", "land", "土地房产", "451200", 1962,
         summary="金城江区土地房产所有证登记表。", name="刘志强"),
    _doc("h1", "陈*梅医疗保险报销档案", "medical", "医疗保险", "450100", 2005,
         summary="门诊费用报销凭证。", name="陈玉梅", place="青秀区"),
    _doc("h2", "赵*医保缴费记录", "medical", "医疗保险", "450100", 2010,
         summary="城镇职工缴费明细。", name="赵刚", place="青秀区"),
    _doc("s1", "吴*最低生活保障审批表", "subsistence", "最低生活保障", "451200", 2008,
         summary="家庭收入核查材料。", name="吴桂英"),
    _doc("v1", "郑*国退役安置登记", "veteran", "退役安置", "451202", 1976,
         summary="安置到宜州糖厂工作。", name="郑卫国", place="宜州区"),
    _doc("e1", "何*学籍档案", "school", "学籍档案", "451200", 1968,
         summary="档案内附<成绩单> & 毕业证明，注明曾用名。", name="何秀兰"),
    _doc("x1", "<b>特殊</b> & 字符标题", "school", "学籍档案", "450100", 1999,
         summary="标题含有需要转义的字符。", name="林小雨", place="青秀区"),
    _doc("c1", "周*收养登记档案", "adoption", "收养登记", "451200", 1995, access="closed",
         summary="收养登记证存根。", name="周文斌"),
    _doc("r1", "房屋拆迁补偿协议", "demolition", "征地拆迁", "450100", 2001,
         summary="旧城改造项目，补偿款已发放。", name="冯德荣", place="青秀区"),
    _doc("r2", "某村征地拆迁安置方案", "demolition", "征地拆迁", "450100", 2012,
         summary="集体土地征收。", name="冯宝山", place="青秀区"),
    # 山林 is in f2's title but only in f1's summary.
    _doc("f1", "冯*军林权证存根", "forest", "林权", "451202", 1983,
         summary="山林面积三十亩。", name="冯建军", place="宜州区"),
    _doc("f2", "集体山林承包合同", "forest", "林权", "451202", 1983,
         summary="合同附有四至图。", name="蒋立新", place="宜州区"),
]

OPEN = [d for d in DOCS if d["access_level"] == "open"]

# For words typed without spaces (东江镇结婚): kept apart from DOCS, whose
# counts other tests rely on.
JOINED = [
    _doc("t1", "结婚登记审查处理表", "marriage", "婚姻登记", "451200", 1987, ref="J012-0042",
         place="金城江区东江镇", summary="审查意见：同意登记。", name="覃志刚"),
    # Every character of 东江镇结婚 and 结婚登记, but none of the words.
    _doc("t2", "婚前财产结算登记清单", "marriage", "婚姻登记", "451200", 1987, ref="J012-0043",
         place="东兰县江南镇", summary="财产清单一份。", name="韦海燕"),
    # The joined words verbatim, in a document only some users may see.
    _doc("t3", "东江镇结婚登记汇总", "marriage", "婚姻登记", "451200", 1987, ref="J012-0044",
         place="金城江区东江镇", access="closed", summary="汇总表。", name="蓝秀英"),
]


# Full names joined to the document's words (王秀英结婚登记): names of two to four characters,
# common, rare and compound surnames, documents in either script.  Titles and summaries are
# masked, as the portal indexes them; the name is only in subject_name.
NAMED = [
    _doc("p1", "结婚登记审查处理表", "marriage", "婚姻登记", "451200", 1992, name="王秀英",
         summary="王*英与配偶共同申请结婚登记。"),
    _doc("p2", "结婚登记审查处理表", "marriage", "婚姻登记", "451200", 1993, name="王秀兰",
         summary="王*兰与配偶共同申请结婚登记。"),
    _doc("p3", "土地承包经营权合同", "land", "土地房产", "451202", 2001, name="李建国",
         summary="李*国户承包耕地五亩。", place="宜州区"),
    _doc("p4", "土地房產所有證存根", "land", "土地房产", "451202", 1953, name="張桂英",
         summary="宜州縣張*英戶土地房產所有證存根。", place="宜州区"),
    _doc("p5", "结婚登记审查处理表", "marriage", "婚姻登记", "450100", 1988, name="覃秀兰",
         summary="覃*兰结婚登记。", place="青秀区"),
    _doc("p6", "退役士兵安置审批表", "veteran", "退役安置", "451202", 1990, name="欧阳晓东",
         summary="欧**东退役后安置到宜州糖厂。", place="宜州区"),
    _doc("p7", "最低生活保障审批表", "subsistence", "最低生活保障", "451200", 2009, name="司马磊",
         summary="司*磊家庭申请低保。"),
    _doc("p8", "医疗保险报销审批单", "medical", "医疗保险", "450100", 2012, name="韦英",
         summary="韦*住院费用报销。", place="青秀区"),
    _doc("p9", "医疗保险报销审批单", "medical", "医疗保险", "450100", 2013, name="韦英华",
         summary="韦*华住院费用报销。", place="青秀区"),
    _doc("p10", "学生学籍卡", "school", "学籍档案", "451200", 1975, name="上官秀珍",
         summary="上**珍，女，十二岁。"),
    # The same name in a closed record: the public never finds it.
    _doc("p11", "收养登记档案", "adoption", "收养登记", "451200", 1996, name="王秀英", access="closed",
         summary="王*英收养登记。"),
]


def _open(backend: str, request: pytest.FixtureRequest, tmp_path_factory) -> SearchIndex:
    if backend == "embedded":
        return open_index("embedded", name_secret=NAME_SECRET, data_dir=tmp_path_factory.mktemp("search"))
    server = request.getfixturevalue("meili")
    # A unique index per test keeps tests independent on the shared server.
    return open_index("meilisearch", name_secret=NAME_SECRET, data_dir=tmp_path_factory.mktemp("unused"),
                      meili_url=server.url, meili_key=server.master_key, index_name=f"t_{uuid.uuid4().hex[:12]}")


def _drop(index: SearchIndex) -> None:
    if index.backend == "meilisearch":
        index.client.delete_index(index.name)
    index.close()


def _loaded(request, tmp_path_factory, docs: list[dict]):
    index = _open(request.param, request, tmp_path_factory)
    index.rebuild(copy.deepcopy(docs))
    yield index
    _drop(index)


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request, tmp_path_factory) -> SearchIndex:
    """Read-only index holding DOCS, shared by a module's tests (fast)."""
    yield from _loaded(request, tmp_path_factory, DOCS)


@pytest.fixture(scope="module", params=BACKENDS)
def joined(request, tmp_path_factory) -> SearchIndex:
    """Read-only index holding DOCS and JOINED."""
    yield from _loaded(request, tmp_path_factory, DOCS + JOINED)


@pytest.fixture(scope="module", params=BACKENDS)
def named(request, tmp_path_factory) -> SearchIndex:
    """Read-only index holding DOCS and NAMED."""
    yield from _loaded(request, tmp_path_factory, DOCS + NAMED)


@pytest.fixture(params=BACKENDS)
def fresh(request, tmp_path_factory) -> SearchIndex:
    """Index holding DOCS that a test may change."""
    yield from _loaded(request, tmp_path_factory, DOCS)


@pytest.fixture(params=BACKENDS)
def empty_index(request, tmp_path_factory) -> SearchIndex:
    index = _open(request.param, request, tmp_path_factory)
    yield index
    _drop(index)


@pytest.fixture
def docs() -> list[dict]:
    """The documents every index fixture is loaded with (a copy to modify freely)."""
    return copy.deepcopy(DOCS)
