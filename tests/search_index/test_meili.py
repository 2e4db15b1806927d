"""Rules specific to the Meilisearch backend."""

from __future__ import annotations

import copy
import re
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.search_index.conftest import JOINED, NAME_SECRET
from search_index import SearchQuery as Q
from search_index import SearchUnavailable, meili_schema, open_index, query
from search_index import meili as meili_backend

pytestmark = pytest.mark.meilisearch


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def down(tmp_path):
    index = open_index("meilisearch", name_secret=NAME_SECRET,
                       data_dir=tmp_path, meili_url=f"http://127.0.0.1:{_closed_port()}",
                       meili_key="irrelevant")
    index.client.config.timeout = 2
    yield index
    index.close()


@pytest.fixture
def index(meili, tmp_path, docs):
    idx = open_index("meilisearch", name_secret=NAME_SECRET,
                     data_dir=tmp_path, meili_url=meili.url, meili_key=meili.master_key,
                     index_name=f"t_{uuid.uuid4().hex[:12]}")
    idx.rebuild(docs)
    yield idx
    idx.client.delete_index(idx.name)


def test_health_is_false_when_meilisearch_is_down(down):
    assert down.health() is False


@pytest.mark.parametrize("operation", ["search", "upsert", "delete", "rebuild"])
def test_every_operation_raises_search_unavailable_when_down(down, docs, operation):
    calls = {
        "search": lambda: down.search(Q(q="婚姻")),
        "upsert": lambda: down.upsert(docs[:1]),
        "delete": lambda: down.delete(["m1"]),
        "rebuild": lambda: down.rebuild(docs),
    }
    with pytest.raises(SearchUnavailable, match="unavailable"):
        calls[operation]()


def test_wrong_api_key_is_unavailable_and_unhealthy(meili, tmp_path):
    index = open_index("meilisearch", name_secret=NAME_SECRET,
                       data_dir=tmp_path, meili_url=meili.url, meili_key="wrong-key")
    assert index.health() is False
    with pytest.raises(SearchUnavailable):
        index.search(Q(q="婚姻"))


def test_failed_task_raises_search_unavailable(index, docs, monkeypatch):
    monkeypatch.setattr(meili_schema, "primary_key", lambda doc_id: "not a valid id!")
    with pytest.raises(SearchUnavailable, match="failed"):
        index.upsert(docs[:1])


def test_settings_hide_the_full_name_and_internal_fields(index):
    settings = index.client.index(index.name).get_settings()
    assert "subject_name" not in settings["displayedAttributes"]
    assert all(not a.startswith("s_") for a in settings["displayedAttributes"])
    assert settings["searchableAttributes"][:2] == ["s_title", "s_ref"]
    # Names are found by a keyed token, filtered on, never searched as text or listed.
    assert "names" in settings["filterableAttributes"] and settings["facetSearch"] is False
    assert not any("name" in a for a in settings["searchableAttributes"])
    assert set(settings["filterableAttributes"]) >= {"category", "archive_code", "year", "access_level"}
    assert settings["sortableAttributes"] == ["year"]
    assert settings["synonyms"]["医 保"] == ["医 疗 保 险"]


def test_stored_documents_never_return_the_name(index, docs):
    fetched = index.client.index(index.name).get_documents({"limit": 100}).results
    assert len(fetched) == len(docs)
    names = {d["subject_name"] for d in docs}
    for doc in fetched:
        assert not (names & {str(v) for v in dict(doc).values()})


def test_rebuild_leaves_no_temporary_index_behind(index, docs):
    index.rebuild(docs[:2])
    uids = {i["uid"] for i in index.client.get_raw_indexes({"limit": 1000})["results"]}
    assert index.name in uids and f"{index.name}__rebuild" not in uids


def test_meilisearch_query_rewrites_words_as_character_phrases():
    reading = query.Reading(("nkabc",), ("婚姻登记", "婚", "j012"))
    assert meili_schema.meili_query(reading) == '"婚 姻 登 记" 婚 j012'
    assert meili_schema.names_filter(reading) == ['names = "nkabc"']


def test_meilisearch_query_cuts_words_where_a_pair_is_unknown():
    cut = meili_schema.meili_query(query.Reading((), ("东江镇结婚", "林存")), frozenset({"镇结", "林存"}))
    assert cut == '"东 江 镇" "结 婚" 林 存'


def test_year_is_a_searchable_attribute(index, docs):
    settings = index.client.index(index.name).get_settings()
    assert "s_year" in settings["searchableAttributes"]
    assert meili_schema.to_meili({**docs[0], "year": 1979}, index.keys)["s_year"] == "1979"


def test_documents_indexed_before_the_year_field_ask_for_a_reindex(meili, index, docs, tmp_path, caplog):
    def reopened():
        return open_index("meilisearch", name_secret=NAME_SECRET,
                          data_dir=tmp_path, meili_url=meili.url, meili_key=meili.master_key,
                          index_name=index.name)

    older = {k: v for k, v in meili_schema.to_meili(docs[0], index.keys).items() if k != "s_year"}
    raw = index.client.index(index.name)
    index.client.wait_for_task(raw.delete_all_documents().task_uid)
    index.client.wait_for_task(raw.add_documents([older], "pk").task_uid)
    reopened().upsert(docs[1:2])
    assert "s_year: run `portal reindex`" in caplog.text
    caplog.clear()
    reopened().rebuild(docs)
    reopened().upsert(docs[1:2])
    assert "reindex" not in caplog.text


