"""TIFF, the scanning format of digitization, as digitized copies: every page read by OCR, each
page shown to a browser as PNG; its size checked from the headers. Citizens' proofs stay PDF, JPG
or PNG, and a TIFF copy is never offered as a certificate's certified copy."""
from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from portal.admin import jobs
from portal.catalog.indexing import get_index, sync_outbox
from portal.core.uploads import MAX_IMAGE_PIXELS, UploadRejected, check_upload
from portal.db import db
from tests.admin_pages.copies_files import scanned_tiff
from tests.admin_pages.test_copies import archive, attach, copies_of, manager, search_total  # noqa: F401 (fixtures)


def test_a_multi_page_tiff_is_read_page_by_page_and_shown_as_png(client, session, factory, archive, manager):
    record = factory.record(archive, title="林权登记簿", category="forest_rights")
    tiff = scanned_tiff(("林权登记簿 龙滩村集体林地",), ("退伍军人安置介绍信",))
    assert attach(client, record, tiff, "扫描件.tif").status_code == 303
    [copy] = copies_of(session, record)
    assert (copy.content_type, copy.page_count) == ("image/tiff", 2)
    assert jobs.run_pending(session) == 1
    session.refresh(copy)
    job = session.get(jobs.AdminJob, copy.job_id)
    assert (job.status, job.done, job.total) == ("done", 2, 2)
    assert "龙滩" in copy.text and "安置介绍信" in copy.text
    sync_outbox(db.session, get_index())
    assert search_total(client, "安置介绍信") == 1
    response = client.get(f"/copies/{record.id}/{copy.id}/2")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert "no-store" in response.headers["Cache-Control"] and 'filename="page-2.png"' in response.headers[
        "Content-Disposition"]
    with Image.open(BytesIO(response.data)) as page:
        assert page.format == "PNG" and page.width == 1400
    assert client.get(f"/copies/{record.id}/{copy.id}/3").status_code == 404


def test_a_tiff_page_over_the_pixel_limit_is_refused_from_its_header():
    side = int(MAX_IMAGE_PIXELS ** 0.5) + 10
    out = BytesIO()
    Image.new("1", (side, side), 1).save(out, "TIFF", compression="group4")  # a few KB on disk
    assert len(out.getvalue()) < 100_000
    with pytest.raises(UploadRejected) as refused:
        check_upload("big.tif", BytesIO(out.getvalue()), tiff=True)
    assert "尺寸过大" in str(refused.value.message)


def test_junk_after_a_tiff_header_is_refused():
    with pytest.raises(UploadRejected) as refused:
        check_upload("junk.tif", BytesIO(b"II*\x00" + b"\x00" * 200), tiff=True)
    assert "损坏" in str(refused.value.message)


def test_citizens_proofs_are_still_pdf_jpg_or_png():
    tiff = scanned_tiff(("证明",))
    with pytest.raises(UploadRejected) as refused:
        check_upload("proof.tif", BytesIO(tiff))
    assert "不是 PDF、JPG 或 PNG 文件" in str(refused.value.message)
    assert check_upload("scan.tif", BytesIO(tiff), tiff=True).content_type == "image/tiff"
