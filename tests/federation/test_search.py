"""Search across the network, embedded engines on SQLite: three real nodes (alpha: Nanning and its
district; beta: Hechi and Yizhou; gamma: Liuzhou), each a `portal serve` process. A network
search merges every node's open, masked hits, each carrying its node and its link on that node; a
peer that is down is named, and the search still answers in time."""
from __future__ import annotations

import html
import os
import re
import signal
import time

import pytest
import requests

from portal.federation.signing import signer
from tests.federation.cluster import Node, close, running

ID_NUMBER = re.compile(r"\b\d{17}[\dXx]\b")


@pytest.fixture(scope="module")
def trio(tmp_path_factory):
    base = tmp_path_factory.mktemp("search")
    nodes = []
    try:
        nodes.append(Node.create(base / "a", "alpha", archives="450100,450200", records=120))
        nodes.append(Node.create(base / "b", "beta", archives="451200,451202", records=120))
        # gamma counts the name searches its peers ask (2 an hour here); the others run without limits.
        nodes.append(Node.create(base / "c", "gamma", archives="450206", records=60,
                                 extra_env={"PORTAL_RATE_LIMITS": "on",
                                            "PORTAL_FEDERATION_PEER_NAME_SEARCH_LIMIT": "2 per hour"}))
    except BaseException:
        close(*nodes)
        raise
    with running(*nodes):
        yield nodes


def _search(node: Node, **params):
    status, answer = node.get_json("/api/v1/search", params=params)
    assert status == 200, answer
    return answer


def _page(node: Node, **params) -> str:
    status, _headers, body = node.request("GET", "/search", params=params, headers={"Accept": "text/html"})
    assert status == 200, body[:500]
    return body.decode()


def test_network_search_has_a_hit_from_each_node_with_its_node_and_link(trio):
    alpha, beta, gamma = trio
    answer = _search(alpha, category="marriage", scope="network", per_page=60)
    assert answer["scope"] == "network" and answer["unavailable"] == [] and answer["via"] == "fan-out"
    by_node = {}
    for hit in answer["hits"]:
        by_node.setdefault(hit["node"], []).append(hit)
    assert set(by_node) == {"alpha", "beta", "gamma"}
    homes = {"alpha": (alpha, {"450100", "450200"}), "beta": (beta, {"451200", "451202"}),
             "gamma": (gamma, {"450206"})}
    for name, hits in by_node.items():
        home, codes = homes[name]
        for hit in hits:
            assert hit["archive_code"] in codes and hit["archive"] == {"code": hit["archive_code"],
                                                                       "name": hit["archive_name"]}
            assert hit["url"].startswith(home.url + "/records/" + hit["archive_code"] + "/")
            assert 0 < hit["score"] <= 1 and hit["category"] == "marriage"
    # The link is the record's public page on its own node.
    first_beta = by_node["beta"][0]
    status, _headers, body = beta.request("GET", first_beta["url"][len(beta.url):], headers={"Accept": "text/html"})
    assert status == 200 and first_beta["reference_code"] in body.decode()
    # Merged by score: every node's best hit comes before anyone's second.
    assert {h["node"] for h in answer["hits"][:3]} == {"alpha", "beta", "gamma"}
    assert [h["score"] for h in answer["hits"]] == sorted((h["score"] for h in answer["hits"]), reverse=True)
    # Facets: per node (each node's own total), per archive across nodes.
    totals = {n.name: _search(n, category="marriage")["total"] for n in trio}
    assert answer["facets"]["node"] == totals and answer["total"] == sum(totals.values())
    assert {"450100", "451200", "450206"} <= set(answer["facets"]["archive"])


def test_only_public_masked_fields_leave_a_node(trio):
    alpha, _beta, _gamma = trio
    answer = _search(alpha, q="婚姻", scope="network", per_page=50)
    assert answer["hits"]
    allowed = {"reference_code", "archive_code", "archive_name", "archive", "category", "category_label", "title",
               "subject_name", "year", "place", "url", "highlight", "node", "score"}
    for hit in answer["hits"]:
        assert set(hit) == allowed
        assert "*" in hit["subject_name"] or not hit["subject_name"]
        assert not ID_NUMBER.search(str(hit))


