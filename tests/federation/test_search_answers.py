"""A peer's search answer is read with suspicion: the node is the one asked, links stay on the
peer, highlights keep only their <mark>s, and anything else is refused as garbage (the peer is
then named among those that could not be searched)."""
from __future__ import annotations

import pytest

from portal.federation.search_hits import Garbage, rank_score, read_peer_answer, safe_highlight

PEER = "http://beta.example"


def _hit(**changes) -> dict:
    hit = {"reference_code": "451200-1", "archive_code": "451200", "archive_name": "河池市档案馆",
           "category": "marriage", "category_label": "whatever the peer says", "title": "结婚登记",
           "subject_name": "王*英", "year": 1985, "place": "金城江", "url": PEER + "/records/451200/451200-1",
           "highlight": "<mark>结婚</mark>登记", "node": "someone-else", "score": 0.3}
    return {**hit, **changes}


def test_a_good_answer_is_read_with_our_node_name_labels_and_scores():
    answer = read_peer_answer("beta", PEER, {"total": 7, "hits": [_hit(), _hit(reference_code="451200-2")],
                                             "facets": {"category": {"marriage": 7}, "archive": "junk"}})
    assert answer.node == "beta" and answer.total == 7
    assert [h.node for h in answer.hits] == ["beta", "beta"]
    assert answer.hits[0].category_label == "婚姻登记"  # our own label for the code
    assert [h.score for h in answer.hits] == [rank_score(0), rank_score(1)] and rank_score(0) == 1.0
    assert answer.facets == {"category": {"marriage": 7}, "archive": {}, "decade": {}}


@pytest.mark.parametrize("doc", [
    None, [], "<html>", {"hits": []}, {"total": "7", "hits": []}, {"total": 1, "hits": "x"},
    {"total": 1, "hits": [1]},
    {"total": 1, "hits": [_hit(url="http://evil.example/records/1")]},
    {"total": 1, "hits": [_hit(url="javascript:alert(1)")]},
    {"total": 1, "hits": [_hit(url=PEER + ".evil.example/records/1")]},
    {"total": 1, "hits": [_hit(archive_code="")]},
    {"total": 1, "hits": [_hit(title={"a": 1})]},
])
def test_garbage_is_refused(doc):
    with pytest.raises(Garbage):
        read_peer_answer("beta", PEER, doc)


def test_a_highlight_keeps_only_its_marks_and_entities():
    assert safe_highlight('<mark>结婚</mark><script>x()</script> &amp; <b>') == (
        "<mark>结婚</mark>&lt;script&gt;x()&lt;/script&gt; &amp; &lt;b&gt;")
    answer = read_peer_answer("beta", PEER, {"total": 1, "hits": [_hit(highlight='<img src=x onerror=1>')]})
    assert "<img" not in str(answer.hits[0].highlight)
