"""The search contract, continued: how the text of a query is read, on every backend."""

from __future__ import annotations

import pytest

from search_index import SearchQuery as Q
from tests.search_index.test_contract import ids, idset, open_docs


# --- words typed without spaces ---------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("东江镇结婚", {"t1"}),   # place + title: the pair 镇结 occurs in no visible document
    ("张晓明结婚", {"m1"}),   # full name + title
    ("宜州区结婚", {"m2"}),   # a traditional-script document
    ("结婚宜州", {"m2"}),
    ("林存", {"f1"}),         # a piece of one character: 林权证存根
])
def test_words_typed_without_spaces_match_like_words_with_spaces(joined, query, expected):
    assert idset(joined.search(Q(q=query))) == expected


def test_joined_query_finds_the_same_as_the_spaced_query(joined):
    assert ids(joined.search(Q(q="东江镇结婚"))) == ids(joined.search(Q(q="东江镇 结婚"))) == ["t1"]


def test_joined_query_still_needs_each_word_not_just_its_characters(joined):
    # t2 holds every character of 东江镇结婚 but neither 东江镇 nor 结婚.
    assert "t2" not in idset(joined.search(Q(q="东江镇结婚", per_page=100)))


def test_query_whose_character_pairs_all_occur_is_not_loosened(joined):
    # t2 holds 结, 婚, 登记 apart: only documents with the word 结婚 match.
    assert idset(joined.search(Q(q="结婚登记", per_page=100))) == {"m1", "m2", "t1"}


def test_documents_the_user_may_not_see_do_not_change_how_a_query_is_cut(joined):
    # 镇结 occurs only in the closed t3: open searches still cut there.
    assert ids(joined.search(Q(q="东江镇结婚"))) == ["t1"]
    everything = joined.search(Q(q="东江镇结婚", access_levels=("open", "restricted", "closed")))
    assert ids(everything)[0] == "t3"  # the exact words rank first


def test_joined_query_highlights_its_pieces(joined):
    (hit,) = joined.search(Q(q="东江镇结婚")).hits
    assert hit.highlight == "<mark>结婚</mark>登记审查处理表"


# --- the year as a word -----------------------------------------------------

def test_year_is_searchable_as_a_word(loaded):
    # m2's reference code (451202-m2) does not hold its year.
    assert idset(loaded.search(Q(q="结婚 1979"))) == {"m2"}
    assert idset(loaded.search(Q(q="婚姻登记 1985"))) == {"m1"}
    assert idset(loaded.search(Q(q="1953"))) == {"l1"}


def test_year_word_and_year_filter_agree(joined):
    assert idset(joined.search(Q(q="婚姻登记 1987"))) == {"t1", "t2"}
    assert idset(joined.search(Q(q="婚姻登记", year_from=1987, year_to=1987))) == {"t1", "t2"}


# --- queries with nothing to search -----------------------------------------

NOTHING = ["😀", "!!!", "*", "。，、", "\ue000", "\x00", "-"]


@pytest.mark.parametrize("query", NOTHING, ids=range(len(NOTHING)))
def test_query_with_no_searchable_terms_matches_nothing(loaded, query):
    result = loaded.search(Q(q=query, per_page=100))
    assert result.total == 0 and result.hits == []
    assert result.facets == {"category": {}, "archive": {}, "decade": {}}


@pytest.mark.parametrize("query", ["", " ", "\u3000", "\t\n "])
def test_blank_query_lists_every_document_the_filters_allow(loaded, docs, query):
    result = loaded.search(Q(q=query, per_page=100))
    assert result.total == len(open_docs(docs))
    assert loaded.search(Q(q=query, category="land")).total == 2