def test_ids_outside_meilisearch_charset_are_hashed_into_it():
    assert meili_schema.primary_key("r-001_a") == "r-001_a"
    hashed = {meili_schema.primary_key(i) for i in ("档案/1", "档案/2", "x" * 600, "h_" + "0" * 64)}
    assert len(hashed) == 4
    assert all(re.fullmatch(r"h_[0-9a-f]{64}", h) for h in hashed)


def test_total_stays_exact_beyond_max_total_hits(index, docs):
    task = index.client.index(index.name).update_pagination_settings({"maxTotalHits": 3})
    index.client.wait_for_task(task.task_uid)
    result = index.search(Q(per_page=2))
    assert result.total == len([d for d in docs if d["access_level"] == "open"])


def test_engine_going_down_and_coming_back(meili, index, docs):
    meili.pause()
    try:
        assert index.health() is False
        with pytest.raises(SearchUnavailable, match="unavailable"):
            index.search(Q(q="婚姻"))
        with pytest.raises(SearchUnavailable, match="unavailable"):
            index.upsert(docs[:1])
    finally:
        meili.resume()
    assert index.health() is True
    assert [h.id for h in index.search(Q(q="张晓明")).hits] == ["m1"]


def _pool(index):
    """This thread's connection pool to the server (urllib3 counts its connections and requests)."""
    pools = index.session.get_adapter(index.url).poolmanager.pools
    (pool,) = [pools[key] for key in pools.keys()]
    return pool


def test_calls_reuse_one_connection_until_closed(index):
    for _ in range(5):
        index.search(Q(q="婚姻"))
    index.health()
    assert _pool(index).num_requests >= 6
    assert _pool(index).num_connections == 1
    # Compressed answers come in pieces that stall a kept-alive connection on delayed ACKs.
    assert index.session.headers["Accept-Encoding"] == "identity"
    index.close()
    # Closed: the next call opens a new connection.
    assert [h.id for h in index.search(Q(q="张晓明")).hits] == ["m1"]
    assert _pool(index).num_connections == 1


def test_threads_share_the_index_each_with_its_own_client(index):
    expected = [h.id for h in index.search(Q(q="结婚登记", per_page=100)).hits]

    def work(i: int):
        # health() (GET) beside searches (POST): one shared client would race on its headers.
        return index.health() if i % 2 else [h.id for h in index.search(Q(q="结婚登记", per_page=100)).hits]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(64)))
    assert results == [True if i % 2 else expected for i in range(64)]


@pytest.mark.parametrize(("q", "round_trips"), [
    ("婚姻登记", 1),  # found as typed: nothing else to ask
    ("结婚审查", 3),  # finds nothing as typed: its pairs are probed, it is cut at 婚审 and asked again
    ("张晓明结婚", 2),  # may hold a full name: probed and cut before it is sent, one federated search
    ("林", 1),
])
def test_round_trips_per_query(index, docs, q, round_trips):
    index.rebuild([*docs, *copy.deepcopy(JOINED)])
    before = _pool(index).num_requests
    assert index.search(Q(q=q)).hits
    assert _pool(index).num_requests - before == round_trips


def test_rebuild_in_many_batches_reports_progress_as_they_are_indexed(index, docs, monkeypatch):
    monkeypatch.setattr(meili_backend, "LOAD_BYTES", 1)  # a request per document
    monkeypatch.setattr(meili_backend, "LOAD_QUEUED", 2)
    seen: list[int] = []
    assert index.rebuild(docs, progress=seen.append) == len(docs)
    assert seen == [1] * len(docs)
    assert index.search(Q(per_page=100)).total == len([d for d in docs if d["access_level"] == "open"])


def test_a_rebuild_failing_midway_keeps_the_live_index_and_drops_the_partial_one(index, docs, monkeypatch):
    monkeypatch.setattr(meili_backend, "LOAD_BYTES", 1)
    before = index.search(Q(per_page=100))
    with pytest.raises(ValueError, match="access_level"):
        index.rebuild([*docs[:9], {**docs[0], "id": "bad", "access_level": "secret"}])
    assert index.search(Q(per_page=100)) == before
    uids = {i["uid"] for i in index.client.get_raw_indexes({"limit": 1000})["results"]}
    assert f"{index.name}__rebuild" not in uids


def test_a_task_status_that_never_comes_is_asked_again_until_the_task_time_is_up(tmp_path, caplog):
    """A server that takes the connection and never answers (a busy machine, a connection dropped
    without a word): each status request times out, is sent again on a new connection, and the
    wait ends with SearchUnavailable when the task's time is up, not at the first silence."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # accepted by the kernel, never read, never answered
        index = meili_backend.MeiliIndex(f"http://127.0.0.1:{silent.getsockname()[1]}", "irrelevant", NAME_SECRET,
                                         timeout=0.3, task_timeout_ms=1500)
        task = type("TaskInfo", (), {"task_uid": 1})()
        with pytest.raises(SearchUnavailable, match="unavailable"):
            index._wait("test", task)
        index.close()
    assert caplog.text.count("no answer yet, asking again") >= 2
