"""Search across the network through Meilisearch's network feature: two real nodes on PostgreSQL,
each with its own Meilisearch, each having given the other its engine's URL and a search-only key
for its public index. The engine merges the ranking; the public index holds no personal data."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from tests import meili_server
from tests.federation.cluster import PG_URL, Node, close, link

ID_NUMBER = re.compile(r"\d{17}[\dXx]")


def _meili_or_skip() -> None:
    if not PG_URL:
        pytest.skip("set PORTAL_TEST_POSTGRES_URL (a PostgreSQL to create the nodes' databases in) for the "
                    "Meilisearch network search")
    if not meili_server.binary_path().exists():
        if os.environ.get("MEILI_REQUIRED") == "1":
            pytest.fail(f"MEILI_REQUIRED=1 but there is no Meilisearch at {meili_server.binary_path()}", pytrace=False)
        pytest.skip("Meilisearch not available; run `make test`, which installs it, or set MEILI_BINARY")


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    _meili_or_skip()
    base = tmp_path_factory.mktemp("meili")
    nodes = []
    try:
        nodes.append(Node.create(base / "a", "alpha", postgres=True, meili=True, archives="450100,450200",
                                 records=120))
        nodes.append(Node.create(base / "b", "beta", postgres=True, meili=True, archives="451200,451202",
                                 records=120))
        alpha, beta = nodes
        link(alpha, beta)
        for me, peer in ((alpha, beta), (beta, alpha)):
            key = peer.cli("node", "search-key").stdout.strip()
            me.cli("peers", "add", peer.name, peer.url, peer.public_key, "--meili-url", peer.meili.url,
                   "--meili-key", key)
        for node in nodes:
            node.start()
        yield alpha, beta
    finally:
        close(*nodes)


def _meili(node: Node, path: str):
    req = urllib.request.Request(node.meili.url + path, headers={"Authorization": f"Bearer {node.meili.master_key}"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=30) as resp:
        return json.loads(resp.read())


def _search(node: Node, **params):
    status, answer = node.get_json("/api/v1/search", params=params)
    assert status == 200, answer
    return answer


def test_network_search_goes_through_the_engines_with_a_hit_from_each_node(engines):
    alpha, beta = engines
    answer = _search(alpha, q="婚姻", scope="network", per_page=50)
    assert answer["via"] == "engine" and answer["unavailable"] == [] and answer["backend"] == "meilisearch"
    nodes = {h["node"] for h in answer["hits"]}
    assert nodes == {"alpha", "beta"}
    for hit in answer["hits"]:
        home = alpha if hit["node"] == "alpha" else beta
        assert hit["url"].startswith(home.url + "/records/" + hit["archive_code"] + "/")
        assert hit["archive_code"] in ({"450100", "450200"} if home is alpha else {"451200", "451202"})
        assert 0 <= hit["score"] <= 1
        assert "*" in hit["subject_name"] or not hit["subject_name"]
    assert [h["score"] for h in answer["hits"]] == sorted((h["score"] for h in answer["hits"]), reverse=True)
    assert set(answer["facets"]["node"]) == {"alpha", "beta"} and all(answer["facets"]["node"].values())
    # The engine's own network setting names both.
    network = _meili(alpha, "/network")
    assert network["self"] == "alpha" and set(network["remotes"]) == {"alpha", "beta"}
    # The page too.
    status, _headers, body = alpha.request("GET", "/search", params={"q": "婚姻", "scope": "network"},
                                           headers={"Accept": "text/html"})
    assert status == 200 and b'data-node="beta"' in body and b'data-node="alpha"' in body


def test_the_public_index_holds_no_personal_data(engines):
    from search_index.meili_public import PUBLIC_FIELDS

    for node in engines:
        docs = _meili(node, "/indexes/public_records/documents?limit=1000")["results"]
        assert docs
        allowed = {*PUBLIC_FIELDS, "pk", "decade", "s_title", "s_ref", "s_label", "s_place", "s_archive", "s_year",
                   "s_summary", "s_syn"}
        for doc in docs:
            assert set(doc) <= allowed, set(doc) - allowed
            assert not {"names", "subject_name", "s_copy", "copy_text", "access_level", "subject_id_number"} & set(doc)
            assert not ID_NUMBER.search(json.dumps(doc, ensure_ascii=False))
            assert "*" in doc["subject_mask"] or not doc["subject_mask"]
        # Only open records, and every open one.
        settings = _meili(node, "/indexes/public_records/settings")
        assert "names" not in settings["filterableAttributes"] and "s_copy" not in settings["searchableAttributes"]
    # No full name of alpha's catalog appears in its public index (the normal index keeps none either,
    # but the public one may be read by peers' engines in full).
    from sqlalchemy import create_engine, text

    from tests.federation.cluster import _with_database

    alpha = engines[0]
    engine = create_engine(_with_database(PG_URL, alpha.pg_database))
    try:
        with engine.connect() as conn:
            names = {n for (n,) in conn.execute(text("SELECT subject_name FROM record WHERE access_level = 'open'"))
                     if n and len(n) >= 2}
            open_count = conn.execute(text("SELECT count(*) FROM record WHERE access_level = 'open'")).scalar()
    finally:
        engine.dispose()
    docs = _meili(alpha, "/indexes/public_records/documents?limit=1000")["results"]
    assert len(docs) == open_count
    dumped = json.dumps(docs, ensure_ascii=False)
    assert not [n for n in names if n in dumped]


CLOSE_ONE = """
from sqlalchemy import select
from portal import create_app
from portal.catalog.models import Record
from portal.catalog.outbox import queue_index
from portal.db import db
app = create_app()
with app.app_context():
    record = db.session.scalars(select(Record).where(Record.access_level == "open").order_by(Record.id)).first()
    record.access_level = "closed"  # as an appraisal or an edit does: the change and its outbox row in one commit
    queue_index(db.session, [record.id])
    db.session.commit()
    print(record.id)
"""


def test_a_record_closed_leaves_the_public_index(engines):
    alpha, _beta = engines
    done = subprocess.run([sys.executable, "-c", CLOSE_ONE], env=alpha.env, capture_output=True, text=True,
                          timeout=120, check=True)
    record_id = done.stdout.strip().splitlines()[-1]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ids = {d["id"] for d in _meili(alpha, "/indexes/public_records/documents?limit=1000&fields=id")["results"]}
        if record_id not in ids:
            break
        time.sleep(0.3)
    assert record_id not in ids


def test_a_name_search_fans_out_over_the_signed_api(engines):
    alpha, _beta = engines
    answer = _search(alpha, q="王秀英", scope="network")
    assert answer["via"] == "fan-out" and answer["unavailable"] == []


def test_scope_local_is_unchanged_on_meilisearch(engines):
    alpha, _beta = engines
    answer = _search(alpha, q="婚姻")
    assert "scope" not in answer and {h["archive_code"] for h in answer["hits"]} <= {"450100", "450200"}


def test_a_remote_engine_that_is_down_falls_back_and_is_named(engines):
    alpha, beta = engines
    beta.stop()
    beta.meili.stop()
    answer = _search(alpha, q="婚姻", scope="network")
    assert answer["unavailable"] == ["beta"] and {h["node"] for h in answer["hits"]} == {"alpha"}
