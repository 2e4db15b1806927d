"""Drafts are bounded (issue 11, section 4).

The good files of an application form that failed its checks are kept for the corrected form
("drafts"). Without bounds, one citizen could fill the disk by sending failing forms: now each
person's drafts take at most 50 MB (a file beyond it is named, to be chosen again, and the rest of
the form is kept), and drafts older than 7 days are deleted, rows and files — by every serving
process in the background, and by `portal purge-drafts`."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select, update

from portal.accounts.models import User
from portal.core.clock import utcnow
from portal.core.uploads import stored_path
from portal.db import db
from portal.requests import service
from portal.requests.drafts import DRAFT_LIFETIME, DRAFT_QUOTA_BYTES, draft_bytes, purge_drafts
from portal.requests.models import RequestFile
from portal.requests.service import Application, ApplicationInvalid, SearchSpec, Upload
from portal.workers import start_in_each_process
from tests import files
from tests.factories import make_id_number
from tests.helpers import field_error
from tests.request_pages.conftest import files_in_db, form_keys, post_apply, sign_in, stored_files, upload

MB = 1024 * 1024
PURPOSE_NOTE = "办理土地确权"


def quota_message(name: str) -> str:
    return f"“{name}”未能暂存：您暂存的文件已达 50 MB 的上限，提交时请重新选择这个文件"


@pytest.fixture
def archive(factory):
    return factory.archive(code="451200", name="河池市档案馆")


@pytest.fixture
def citizen(factory, archive):
    return factory.user(email="wang@example.cn", name="王秀英", id_number=make_id_number(born="19580704", seq=26))


def failing(**changes) -> Application:
    """A "please search for me" application whose only fault is the missing consent."""
    values = dict(relation="self", search=SearchSpec(category="land_contract"), purpose="other",
                  purpose_note=PURPOSE_NOTE, issuing_archive="451200", delivery="pickup", consent=False)
    values.update(changes)
    return Application(**values)


def make_drafts(session, owner, *names: str) -> list[RequestFile]:
    uploads = [Upload("supplement", name, BytesIO(files.pdf_bytes(text=name))) for name in names]
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, owner, failing(), uploads, keep_drafts=True)
    assert {k: str(v) for k, v in info.value.errors.items()} == {"consent": "需要您同意处理申请中的个人信息，档案馆才能办理"}
    return info.value.kept


def age(session, drafts: list[RequestFile], days: float) -> None:
    session.execute(update(RequestFile).where(RequestFile.id.in_([d.id for d in drafts]))
                    .values(created_at=utcnow() - timedelta(days=days)))
    session.commit()


def on_disk(app, draft: RequestFile) -> bool:
    return stored_path(app.config["UPLOAD_FOLDER"], draft.stored_name).exists()


def rows(session) -> set[int]:
    session.expire_all()
    return set(session.scalars(select(RequestFile.id)))


def test_the_settings_are_50_mb_and_7_days():
    assert (DRAFT_QUOTA_BYTES, DRAFT_LIFETIME) == (50 * MB, timedelta(days=7))


# ---- the quota ----------------------------------------------------------------------------------

def _search_form(client) -> dict:
    token, key = form_keys(client, "/apply?kind=search")
    return {"csrf_token": token, "submission_key": key, "kind": "search", "relation": "self",
            "search_category": "land_contract", "year_from": "1982", "year_to": "1999",
            "search_place": "金城江区东江镇", "purpose": "other", "purpose_note": PURPOSE_NOTE,
            "issuing_archive": "451200", "delivery": "pickup"}  # no consent: the form fails


def test_a_draft_beyond_50_mb_is_refused_by_name_and_the_form_keeps_the_rest(app, session, client, citizen):
    sign_in(client, citizen)
    big = files.big_file_bytes(9.5, extra=0)
    first = post_apply(client, _search_form(client),
                       {"supplement": [upload(big, f"扫描{n}.pdf") for n in range(1, 6)]})
    assert first.status_code == 422
    assert len(files_in_db(session)) == 5 and draft_bytes(session, citizen) == 5 * len(big)  # 47.5 MB

    # The citizen unticks the kept files and sends another big one: it would pass 50 MB.
    second = post_apply(client, _search_form(client), {"supplement": upload(big, "户口簿.pdf")})
    html = second.get_data(as_text=True)
    assert second.status_code == 422
    assert field_error(html, "supplement") == quota_message("户口簿.pdf")
    assert PURPOSE_NOTE in html and "金城江区东江镇" in html  # what was typed is kept
    assert len(files_in_db(session)) == 5 and len(stored_files(app)) == 5

    # A file that still fits is kept as before.
    small = files.big_file_bytes(2, extra=0)
    third = post_apply(client, _search_form(client), {"supplement": upload(small, "小.pdf")})
    assert third.status_code == 422
    assert field_error(third.get_data(as_text=True), "supplement") is None
    assert len(files_in_db(session)) == 6 and draft_bytes(session, citizen) == 5 * len(big) + len(small)


def test_the_quota_is_per_person_and_attached_files_do_not_count(app, session, factory, citizen):
    app.config["DRAFT_QUOTA_BYTES"] = sum(len(files.pdf_bytes(text=name)) for name in ("户口簿.pdf", "结婚证.pdf"))
    kept = make_drafts(session, citizen, "户口簿.pdf", "结婚证.pdf")
    assert len(kept) == 2
    # Full: a third is refused, under its field, with the quota named.
    with pytest.raises(ApplicationInvalid) as info:
        service.submit(session, citizen, failing(), [Upload("supplement", "死亡证.pdf", BytesIO(
            files.pdf_bytes(text="死亡证.pdf")))], keep_drafts=True)
    assert "“死亡证.pdf”未能暂存" in str(info.value.errors["supplement"])
    assert info.value.kept == []
    # Someone else has their own room.
    other = factory.user(email="li@example.cn", name="李明")
    assert len(make_drafts(session, other, "户口簿.pdf", "结婚证.pdf")) == 2
    # Drafts used by a submitted request are no longer drafts: the room is free again.
    service.submit(session, citizen, failing(consent=True), kept_file_ids=[f.public_id for f in kept])
    assert draft_bytes(session, citizen) == 0
    assert len(make_drafts(session, citizen, "死亡证.pdf")) == 1


def test_two_forms_sent_at_once_cannot_both_fill_the_last_room(app, session, citizen):
    """Each form alone fits; both together do not: the quota is checked under the person's lock."""
    app.config["DRAFT_QUOTA_BYTES"] = int(1.5 * len(files.pdf_bytes(text="扫描.pdf")))
    start = threading.Barrier(4)
    outcomes: list[str] = []
    problems: list[str] = []
    lock = threading.Lock()

    def tab() -> None:
        with app.app_context():
            own_session = db.session
            user = own_session.get(User, citizen.id)
            start.wait(timeout=10)
            try:
                service.submit(own_session, user, failing(), [Upload("supplement", "扫描.pdf", BytesIO(
                    files.pdf_bytes(text="扫描.pdf")))], keep_drafts=True)
            except ApplicationInvalid as exc:
                with lock:
                    outcomes.append("kept" if exc.kept else "refused")
            except Exception as exc:  # noqa: BLE001 — reported below
                with lock:
                    problems.append(repr(exc))

    threads = [threading.Thread(target=tab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert problems == []
    assert sorted(outcomes) == ["kept", "refused", "refused", "refused"]
    assert len(rows(session)) == 1 and len(stored_files(app)) == 1


# ---- the purge ----------------------------------------------------------------------------------

def test_drafts_older_than_7_days_are_deleted_with_their_files_and_newer_ones_kept(app, session, factory,
                                                                                   citizen):
    old, recent = make_drafts(session, citizen, "旧.pdf", "新.pdf")
    other = factory.user(email="li@example.cn", name="李明")
    [others_old] = make_drafts(session, other, "别人的.pdf")
    [used] = make_drafts(session, citizen, "已提交.pdf")
    service.submit(session, citizen, failing(consent=True), kept_file_ids=[used.public_id])
    age(session, [old, others_old, used], days=7.01)
    age(session, [recent], days=6.9)

    assert purge_drafts(session) == 2
    assert rows(session) == {recent.id, used.id}
    assert [on_disk(app, f) for f in (old, others_old, recent, used)] == [False, False, True, True]
    assert purge_drafts(session) == 0


def test_the_next_application_of_the_owner_purges_their_old_drafts_only(app, session, factory, citizen):
    [old] = make_drafts(session, citizen, "旧.pdf")
    [recent] = make_drafts(session, citizen, "新.pdf")
    other = factory.user(email="li@example.cn", name="李明")
    [others_old] = make_drafts(session, other, "别人的.pdf")
    age(session, [old, others_old], days=8)
    age(session, [recent], days=2)  # kept longer than the day it used to be
    service.submit(session, citizen, failing(consent=True))
    assert rows(session) == {recent.id, others_old.id}
    assert not on_disk(app, old) and on_disk(app, others_old)


def test_portal_purge_drafts_deletes_old_drafts_and_says_how_many(app, session, citizen):
    old = make_drafts(session, citizen, "一.pdf", "二.pdf", "三.pdf")
    [recent] = make_drafts(session, citizen, "四.pdf")
    age(session, old, days=10)

    result = app.test_cli_runner().invoke(args=["purge-drafts"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "已删除 3 个过期的暂存文件 (expired drafts deleted)"
    assert rows(session) == {recent.id}
    assert [p.read_bytes() for p in stored_files(app)] == [files.pdf_bytes(text="四.pdf")]


def test_every_serving_process_purges_in_the_background(app, client, session, citizen):
    old = make_drafts(session, citizen, "旧.pdf")
    age(session, old, days=8)
    app.config.update(DRAFT_PURGE_WORKER=True, DRAFT_PURGE_INTERVAL=3600)
    start_in_each_process(app)
    try:
        client.get("/healthz")  # the process's first request starts its workers; the purge runs at start
        assert "draft_purge" in app.extensions
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and stored_files(app):
            time.sleep(0.02)
    finally:
        for key in ("draft_purge", "search_sync", "mail_worker"):
            if key in app.extensions:
                app.extensions[key].stop()
    assert stored_files(app) == []
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(RequestFile)) == 0
    assert not any(t.name == "draft-purge" for t in threading.enumerate())


def test_test_apps_start_no_purge_worker_unless_asked(app, client):
    start_in_each_process(app)
    try:
        client.get("/healthz")
        assert "draft_purge" not in app.extensions
    finally:
        for key in ("search_sync", "mail_worker"):
            if key in app.extensions:
                app.extensions[key].stop()
