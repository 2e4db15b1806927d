"""Rules specific to the embedded (SQLite FTS5) backend."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing

import pytest

from tests.search_index.conftest import NAME_SECRET
from search_index import SearchQuery as Q
from search_index import SearchUnavailable, embedded, fts, open_index, query, store, text


@pytest.fixture
def index(tmp_path, docs):
    idx = open_index("embedded", name_secret=NAME_SECRET, data_dir=tmp_path)
    idx.rebuild(docs)
    yield idx
    idx.close()


def test_index_lives_in_its_own_file_under_data_dir(tmp_path, index):
    assert index.path == tmp_path / "search.sqlite3"
    assert index.path.exists()


def test_data_survives_reopening(tmp_path, index):
    index.close()
    again = open_index("embedded", name_secret=NAME_SECRET, data_dir=tmp_path)
    assert [h.id for h in again.search(Q(q="张晓明")).hits] == ["m1"]
    again.close()


def test_large_result_sets_rank_title_matches_first_and_page_consistently(index, monkeypatch):
    # Above BM25_LIMIT matches the ranking switches to title tier + newest
    # first; pages must still partition the matches exactly.
    monkeypatch.setattr(embedded, "BM25_LIMIT", 1)
    full = index.search(Q(q="档案", per_page=100))
    assert set([h.id for h in full.hits][:2]) == {"h1", "e1"}
    paged = [h.id for p in range(1, 8) for h in index.search(Q(q="档案", per_page=2, page=p)).hits]
    assert paged == [h.id for h in full.hits]
    assert len(paged) == full.total == len(set(paged))
    # A page that starts beyond the title tier needs the tier's size.
    assert [h.id for h in index.search(Q(q="档案", per_page=3, page=2)).hits] == paged[3:6]


def test_concurrent_searches_and_writes_from_many_threads(index, docs):
    errors: list[BaseException] = []

    def reader():
        try:
            for _ in range(30):
                assert index.search(Q(q="婚姻")).total == 2
                index.search(Q(per_page=5))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def writer():
        try:
            for i in range(20):
                index.upsert([{**docs[-1], "id": f"w{i}", "title": f"并发写入{i}"}])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert index.search(Q(q="并发写入")).total == 20


def test_unchanged_upsert_is_a_no_op(index, docs):
    con = sqlite3.connect(index.path)
    before = con.execute("SELECT key FROM docs WHERE id = 'm1'").fetchone()
    index.upsert([docs[0]])
    assert con.execute("SELECT key FROM docs WHERE id = 'm1'").fetchone() == before
    con.close()


def test_aggregate_counts_stay_in_step_with_documents(index, docs):
    index.upsert([{**docs[0], "year": 1850}, {**docs[1], "id": "extra"}])
    index.delete(["l1", "missing"])
    con = sqlite3.connect(index.path)
    n_docs = con.execute("SELECT count(*) FROM docs").fetchone()[0]
    assert con.execute("SELECT sum(n) FROM agg").fetchone()[0] == n_docs == len(docs)
    assert con.execute("SELECT count(*) FROM agg WHERE n <= 0").fetchone()[0] == 0
    con.close()


def test_tokenizer_change_triggers_reindex_on_open(tmp_path, index, monkeypatch):
    index.close()
    with closing(sqlite3.connect(tmp_path / "search.sqlite3")) as con, con:
        con.execute("UPDATE meta SET value = 'old' WHERE key = 'fingerprint'")
    reopened = open_index("embedded", name_secret=NAME_SECRET, data_dir=tmp_path)
    assert [h.id for h in reopened.search(Q(q="张晓明")).hits] == ["m1"]
    reopened.delete(["m1"])  # deleting needs the tokens to match exactly
    assert reopened.search(Q(q="张晓明")).total == 0
    with closing(sqlite3.connect(tmp_path / "search.sqlite3")) as con:
        assert store.get_meta(con, "fingerprint") == store.fingerprint()
    reopened.close()


def test_index_file_of_the_previous_layout_is_rebuilt_on_open(tmp_path, docs, monkeypatch):
    current = store.fts_columns

    def previous_layout(doc):  # layout 3: no year in the meta column
        meta = " ".join(str(doc.get(k) or "") for k in ("category_label", "place", "archive_name"))
        title, name, ref, _, summary = current(doc)
        return title, name, ref, fts.ALL_TOKEN + " " + text.index_tokens(meta), summary

    with monkeypatch.context() as patch:
        patch.setattr(store, "fts_columns", previous_layout)
        patch.setattr(fts, "LAYOUT_VERSION", "3")
        old = open_index("embedded", name_secret=NAME_SECRET, data_dir=tmp_path)
        old.rebuild(docs)
        assert old.search(Q(q="结婚 1979")).total == 0
        old.close()
    reopened = open_index("embedded", name_secret=NAME_SECRET, data_dir=tmp_path)
    assert [h.id for h in reopened.search(Q(q="结婚 1979")).hits] == ["m2"]
    reopened.delete(["m2"])  # deleting needs the new layout's tokens
    assert reopened.search(Q(q="孙建华")).total == 0
    with closing(sqlite3.connect(tmp_path / "search.sqlite3")) as con:
        assert store.get_meta(con, "fingerprint") == store.fingerprint()
        assert con.execute("SELECT count(*) FROM docs").fetchone()[0] == len(docs) - 1
    reopened.close()


def test_query_words_are_cut_where_a_pair_is_unknown():
    def expr(terms, unknown):
        return fts.match_expr([query.Reading((), tuple(terms))], unknown)

    assert expr(["东江镇结婚"], {"镇结"}) == '("东江" AND "江镇" AND "结婚")'
    assert expr(["林存"], {"林存"}) == '("林"* AND "存"*)'
    assert expr(["东江镇结婚"], frozenset()) == '("东江" AND "镇结" AND "结婚")'


def test_every_reading_of_a_query_is_matched_names_in_the_name_column():
    one, two = query.Reading((), ("王秀英结婚",)), query.Reading(("nkabc",), ("结婚",))
    assert fts.match_expr([one, two], frozenset()) == (
        '(("王秀" AND "英结" AND "结婚")) OR (name : "nkabc" AND ("结婚"))')


def test_years_outside_the_key_range_are_clamped_not_rejected(index, docs):
    index.upsert([{**docs[0], "id": "old", "year": -5, "title": "远古档案"},
                  {**docs[0], "id": "future", "year": 9999, "title": "未来档案"}])
    assert index.search(Q(q="远古")).total == 1
    assert index.search(Q(q="未来", year_from=2559)).total == 1


def test_invalid_documents_are_rejected_with_a_clear_error(index, docs):
    with pytest.raises(ValueError, match="access_level"):
        index.upsert([{**docs[0], "access_level": "secret"}])
    with pytest.raises(ValueError, match="lacks fields"):
        index.upsert([{"id": "x"}])


def test_search_on_a_closed_index_is_unavailable(index):
    index.close()
    with pytest.raises(SearchUnavailable):
        index.search(Q(q="婚姻"))
    assert index.health() is False


def test_unwritable_location_is_unavailable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SearchUnavailable):
        open_index("embedded", name_secret=NAME_SECRET, data_dir=blocker)


def test_key_layout_keeps_newest_first_and_fields_apart():
    newer = fts.pack(2000, 3, 5, 1, 7)
    older = fts.pack(1999, 200, 16000, 2, fts.SEQ_MASK)
    assert 0 < newer < older < 2**63
    group = lambda key: fts.decode_group((key >> fts.GROUP_SHIFT) & fts.GROUP_MASK)  # noqa: E731
    assert group(newer) == ("2000", 3, 5)
    assert group(older) == ("1990", 200, 16000)
    years = [fts.year_field(y) for y in (2025, 2020, 2019, 2011, 2010, 2009, 1950, 0)]
    assert years == sorted(years) and len(set(years)) == len(years)


def test_split_range_cuts_at_years_into_similar_sized_parts():
    per_year = {fts.year_field(y): 10 for y in range(1950, 2020)}
    lo, hi = fts.key_range(None, None)
    parts = fts.split_range(lo, hi, per_year, 2)
    assert len(parts) == 2 and parts[0][0] == lo and parts[-1][1] == hi
    assert parts[0][1] + 1 == parts[1][0] == fts.year_field(1984) << fts.YEAR_SHIFT
    assert fts.split_range(lo, hi, {}, 2) == [(lo, hi)]


def test_open_index_rejects_unknown_backend(tmp_path):
    with pytest.raises(ValueError, match="unknown search backend"):
        open_index("elastic", name_secret=NAME_SECRET, data_dir=tmp_path)


def test_writers_in_other_processes_wait_for_a_rebuild_instead_of_losing_changes(tmp_path, docs):
    # Two index objects on one directory stand for two gunicorn workers: the
    # file lock is per open file, so they exclude each other like processes.
    rebuilding = open_index("embedded", name_secret=NAME_SECRET, data_dir=tmp_path)
    other = open_index("embedded", name_secret=NAME_SECRET, data_dir=tmp_path)
    started, finished = threading.Event(), threading.Event()

    def sync_step():
        started.wait(5)
        other.upsert([{**docs[0], "id": "late", "title": "重建期间的改动"}])
        finished.set()

    writer = threading.Thread(target=sync_step)
    writer.start()

    def progress(n):
        started.set()
        assert not finished.wait(0.3), "the other writer must wait for the swap"

    rebuilding.rebuild(docs, progress=progress)
    writer.join(5)
    assert finished.is_set()
    assert [h.id for h in rebuilding.search(Q(q="重建期间")).hits] == ["late"]
    rebuilding.close()
    other.close()


def test_rebuilds_give_the_old_tables_space_back(tmp_path, docs):
    many = [{**d, "id": f"{d['id']}-{i}", "title": f"{d['title']}{i}"} for i in range(200) for d in docs]
    idx = open_index("embedded", name_secret=NAME_SECRET, data_dir=tmp_path)
    try:
        idx.rebuild(many)
        first = idx.path.stat().st_size
        for _ in range(3):
            idx.rebuild(many)
        assert idx.path.stat().st_size < first * 1.3, "the file must not keep a second copy's pages"
        assert idx.search(Q(q="结婚")).total > 0
    finally:
        idx.close()
