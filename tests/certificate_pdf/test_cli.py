"""`portal keys init`: keys for the archives in the database, into SIGNING_KEYS_DIR."""
from __future__ import annotations

import stat

from portal.certificates.pdf import render
from portal.certificates.signing import check, load_signer, sign
from tests.certificate_pdf.conftest import found_content


def test_keys_init_creates_then_keeps_keys_for_every_archive(app, factory, tmp_path):
    factory.archive("450100", "南宁市档案馆", "南宁市")
    factory.archive("451202", "河池市金城江区档案馆", "河池市")
    # An empty folder of its own: the test app's shared one may already hold these archives' keys.
    keys_dir = app.config["SIGNING_KEYS_DIR"] = tmp_path / "keys"
    runner = app.test_cli_runner()

    result = runner.invoke(args=["keys", "init"])
    assert result.exit_code == 0, result.output
    assert "已创建开发测试根证书" in result.output
    assert "已创建 450100 南宁市档案馆 的签章密钥" in result.output
    assert "已创建 451202 河池市金城江区档案馆 的签章密钥" in result.output
    for name in ("ca.cert.pem", "ca.key.pem", "450100.key.pem", "450100.cert.pem", "451202.key.pem"):
        assert (keys_dir / name).is_file(), name
    assert stat.S_IMODE((keys_dir / "451202.key.pem").stat().st_mode) == 0o600
    key = (keys_dir / "450100.key.pem").read_bytes()

    again = runner.invoke(args=["keys", "init"])
    assert again.exit_code == 0, again.output
    assert "保留 450100 南宁市档案馆 的现有签章密钥" in again.output and "已创建" not in again.output
    assert (keys_dir / "450100.key.pem").read_bytes() == key

    forced = runner.invoke(args=["keys", "init", "--force"])
    assert forced.exit_code == 0 and "已创建 450100" in forced.output
    assert (keys_dir / "450100.key.pem").read_bytes() != key
    signed = sign(render(found_content()), load_signer(keys_dir, "450100"))
    assert check(signed, keys_dir).trusted


def test_keys_init_without_archives_says_so(app):
    result = app.test_cli_runner().invoke(args=["keys", "init"])
    assert result.exit_code == 1
    assert "没有档案馆" in result.output
