"""How a query is read, shared by both backends (no index needed)."""

from __future__ import annotations

from search_index import query
from search_index.names import NameKeys, mask_token


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
    assert query.pieces("甲乙", {"甲乙"}) == [(True, "甲"), (True, "乙")]
    assert query.pieces("j012东江镇", {"镇结"}) == [(False, "j012"), (True, "东江镇")]


def test_synonym_keys_are_never_cut():
    assert query.pieces("医保", {"医保"}) == [(True, "医保")]
    assert "医保" not in query.probe_pairs(["医保", "东江镇"])
    assert query.probe_pairs(["东江镇", "江镇"]) == ["东江", "江镇"]


def test_highlighting_looks_for_the_pieces_and_the_synonyms():
    assert query.needles(["东江镇结婚"], {"镇结"}) == ["东江镇", "结婚"]
    assert query.needles(["医保"]) == ["医保", "医疗保险"]


def test_a_character_cut_off_on_both_sides_is_taken_for_a_typing_error():
    # 登际 and 际审 occur nowhere: 际 is a wrong character, the words around it still count.
    assert query.pieces("结婚登际审查", {"登际", "际审"}) == [(True, "结婚登"), (True, "审查")]
    # At either end of a run it is kept (林存 → 林 + 存), and a short word is not loosened.
    assert query.pieces("甲乙", {"甲乙"}) == [(True, "甲"), (True, "乙")]
    assert query.pieces("审批表", {"审批", "批表"}) == [(True, "审"), (True, "批"), (True, "表")]
    # Once a run: two wrong characters are two words that do not occur.
    assert query.pieces("结婚甲登乙审查", {"婚甲", "甲登", "登乙", "乙审"}) == [
        (True, "结婚"), (True, "登"), (True, "乙"), (True, "审查")]


def test_a_year_followed_by_nian_is_the_year_as_a_word():
    assert query.query_terms("1998年房屋拆迁") == ["1998", "房屋拆迁"]
    assert query.query_terms("1998年度") == ["1998年度"]


KEYS = NameKeys("test-secret")


def test_a_name_joined_to_words_is_read_as_the_name_and_the_words():
    readings = query.readings(["王秀英结婚登记"], KEYS)
    assert readings[0] == query.Reading((), ("王秀英结婚登记",))
    assert query.Reading((KEYS.name("王秀英"),), ("结婚登记",)) in readings
    assert len(readings) <= query.MAX_READINGS


def test_compound_surnames_and_names_at_the_end_are_read_too():
    assert query.Reading((KEYS.name("欧阳晓东"),), ("退役",)) in query.readings(["欧阳晓东退役"], KEYS)
    assert query.Reading((KEYS.name("韦秀英"),), ("结婚登记",)) in query.readings(["结婚登记韦秀英"], KEYS)
    assert query.Reading((KEYS.name("韦秀英"),), ("结婚登记",)) in query.readings(["结婚登记", "韦秀英"], KEYS)


def test_text_without_a_surname_has_one_reading():
    assert query.readings(["婚姻登记", "1985"], KEYS) == [query.Reading((), ("婚姻登记", "1985"))]


def test_a_masked_name_is_read_as_the_mask_only():
    readings = query.readings(["王*英结婚"], KEYS)
    assert readings == [query.Reading((mask_token("王*英"),), ("结婚",), ("王*英",)),
                        query.Reading((mask_token("王*"),), ("英结婚",), ("王*",))]
    assert query.readings(["王*英"], KEYS) == [query.Reading((mask_token("王*英"),), (), ("王*英",))]


def test_name_tokens_do_not_hold_the_name_and_depend_on_the_secret():
    token = KEYS.name("张晓明")
    assert token.isascii() and token.isalpha() and token == KEYS.name("張曉明")
    assert token != NameKeys("another-secret").name("张晓明")
    assert KEYS.name("") == "" and mask_token("张晓明") == ""


def test_highlights_mark_the_words_of_a_name_reading_from_the_visible_text_only():
    per_reading = query.reading_needles(query.readings(["张晓明结婚"], KEYS))
    # The same marks whether or not the hit holds the name: they depend on what anyone can see.
    assert query.hit_needles("张*明结婚登记", "", per_reading) == ["结婚"]


def test_a_query_holds_a_full_name_where_a_surname_may_start_one():
    assert query.holds_full_name("覃秀兰") and query.holds_full_name("王秀英结婚登记")
    assert not query.holds_full_name("结婚登记") and not query.holds_full_name("王*英")
    assert not query.holds_full_name("") and not query.holds_full_name("1985")
