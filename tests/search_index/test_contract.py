"""The search contract: same documents, same queries, same answers on every backend."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from search_index import Hit, SearchQuery, SearchResult

Q = SearchQuery


def ids(result: SearchResult) -> list[str]:
    return [h.id for h in result.hits]


def idset(result: SearchResult) -> set[str]:
    return set(ids(result))


def expected_facets(docs: list[dict]) -> dict[str, dict[str, int]]:
    return {
        "category": dict(Counter(d["category"] for d in docs)),
        "archive": dict(Counter(d["archive_code"] for d in docs)),
        "decade": dict(Counter(str(d["year"] // 10 * 10) for d in docs)),
    }


def open_docs(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["access_level"] == "open"]


# --- filters, totals, facets ------------------------------------------------

def test_empty_query_returns_every_open_document(loaded, docs):
    result = loaded.search(Q(per_page=100))
    assert result.backend == loaded.backend
    assert result.total == len(open_docs(docs))
    assert idset(result) == {d["id"] for d in open_docs(docs)}


def test_empty_query_lists_newest_first(loaded, docs):
    years = {d["id"]: d["year"] for d in docs}
    listed = [years[i] for i in ids(loaded.search(Q(per_page=100)))]
    assert listed == sorted(listed, reverse=True)


def test_category_filter_keeps_only_that_category(loaded, docs):
    result = loaded.search(Q(category="marriage", per_page=100))
    assert idset(result) == {d["id"] for d in open_docs(docs) if d["category"] == "marriage"}
    assert result.total == 2


def test_archive_filter_keeps_only_that_archive(loaded, docs):
    result = loaded.search(Q(archive="451202", per_page=100))
    assert idset(result) == {d["id"] for d in open_docs(docs) if d["archive_code"] == "451202"}


def test_year_range_is_inclusive_on_both_ends(loaded, docs):
    result = loaded.search(Q(year_from=1962, year_to=1985, per_page=100))
    assert idset(result) == {d["id"] for d in open_docs(docs) if 1962 <= d["year"] <= 1985}
    assert {"l2", "m1"} <= idset(result)


def test_open_ended_year_ranges(loaded, docs):
    assert idset(loaded.search(Q(year_from=2005, per_page=100))) == {
        d["id"] for d in open_docs(docs) if d["year"] >= 2005}
    assert idset(loaded.search(Q(year_to=1960, per_page=100))) == {"l1"}


def test_restricted_and_closed_documents_only_with_their_access_level(loaded):
    assert "m3" not in idset(loaded.search(Q(q="离婚")))
    assert idset(loaded.search(Q(q="离婚", access_levels=("open", "restricted")))) == {"m3"}
    assert idset(loaded.search(Q(q="收养", access_levels=("closed",)))) == {"c1"}
    assert loaded.search(Q(access_levels=())).total == 0


def test_all_access_levels_together_return_everything(loaded, docs):
    result = loaded.search(Q(access_levels=("open", "restricted", "closed"), per_page=100))
    assert result.total == len(docs)


def test_facets_count_the_filtered_matches(loaded, docs):
    result = loaded.search(Q(per_page=1))
    assert result.facets == expected_facets(open_docs(docs))
    filtered = loaded.search(Q(archive="451200", year_from=1960, per_page=1))
    matching = [d for d in open_docs(docs) if d["archive_code"] == "451200" and d["year"] >= 1960]
    assert filtered.total == len(matching)
    assert filtered.facets == expected_facets(matching)


def test_facets_of_a_text_query_count_its_matches(loaded, docs):
    result = loaded.search(Q(q="登记", per_page=1))
    assert result.total == sum(c for c in result.facets["category"].values())
    assert result.facets["category"] == {"marriage": 2, "veteran": 1, "land": 1}
    assert result.facets["decade"] == {"1980": 1, "1970": 2, "1960": 1}


def test_unknown_category_or_archive_matches_nothing(loaded):
    assert loaded.search(Q(category="no-such-category")).total == 0
    assert loaded.search(Q(q="登记", archive="999999")).total == 0


def test_inverted_year_range_matches_nothing(loaded):
    assert loaded.search(Q(year_from=2000, year_to=1990)).total == 0


# --- paging -----------------------------------------------------------------

def test_second_page_continues_where_the_first_ended(loaded, docs):
    everything = ids(loaded.search(Q(per_page=100)))
    page1 = loaded.search(Q(per_page=3, page=1))
    page2 = loaded.search(Q(per_page=3, page=2))
    assert ids(page1) == everything[:3]
    assert ids(page2) == everything[3:6]
    assert page1.total == page2.total == len(everything)


def test_text_query_pages_partition_the_matches(loaded):
    full = loaded.search(Q(q="档案", per_page=100))
    assert full.total > 10  # every archive name contains 档案
    pages = [loaded.search(Q(q="档案", per_page=2, page=p)) for p in range(1, 10)]
    assert [i for p in pages for i in ids(p)] == ids(full)
    assert all(p.total == full.total for p in pages)


def test_page_past_the_end_is_empty_but_keeps_the_total(loaded):
    result = loaded.search(Q(per_page=5, page=50))
    assert result.hits == []
    assert result.total > 0


# --- matching ---------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("婚姻登記", {"m1", "m2"}),          # traditional query, simplified and traditional docs
    ("土地房產所有證", {"l1", "l2"}),
    ("醫療保險", {"h1", "h2"}),
])
def test_traditional_query_finds_simplified_title(loaded, query, expected):
    assert idset(loaded.search(Q(q=query))) == expected


@pytest.mark.parametrize("query, expected", [
    ("结婚登记", {"m1", "m2"}),          # m2 is written in traditional characters
    ("土地房产所有证", {"l1", "l2"}),    # l1 likewise
    ("孙", {"m2"}),
])
def test_simplified_query_finds_traditional_title(loaded, query, expected):
    assert idset(loaded.search(Q(q=query))) == expected


@pytest.mark.parametrize("query, expected", [
    ("医保", {"h1", "h2"}),
    ("医疗保险", {"h1", "h2"}),
    ("低保", {"s1"}),
    ("退伍", {"v1"}),
    ("结婚证", {"m1", "m2"}),
    ("拆迁", {"r1", "r2"}),
])
def test_synonyms_find_the_other_spelling(loaded, query, expected):
    assert idset(loaded.search(Q(q=query))) == expected


@pytest.mark.parametrize("query, expected", [("姻", {"m1", "m2"}), ("籍", {"e1", "x1"}), ("梅", {"h1"})])
def test_single_character_query_matches_inside_words(loaded, query, expected):
    assert idset(loaded.search(Q(q=query))) == expected


def test_reference_code_and_its_parts_are_searchable(loaded):
    assert ids(loaded.search(Q(q="J012-1985-0031"))) == ["m1"]
    assert ids(loaded.search(Q(q="j012"))) == ["m1"]
    assert "m1" in idset(loaded.search(Q(q="1985")))


def test_every_word_of_a_query_must_match(loaded):
    assert idset(loaded.search(Q(q="张晓明 结婚"))) == {"m1"}
    assert loaded.search(Q(q="张晓明 收养")).total == 0


def test_place_and_archive_name_are_searchable(loaded):
    assert idset(loaded.search(Q(q="青秀区", category="demolition"))) == {"r1", "r2"}
    assert idset(loaded.search(Q(q="南宁市档案馆"))) == {"h1", "h2", "x1", "r1", "r2"}


def test_title_match_ranks_above_summary_match(loaded):
    assert ids(loaded.search(Q(q="山林"))) == ["f2", "f1"]
    ranked = ids(loaded.search(Q(q="档案", per_page=100)))
    assert set(ranked[:2]) == {"h1", "e1"}  # the open documents with 档案 in their title


def test_no_match_returns_empty_result(loaded):
    result = loaded.search(Q(q="不存在的词语组合"))
    assert result.total == 0 and result.hits == []


NASTY = ['"', '""', "'", "*", "-", "-婚姻", "婚姻*", "NEAR", "NEAR(婚姻 登记)", "AND", "OR", "NOT",
         "婚姻 AND", "OR 登记", "NOT 婚姻", ":", "title:婚姻", "(", ")", "(婚姻", "^", "^婚姻", "{title}",
         "😀", "婚姻😀登记", "\x00", "\\", "%", "_", "a" * 10_000, "婚" * 10_000, "  ", "\u3000",
         "<script>alert(1)</script>", "' OR 1=1 --", "DROP TABLE docs;", "\ue000", "\ufffd"]


@pytest.mark.parametrize("query", NASTY, ids=range(len(NASTY)))
def test_nasty_input_never_raises(loaded, query):
    result = loaded.search(Q(q=query))
    assert isinstance(result, SearchResult)
    for hit in result.hits:
        assert "<script>" not in hit.highlight


def test_operator_words_are_searched_as_plain_text(loaded):
    assert loaded.search(Q(q="NOT 婚姻")).total == 0  # "not" is a word nobody wrote
    assert idset(loaded.search(Q(q="-婚姻"))) == {"m1", "m2"}


# --- what a hit reveals -----------------------------------------------------

def test_full_name_is_searchable(loaded):
    assert ids(loaded.search(Q(q="张晓明"))) == ["m1"]
    assert ids(loaded.search(Q(q="王建華"))) == ["l1"]


def test_full_name_never_appears_in_hits(loaded, docs):
    names = [d["subject_name"] for d in docs]
    queries = [Q(per_page=100, access_levels=("open", "restricted", "closed"))]
    queries += [Q(q=n, access_levels=("open", "restricted", "closed")) for n in names]
    queries += [Q(q=n[1:]) for n in names]
    for query in queries:
        for hit in loaded.search(query).hits:
            assert [f.name for f in dataclasses.fields(hit)] == ["id", "highlight"]
            for name in names:
                assert name not in hit.highlight and name[1:] not in hit.highlight, (query, hit)


def test_highlight_marks_matched_words_in_the_title(loaded):
    (hit,) = loaded.search(Q(q="张晓明 结婚")).hits
    assert hit.highlight == "张*明与李*红<mark>结婚</mark>登记"


def test_highlight_marks_traditional_title_for_simplified_query(loaded):
    (hit,) = loaded.search(Q(q="王*华土地")).hits
    assert hit.highlight == "<mark>王*華土地</mark>房產所有證存根"


def test_highlight_is_html_escaped(loaded):
    (hit,) = loaded.search(Q(q="特殊")).hits
    assert hit.highlight == "&lt;b&gt;<mark>特殊</mark>&lt;/b&gt; &amp; 字符标题"


def test_summary_only_match_shows_an_escaped_summary_snippet(loaded):
    (hit,) = loaded.search(Q(q="成绩单")).hits
    assert hit.id == "e1"
    assert "<mark>成绩单</mark>" in hit.highlight
    assert "&lt;" in hit.highlight and "&amp;" in hit.highlight
    assert re.sub(r"</?mark>", "", hit.highlight).count("<") == 0


def test_hits_are_hit_objects(loaded):
    assert all(isinstance(h, Hit) for h in loaded.search(Q()).hits)


# --- writes -----------------------------------------------------------------

def test_delete_removes_documents_and_their_counts(fresh, docs):
    fresh.delete(["m1", "no-such-id"])
    assert fresh.search(Q(q="张晓明")).total == 0
    result = fresh.search(Q(per_page=100))
    assert result.total == len(open_docs(docs)) - 1
    assert result.facets["category"]["marriage"] == 1


def test_upsert_with_existing_id_replaces_the_document(fresh, docs):
    i = next(i for i, d in enumerate(docs) if d["id"] == "m1")
    docs[i] = {**docs[i], "title": "张*明补办结婚证申请", "year": 2001, "category": "adoption"}
    fresh.upsert([docs[i]])
    assert ids(fresh.search(Q(q="补办"))) == ["m1"]
    assert fresh.search(Q(q="李*红")).total == 0
    result = fresh.search(Q(per_page=100))
    assert result.total == len(open_docs(docs))
    assert result.facets == expected_facets(open_docs(docs))


def test_upsert_adds_new_documents(fresh, docs):
    fresh.upsert([{**docs[0], "id": "n1", "title": "新增的林权证存根", "subject_name": "新名字"},
                  {**docs[0], "id": "档案/二 号", "title": "特别编号的档案"}])
    assert ids(fresh.search(Q(q="新增"))) == ["n1"]
    assert ids(fresh.search(Q(q="特别编号"))) == ["档案/二 号"]
    fresh.delete(["档案/二 号"])
    assert fresh.search(Q(q="特别编号")).total == 0


def test_upsert_can_move_a_document_between_access_levels(fresh, docs):
    m3 = next(d for d in docs if d["id"] == "m3")
    fresh.upsert([{**m3, "access_level": "open"}])
    assert ids(fresh.search(Q(q="离婚"))) == ["m3"]


def test_rebuild_replaces_everything_and_reports_progress(fresh, docs):
    seen: list[int] = []
    new_docs = [{**d, "id": f"new-{i}", "title": f"重建文档{i}"} for i, d in enumerate(docs[:5])]
    assert fresh.rebuild(iter(new_docs), progress=seen.append) == 5
    assert sum(seen) == 5
    assert fresh.search(Q(q="张晓明")).total == 1  # new-0 carries m1's name
    assert idset(fresh.search(Q(per_page=100, access_levels=("open", "restricted")))) == {
        f"new-{i}" for i in range(5)}


def test_searches_see_the_old_documents_until_rebuild_finishes(fresh, docs):
    seen_during: list[int] = []
    new_docs = [{**d, "id": f"new-{i}"} for i, d in enumerate(docs)]
    fresh.rebuild(new_docs, progress=lambda n: seen_during.append(fresh.search(Q(q="张晓明")).hits[0].id))
    assert seen_during and set(seen_during) == {"m1"}
    assert ids(fresh.search(Q(q="张晓明"))) == ["new-0"]


def test_failed_rebuild_keeps_the_previous_documents(fresh, docs):
    def broken():
        yield from docs[:3]
        raise RuntimeError("source database went away")

    with pytest.raises(RuntimeError):
        fresh.rebuild(broken())
    assert fresh.search(Q(per_page=100)).total == len(open_docs(docs))
    with pytest.raises(ValueError):
        fresh.rebuild([*docs[:2], {**docs[2], "access_level": "secret"}])
    assert ids(fresh.search(Q(q="张晓明"))) == ["m1"]


def test_rebuild_of_nothing_empties_the_index(fresh):
    assert fresh.rebuild([]) == 0
    assert fresh.search(Q()).total == 0


def test_empty_index_answers_with_nothing(empty_index):
    result = empty_index.search(Q(q="婚姻"))
    assert result.total == 0 and result.hits == []
    assert empty_index.search(Q()).total == 0


def test_upsert_into_a_new_index_makes_it_searchable(empty_index, docs):
    empty_index.upsert(docs[:3])
    assert idset(empty_index.search(Q(q="结婚"))) == {"m1", "m2"}


def test_health_is_true_when_serving(loaded):
    assert loaded.health() is True


def test_health_is_true_before_anything_was_indexed(empty_index):
    assert empty_index.health() is True