def test_the_peer_endpoint_answers_signed_calls_only(trio):
    alpha, beta, _gamma = trio
    http = requests.Session()
    http.trust_env = False
    url = beta.url + "/federation/v1/search?category=marriage&per_page=5"
    assert http.get(url).status_code == 401
    key = _private_key(alpha)
    answer = http.get(url, auth=signer("alpha", key))
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["node"] == "beta" and len(doc["hits"]) == 5 and doc["hits"][0]["score"] == 1.0
    assert all(h["url"].startswith(beta.url + "/records/") and h["node"] == "beta" for h in doc["hits"])
    bad = http.get(beta.url + "/federation/v1/search?year_from=abc", auth=signer("alpha", key))
    assert bad.status_code == 400 and "year_from" in bad.json()["fields"]


def _private_key(node: Node):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key((node.data_dir / "keys" / "node.key.pem").read_bytes(), None)


def test_name_searches_a_peer_asks_count_against_its_limit(trio):
    alpha, beta, gamma = trio
    http = requests.Session()
    http.trust_env = False
    url = gamma.url + "/federation/v1/search"
    for _ in range(2):
        assert http.get(url, params={"q": "蓝小红"}, auth=signer("alpha", _private_key(alpha))).status_code == 200
    refused = http.get(url, params={"q": "蓝小红"}, auth=signer("alpha", _private_key(alpha)))
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    # Another peer has its own allowance; searches without a name are not counted.
    assert http.get(url, params={"q": "蓝小红"}, auth=signer("beta", _private_key(beta))).status_code == 200
    assert http.get(url, params={"q": "婚姻"}, auth=signer("alpha", _private_key(alpha))).status_code == 200


def test_network_page_shows_each_hit_with_its_archive_node_and_link(trio):
    alpha, beta, _gamma = trio
    page = _page(alpha, category="marriage", scope="network", per_page=60)
    assert 'value="network" checked' in page  # the form offers 本站/全网, network chosen
    assert 'data-node="beta"' in page and 'data-node="alpha"' in page
    assert f'href="{beta.url}/records/451200/' in page or f'href="{beta.url}/records/451202/' in page
    assert "network-unavailable" not in page
    # HTMX partial too.
    status, _headers, body = alpha.request("GET", "/search", params={"category": "marriage", "scope": "network"},
                                           headers={"HX-Request": "true", "Accept": "text/html"})
    assert status == 200 and b'data-node="beta"' in body


def test_scope_local_is_unchanged(trio):
    alpha, _beta, _gamma = trio
    plain = _search(alpha, category="marriage")
    local = _search(alpha, category="marriage", scope="local")
    for answer in (plain, local):
        assert "scope" not in answer and "unavailable" not in answer
        assert {h["archive_code"] for h in answer["hits"]} <= {"450100", "450200"}
        assert all("node" not in h for h in answer["hits"])
    assert plain["hits"] == local["hits"] and plain["total"] == local["total"]
    page = _page(alpha, category="marriage")
    assert "data-node=" not in page and 'value="local" checked' in page
    status, answer = alpha.get_json("/api/v1/search", params={"q": "x", "scope": "everywhere"})
    assert status == 400


def test_a_node_without_peers_answers_network_like_local(tmp_path):
    lone = Node.create(tmp_path / "lone", "lone")
    try:
        lone.start()
        local = _search(lone, q="婚姻")
        network = _search(lone, q="婚姻", scope="network")
        assert network == {**local, "took_ms": network["took_ms"]}
        assert 'name="scope"' not in _page(lone, q="婚姻")
    finally:
        close(lone)


def _in_time(node: Node, **params) -> dict:
    started = time.monotonic()
    answer = _search(node, **params)
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed  # the timeout is 1.5 s; a generous margin for a busy machine
    return answer


def test_a_peer_that_is_slow_is_named_and_the_search_answers_in_time(trio):
    alpha, _beta, gamma = trio
    os.killpg(gamma.proc.pid, signal.SIGSTOP)  # takes connections (the kernel does), answers nothing
    try:
        answer = _in_time(alpha, category="marriage", scope="network", per_page=60)
    finally:
        os.killpg(gamma.proc.pid, signal.SIGCONT)
    assert answer["unavailable"] == ["gamma"] and {h["node"] for h in answer["hits"]} == {"alpha", "beta"}


def test_a_peer_that_is_down_is_named_and_the_search_answers_in_time(trio):
    alpha, beta, gamma = trio
    gamma.stop()
    answer = _in_time(alpha, category="marriage", scope="network", per_page=60)
    assert answer["unavailable"] == ["gamma"]
    assert {h["node"] for h in answer["hits"]} == {"alpha", "beta"}
    page = html.unescape(_page(alpha, category="marriage", scope="network"))
    assert "network-unavailable" in page and "gamma (柳州市柳江区档案馆)" in page

