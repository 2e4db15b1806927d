"""Uploaded proofs: the type comes from the content, broken or hostile files are refused, storage is private."""
from __future__ import annotations

import stat
from io import BytesIO
from pathlib import Path

import flask
import pytest
from PIL import Image

from portal.core import uploads
from portal.core.uploads import (MAX_FILE_BYTES, UploadRejected, check_upload, clean_filename,
                                     delete_stored, send_stored, store, stored_path)
from tests import files

STATIC = Path(__file__).resolve().parents[2] / "static"


def rejected(name: str, data: bytes, **kwargs) -> str:
    with pytest.raises(UploadRejected) as info:
        check_upload(name, BytesIO(data), **kwargs)
    return str(info.value)


@pytest.mark.parametrize(("name", "data", "content_type", "extension"), [
    ("证明.pdf", files.pdf_bytes(), "application/pdf", "pdf"),
    ("three pages.PDF", files.pdf_bytes(pages=3, text="Power of attorney"), "application/pdf", "pdf"),
    ("身份证.jpg", files.jpeg_bytes(), "image/jpeg", "jpg"),
    ("scan.png", files.png_bytes(), "image/png", "png"),
    ("photo.txt", files.png_bytes(), "image/png", "png"),
    ("no-extension", files.jpeg_bytes(), "image/jpeg", "jpg"),
    ("image.png", files.pdf_bytes(), "application/pdf", "pdf"),
])
def test_real_files_are_accepted_by_their_content_whatever_the_name(name, data, content_type, extension):
    upload = check_upload(name, BytesIO(data))
    assert (upload.content_type, upload.extension, upload.original_name) == (content_type, extension, name)
    assert upload.data == data and upload.size == len(data)
    assert len(upload.sha256) == 64


def test_a_pdf_protected_only_by_an_owner_password_is_accepted():
    assert check_upload("a.pdf", BytesIO(files.pdf_bytes(password=""))).content_type == "application/pdf"


@pytest.mark.parametrize(("name", "data", "message"), [
    ("x.png", files.html_bytes(), "“x.png”不是 PDF、JPG 或 PNG 文件"),
    ("x.pdf", files.text_bytes(), "“x.pdf”不是 PDF、JPG 或 PNG 文件"),
    ("扫描件.png", files.corrupt_png_bytes(), "“扫描件.png”已损坏或无法打开"),
    ("照片.jpg", files.truncated_jpeg_bytes(), "“照片.jpg”已损坏或无法打开"),
    ("委托书.pdf", files.fake_pdf_bytes(), "“委托书.pdf”已损坏或无法打开"),
    ("死亡证明.pdf", files.garbage_pdf_bytes(), "“死亡证明.pdf”已损坏或无法打开"),
    ("空.pdf", b"", "“空.pdf”是空文件"),
    ("加密.pdf", files.pdf_bytes(password="secret"), "“加密.pdf”设有打开密码，请上传未加密的文件"),
])
def test_wrong_broken_and_empty_files_are_refused_with_a_message_naming_them(name, data, message):
    assert rejected(name, data) == message


def test_a_file_one_byte_over_10_mb_is_refused_and_one_of_exactly_10_mb_accepted():
    assert rejected("大文件.pdf", files.big_file_bytes(10, extra=1)) == "“大文件.pdf”超过 10 MB"
    assert check_upload("ok.pdf", BytesIO(files.big_file_bytes(10, extra=0))).size == MAX_FILE_BYTES


def test_a_huge_stream_is_never_read_whole():
    class Endless:
        read_so_far = 0

        def read(self, n=-1):
            assert n > 0, "must never ask for everything"
            self.read_so_far += n
            return b"%PDF-" + b"\0" * (n - 5)

    stream = Endless()
    with pytest.raises(UploadRejected, match="超过"):
        check_upload("endless.pdf", stream)
    assert stream.read_so_far == MAX_FILE_BYTES + 1


@pytest.mark.parametrize(("width", "height"), [
    (20000, 20000),  # beyond twice Pillow's limit: its DecompressionBombError
    (10000, 9000),  # beyond Pillow's limit: its warning, which must not escape as a warning
    (9000, 9000),  # under Pillow's limit, over ours
])
def test_decompression_bombs_are_refused_before_decoding(width, height):
    bomb = files.bomb_png_bytes(width, height)
    assert len(bomb) < 100_000
    assert rejected("炸弹.png", bomb) == "“炸弹.png”的图片尺寸过大，无法处理"


