"""Digitized copies: attaching one file or a ZIP, reading the text (text layer or OCR in the job,
with progress), masking contact data, and finding the text in public search for open records only."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.admin import jobs
from portal.admin.copies import COPY_MAX_BYTES, ZIP_MAX_ENTRIES, ZIP_MAX_TOTAL_BYTES
from portal.catalog.copies import DigitizedCopy
from portal.catalog.indexing import get_index, sync_outbox
from portal.catalog.outbox import queue_index
from portal.core.masking import mask_contact_text
from portal.db import db
from tests.admin_pages.copies_files import (ID_NUMBER, LANDLINE, MOBILE, scanned_pdf, scanned_png, text_pdf,
                                            zip_of)
from tests.factories import PASSWORD
from tests.files import fake_pdf_bytes, png_bytes
from tests.helpers import csrf_token, login, select_one, texts
from tests.review_pages.conftest import post_multipart


@pytest.fixture
def archive(factory):
    return factory.archive("451200", "河池市档案馆")


@pytest.fixture
def manager(client, factory, archive):
    user = factory.user("archive_admin", archive=archive, email="manager@example.cn", name="王五")
    login(client, user.email, PASSWORD)
    return user


def attach(client, record, content: bytes, filename: str):
    url = f"/admin/{record.archive.code}/records/{record.id}/copies"
    return post_multipart(client, url, {"csrf_token": csrf_token(client, url)}, file=(content, filename))


def search_total(client, q: str) -> int:
    return client.get(f"/api/v1/search?q={q}").get_json()["total"]


def copies_of(session, record) -> list[DigitizedCopy]:
    return list(session.scalars(select(DigitizedCopy).where(DigitizedCopy.record_id == record.id)))


def test_contact_data_in_copy_text_is_masked():
    masked = mask_contact_text(f"身份证 {ID_NUMBER}，旧证 451202650312123，手机 {MOBILE}，"
                               f"+86 138 1234 5678，座机 {LANDLINE} 或 07782283456，档号 J001-1985-0001，1985年")
    assert masked == ("身份证 451202********123X，旧证 451202*****2123，手机 138****5678，"
                      "+86 138****5678，座机 0778-******* 或 0778*******，档号 J001-1985-0001，1985年")


def test_a_pdf_text_layer_is_stored_masked_and_found_for_an_open_record_only(client, session, factory, archive,
                                                                             manager):
    open_record = factory.record(archive, title="林权登记簿", category="forest_rights")
    restricted = factory.record(archive, title="林权登记簿", category="forest_rights", access_level="restricted")
    for record in (open_record, restricted):
        response = attach(client, record, text_pdf(), "scan.pdf")
        assert response.status_code == 303
    assert jobs.run_pending(session) == 2
    for record in (open_record, restricted):
        [copy] = copies_of(session, record)
        assert (copy.text_status, copy.text_source, copy.page_count) == ("done", "pdf_text", 1)
        assert "Longtan" in copy.text and "451202********123X" in copy.text and "138****5678" in copy.text
        assert ID_NUMBER not in copy.text and MOBILE not in copy.text and "2283456" not in copy.text
    sync_outbox(db.session, get_index())
    body = client.get("/api/v1/search?q=Longtan").get_json()
    assert body["total"] == 1, "only the open record's copy text is public"
    assert [h["reference_code"] for h in body["hits"]] == [open_record.reference_code]
    # A hit found through a copy shows the title (as every hit does), never the copy's text.
    assert "Longtan" not in str(body["hits"]) and body["hits"][0]["highlight"] == "林权登记簿"
    assert "register" not in client.get("/search?q=Longtan").get_data(as_text=True)
    assert search_total(client, MOBILE) == 0 and search_total(client, ID_NUMBER) == 0
    # A record opened later (appraisal, an edit: each queues it) brings its copy text along.
    restricted.access_level = "open"
    queue_index(session, [restricted.id])
    session.commit()
    sync_outbox(db.session, get_index())
    assert search_total(client, "Longtan") == 2
    # The record page says the copy is there and links to its pages.
    page = client.get(f"/records/{archive.code}/{open_record.reference_code}").get_data(as_text=True)
    assert select_one(page, f'a[href="/copies/{open_record.id}"]') is not None


def test_a_scan_without_text_is_read_by_ocr_in_the_job_with_progress(client, session, factory, archive, manager):
    record = factory.record(archive, title="林权登记簿", category="forest_rights")
    assert attach(client, record, scanned_pdf(), "扫描件.pdf").status_code == 303
    url = f"/admin/{archive.code}/records/{record.id}/copies"
    page = client.get(url).get_data(as_text=True)
    assert "正在识别文字：0 / 1 页" in page
    poller = select_one(page, "#record-copies")
    assert poller["hx-get"] == f"{url}/progress" and poller["hx-trigger"] == "every 2s"
    assert jobs.run_pending(session) == 1
    [copy] = copies_of(session, record)
    assert (copy.text_status, copy.text_source) == ("done", "ocr")
    assert "龙滩" in copy.text and "138****5678" in copy.text and MOBILE not in copy.text
    assert ID_NUMBER not in copy.text
    job = session.get(jobs.AdminJob, copy.job_id)
    assert (job.status, job.done, job.total) == ("done", 1, 1)
    # Done: the partial stops polling and says how the text was read.
    partial = client.get(f"{url}/progress", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert not select_one(partial, "#record-copies").has_attr("hx-get") and "已 OCR 识别" in partial
    sync_outbox(db.session, get_index())
    assert search_total(client, "龙滩") == 1
    # A page image is read by OCR too.
    assert attach(client, record, scanned_png(lines=("退伍军人安置介绍信",)), "page.png").status_code == 303
    jobs.run_pending(session)
    sync_outbox(db.session, get_index())
    assert search_total(client, "安置介绍信") == 1


def test_a_file_that_fails_the_upload_checks_is_refused_next_to_the_field(client, session, factory, archive, manager):
    record = factory.record(archive)
    response = attach(client, record, fake_pdf_bytes(), "fake.pdf")
    assert response.status_code == 422 and "已损坏或无法打开" in texts(response, "#file-error")[0]
    response = attach(client, record, b"", "")
    assert response.status_code == 422 and texts(response, "#file-error")
    assert copies_of(session, record) == []


def test_the_same_file_sent_twice_is_attached_once(client, session, factory, archive, manager):
    record = factory.record(archive)
    assert attach(client, record, text_pdf(), "a.pdf").status_code == 303
    assert attach(client, record, text_pdf(), "a.pdf").status_code == 303
    assert len(copies_of(session, record)) == 1 and jobs.run_pending(session) == 1


def post_zip(client, archive, content: bytes, filename: str = "batch.zip"):
    url = f"/admin/{archive.code}/copies"
    return post_multipart(client, f"{url}/zip", {"csrf_token": csrf_token(client, url)}, zip=(content, filename))


def test_a_zip_is_matched_by_reference_code_with_page_suffixes(client, session, factory, archive, manager):
    one = factory.record(archive, reference_code="J001-1985-0001")
    two = factory.record(archive, reference_code="J001-1985-0002")
    other = factory.archive("450100", "南宁市档案馆")
    factory.record(other, reference_code="J009-1990-0001")
    response = post_zip(client, archive, zip_of({
        "J001-1985-0001.pdf": text_pdf(),
        "scans/J001-1985-0002_001.png": png_bytes(),
        "scans/J001-1985-0002_002.png": png_bytes(41, 30),
        "J009-1990-0001.pdf": text_pdf(),          # another archive's record: not matched here
        "../J001-1985-0001.pdf": text_pdf(),       # path traversal
        "/etc/J001-1985-0001.pdf": text_pdf(),     # absolute path
        "J001-1985-0001_009.zip": zip_of({"a.pdf": text_pdf()}),  # nested ZIP
        "J001-1985-0002_003.png": zip_of({"a.pdf": text_pdf()}),  # a ZIP under another name
        "J001-1985-0002_004.png": fake_pdf_bytes(),               # fails the upload checks
    }))
    assert response.status_code == 200
    assert sorted(texts(response, ".zip-matched li")) == [
        "J001-1985-0001.pdf → J001-1985-0001", "J001-1985-0002_001.png → J001-1985-0002",
        "J001-1985-0002_002.png → J001-1985-0002"]
    assert texts(response, ".zip-unmatched li") == ["J009-1990-0001.pdf"]
    assert len(texts(response, ".zip-refused li")) == 5
    assert len(copies_of(session, one)) == 1 and len(copies_of(session, two)) == 2


@pytest.mark.parametrize("case", ["too_many", "bomb_total", "not_a_zip"])
def test_a_zip_over_a_limit_is_refused_whole(client, session, factory, archive, manager, case):
    factory.record(archive, reference_code="J001-1985-0001")
    if case == "too_many":
        content = zip_of({f"J001-1985-0001_{n:03d}.png": b"" for n in range(ZIP_MAX_ENTRIES + 1)})
    elif case == "bomb_total":  # a few KB that would unpack to more than the total limit
        zeros = b"\0" * (COPY_MAX_BYTES - 1)
        content = zip_of({f"J001-1985-0001_{n:03d}.pdf": zeros for n in range(ZIP_MAX_TOTAL_BYTES // COPY_MAX_BYTES + 1)})
        assert len(content) < 1024 * 1024
    else:
        content = text_pdf()
    response = post_zip(client, archive, content)
    assert response.status_code == 422 and texts(response, "#zip-error")
    assert session.scalar(select(func.count()).select_from(DigitizedCopy)) == 0


def test_an_entry_over_the_file_limit_is_refused_without_unpacking_it(client, session, factory, archive, manager):
    factory.record(archive, reference_code="J001-1985-0001")
    content = zip_of({"J001-1985-0001.pdf": b"\0" * (COPY_MAX_BYTES + 1)})
    response = post_zip(client, archive, content)
    assert response.status_code == 200 and len(texts(response, ".zip-refused li")) == 1
    assert session.scalar(select(func.count()).select_from(DigitizedCopy)) == 0


def test_the_subjects_name_in_copy_text_reaches_the_index_masked(session, factory, archive):
    """The public index never holds a full name (only a keyed token of it): the subject's name in
    the text of a copy is masked as it is in the summary, in either script."""
    from portal.catalog.copies import DigitizedCopy
    from portal.catalog.indexing import record_document

    record = factory.record(archive, subject_name="韦秀英", title="结婚登记审查处理表")
    session.add(DigitizedCopy(record=record, stored_name="x", content_type="application/pdf", original_name="a.pdf",
                              text="男方覃建国，女方韦秀英，1985 年登记。女方韋秀英签字。", text_status="done"))
    session.flush()
    text = record_document(record)["copy_text"]
    assert "韦秀英" not in text and "韋秀英" not in text and "1985 年登记" in text
