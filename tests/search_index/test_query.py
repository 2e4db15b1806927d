"""How a query is read, shared by both backends (no index needed)."""

from __future__ import annotations

from search_index import query


def test_query_terms_are_bounded():
    terms = query.query_terms("词" * 10_000 + " " + "a " * 100)
    assert len(terms) <= 16 and all(len(t) <= 64 for t in terms)


def test_leading_blanks_do_not_use_up_the_query_length_bound():
    assert query.query_terms(" " * 3000 + "婚姻") == ["婚姻"]


def test_only_a_blank_query_means_everything():
    assert query.nothing_searchable("😀", query.query_terms("😀"))
    assert not query.nothing_searchable(" \u3000", query.query_terms(" \u3000"))
    assert not query.nothing_searchable("婚姻 !!!", query.query_terms("婚姻 !!!"))


def test_term_is_cut_between_the_characters_of_an_unknown_pair():
    assert query.pieces("东江镇结婚", {"镇结"}) == [(True, "东江镇"), (True, "结婚")]
    assert query.pieces("甲乙丙", {"甲乙", "乙丙"}) == [(True, "甲"), (True, "乙"), (True, "丙")]
    assert query.pieces("j012东江镇", {"镇结"}) == [(False, "j012"), (True, "东江镇")]


def test_synonym_keys_are_never_cut():
    assert query.pieces("医保", {"医保"}) == [(True, "医保")]
    assert "医保" not in query.probe_pairs(["医保", "东江镇"])
    assert query.probe_pairs(["东江镇", "江镇"]) == ["东江", "江镇"]


def test_highlighting_looks_for_the_pieces_and_the_synonyms():
    assert query.needles(["东江镇结婚"], {"镇结"}) == ["东江镇", "结婚"]
    assert query.needles(["医保"]) == ["医保", "医疗保险"]