def test_our_pixel_limit_holds_even_if_pillows_is_switched_off(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert "尺寸过大" in rejected("b.png", files.bomb_png_bytes(20000, 20000))


@pytest.mark.parametrize(("raw", "clean"), [
    ("C:\\Users\\张三\\Desktop\\户口本.jpg", "户口本.jpg"),
    ("/home/li/证明.pdf", "证明.pdf"),
    ("../../etc/passwd", "passwd"),
    ("a\x00b\r\nc\t.pdf", "abc.pdf"),
    ("invoice\u202egpj.exe", "invoicegpj.exe"),  # right-to-left override used to disguise names
    ("e\u0301.png", "\u00e9.png"),  # NFC
    ("", "未命名文件"),
    (None, "未命名文件"),
    ("dir/", "未命名文件"),
    ("..", "未命名文件"),
    ("长" * 150 + ".pdf", "长" * 100),
])
def test_names_are_cleaned_for_display(raw, clean):
    assert clean_filename(raw) == clean


def test_the_cleaned_name_is_the_one_kept_and_shown():
    assert check_upload("C:\\tmp\\x\x07.png", BytesIO(files.png_bytes())).original_name == "x.png"
    assert rejected("/tmp/坏\x1b.png", files.html_bytes()) == "“坏.png”不是 PDF、JPG 或 PNG 文件"


def test_store_writes_a_private_file_under_a_random_name_and_round_trips(tmp_path):
    folder = tmp_path / "uploads"
    upload = check_upload("证明.pdf", BytesIO(files.pdf_bytes()))
    name = store(upload, folder)
    other = store(upload, folder)
    assert name != other
    assert len(name) == 35 and name[:2] == name[3:5] and name[2] == "/" and "." not in name
    path = stored_path(folder, name)
    assert path == folder / name and path.read_bytes() == upload.data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.resolve().is_relative_to(STATIC.resolve())
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []  # no temp file left
    delete_stored(folder, name)
    assert not path.exists()
    delete_stored(folder, name)  # already gone: no error


@pytest.mark.parametrize("bad", [
    "../x", "/etc/passwd", "ab/../../x", "ab/ab12", "ab/cd" + "0" * 30, "AB/AB" + "0" * 30,
    "ab\\ab" + "0" * 30, "ab/ab" + "0" * 30 + "/", "ab/ab" + "0" * 30 + ".pdf", "", None,
])
def test_stored_path_refuses_anything_store_could_not_have_made(tmp_path, bad):
    with pytest.raises(ValueError):
        stored_path(tmp_path, bad)


@pytest.fixture
def bare_app():
    return flask.Flask(__name__)


def test_send_stored_shows_inline_with_private_no_store_headers(tmp_path, bare_app):
    upload = check_upload("a.png", BytesIO(files.png_bytes()))
    name = store(upload, tmp_path)
    with bare_app.test_request_context():
        response = send_stored(tmp_path, name, download_name="户口本.png", content_type="image/png", inline=True)
        response.direct_passthrough = False
        assert response.get_data() == upload.data
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert "filename*=UTF-8''%E6%88%B7%E5%8F%A3%E6%9C%AC.png" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert "ETag" not in response.headers
    response.close()


def test_send_stored_as_attachment_and_never_inline_for_an_unchecked_type(tmp_path, bare_app):
    name = store(check_upload("a.pdf", BytesIO(files.pdf_bytes())), tmp_path)
    with bare_app.test_request_context():
        pdf = send_stored(tmp_path, name, download_name="委托书.pdf", content_type="application/pdf", inline=False)
        html = send_stored(tmp_path, name, download_name="x.html", content_type="text/html", inline=True)
    for response in (pdf, html):
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["Cache-Control"] == "private, no-store"
        response.close()
    assert pdf.mimetype == "application/pdf"


def test_send_stored_refuses_a_tampered_name(tmp_path, bare_app):
    with bare_app.test_request_context(), pytest.raises(ValueError):
        send_stored(tmp_path, "../../etc/passwd", download_name="x", content_type="image/png", inline=True)


def test_limits_are_the_ones_the_issue_names():
    assert uploads.MAX_FILE_BYTES == 10 * 1024 * 1024 and uploads.MAX_FILES == 5
    assert set(uploads.ALLOWED_TYPES) == {"application/pdf", "image/jpeg", "image/png"}


def test_an_inline_pdf_is_not_sandboxed_because_browsers_would_not_show_it(tmp_path, bare_app):
    name = store(check_upload("a.pdf", BytesIO(files.pdf_bytes())), tmp_path)
    with bare_app.test_request_context():
        response = send_stored(tmp_path, name, download_name="委托书.pdf", content_type="application/pdf", inline=True)
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()
