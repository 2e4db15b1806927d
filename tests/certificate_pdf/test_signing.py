"""Signing a certificate, checking a signature, and the development keys."""
from __future__ import annotations

import hashlib
import random
import stat
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader

from portal.certificates.document import Attachment
from portal.certificates.pdf import render
from portal.certificates.signing import (SignatureCheck, SigningKeyMissing, check, init_keys, load_signer, sign,
                                         trust_roots)
from tests.certificate_pdf.conftest import ARCHIVES, found_content
from tests.files import fake_pdf_bytes, garbage_pdf_bytes, jpeg_bytes, pdf_bytes


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return render(found_content())


@pytest.fixture(scope="module")
def signed(unsigned, keys_dir) -> bytes:
    return sign(unsigned, load_signer(keys_dir, "450100"), reason="档案查询结果证明")


def test_signature_validates_against_the_dev_ca(signed, keys_dir):
    assert check(signed, trust_roots(keys_dir)) == SignatureCheck(signed=True, intact=True, trusted=True,
                                                                   signer="南宁市档案馆")
    assert check(signed, keys_dir).trusted           # the keys folder itself
    assert check(signed, keys_dir / "ca.cert.pem").trusted   # or the root's PEM file
    root = x509.load_pem_x509_certificate((keys_dir / "ca.cert.pem").read_bytes())
    assert check(signed, [root]).trusted             # or cryptography certificates


def test_signature_from_another_ca_is_intact_but_not_trusted(signed, other_ca_dir, keys_dir):
    result = check(signed, trust_roots(other_ca_dir))
    assert (result.signed, result.intact, result.trusted) == (True, True, False)
    forged = sign(render(found_content()), load_signer(other_ca_dir, "450100"))
    # A forger's key calls itself 南宁市档案馆: an untrusted certificate's name is never repeated.
    assert check(forged, keys_dir) == SignatureCheck(signed=True, intact=True, trusted=False, signer=None)


def test_signature_names_signer_location_and_reason(signed):
    from pyhanko.pdf_utils.reader import PdfFileReader

    signature = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    assert signature.sig_object["/Name"] == "南宁市档案馆"
    assert signature.sig_object["/Reason"] == "档案查询结果证明"
    assert signature.sig_object["/Location"] == "中国"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"


def test_signed_file_keeps_every_page(keys_dir):
    bundle = render(found_content(attachments=(Attachment("a.pdf", pdf_bytes(3)), Attachment("b.jpg", jpeg_bytes()))))
    signed_bundle = sign(bundle, load_signer(keys_dir, "450100"))
    assert len(PdfReader(BytesIO(signed_bundle)).pages) == len(PdfReader(BytesIO(bundle)).pages)
    assert check(signed_bundle, keys_dir).trusted


def _flip(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


def test_one_changed_byte_breaks_the_signature(signed, keys_dir):
    # A digit of the serial in the document's metadata (plain text in the signed range)...
    position = signed.index(b"450100-2026-000001") + 17
    tampered = signed[:position] + b"9" + signed[position + 1:]
    assert hashlib.sha256(tampered).hexdigest() != hashlib.sha256(signed).hexdigest()
    assert check(tampered, keys_dir).intact is False
    # ... and a bit somewhere inside a compressed page stream.
    start = signed.index(b"stream", len(signed) // 3) + 50
    assert check(_flip(signed, start), keys_dir).intact is False


def test_changes_appended_after_signing_are_not_covered(signed, keys_dir):
    from pyhanko.pdf_utils import generic

    writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
    writer.root["/PortalChanged"] = generic.BooleanObject(True)  # a new revision after the signature
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    assert len(out.getvalue()) > len(signed)
    result = check(out.getvalue(), keys_dir)
    assert result.signed and not result.intact and not result.trusted


@pytest.mark.parametrize("data", [
    b"", b"not a pdf", random.Random(7).randbytes(5000), garbage_pdf_bytes(), fake_pdf_bytes(), pdf_bytes(1),
], ids=["empty", "text", "random", "garbage-pdf", "fake-pdf", "unsigned-pdf"])
def test_garbage_is_unsigned_and_never_raises(data, keys_dir):
    assert check(data, keys_dir) == SignatureCheck(signed=False, intact=False, trusted=False)


def test_unsigned_certificate_and_truncated_signed_one(unsigned, signed, keys_dir):
    assert check(unsigned, keys_dir).signed is False
    for cut in (len(signed) // 2, len(signed) - 100, len(signed) - 3):
        result = check(signed[:cut], keys_dir)
        assert not (result.signed and result.intact), cut


def test_init_keys_is_idempotent_and_keys_are_private(tmp_path):
    written = init_keys(tmp_path, ARCHIVES)
    assert sorted(p.name for p in written) == sorted(
        ["ca.key.pem", "ca.cert.pem", "450100.key.pem", "450100.cert.pem", "451202.key.pem", "451202.cert.pem"])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert init_keys(tmp_path, ARCHIVES) == []
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    for name in ("ca.key.pem", "450100.key.pem", "451202.key.pem"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_archive_certificate_is_a_document_signing_certificate_from_the_ca(keys_dir):
    ca = x509.load_pem_x509_certificate((keys_dir / "ca.cert.pem").read_bytes())
    cert = x509.load_pem_x509_certificate((keys_dir / "451202.cert.pem").read_bytes())
    subject = {a.oid: a.value for a in cert.subject}
    assert subject == {NameOID.COMMON_NAME: "河池市金城江区档案馆", NameOID.ORGANIZATION_NAME: "河池市金城江区档案馆",
                       NameOID.COUNTRY_NAME: "CN"}
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days >= 3 * 365
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert ExtendedKeyUsageOID.SERVER_AUTH not in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_a_new_archive_gets_a_key_and_the_ca_is_kept(tmp_path):
    init_keys(tmp_path, ARCHIVES[:1])
    ca = (tmp_path / "ca.cert.pem").read_bytes()
    assert [p.name for p in init_keys(tmp_path, ARCHIVES)] == ["451202.key.pem", "451202.cert.pem"]
    old_key = (tmp_path / "450100.key.pem").read_bytes()
    replaced = init_keys(tmp_path, ARCHIVES, force=True)
    assert len(replaced) == 4 and (tmp_path / "450100.key.pem").read_bytes() != old_key
    assert (tmp_path / "ca.cert.pem").read_bytes() == ca


def test_unknown_archive_has_no_signing_key(keys_dir):
    with pytest.raises(SigningKeyMissing) as caught:
        load_signer(keys_dir, "999999")
    assert isinstance(caught.value, LookupError)
    assert caught.value.archive_code == "999999"
    assert "portal keys init" in str(caught.value)


def test_archive_code_cannot_name_a_file_outside_the_keys_folder(keys_dir):
    with pytest.raises(ValueError):
        load_signer(keys_dir, "../450100")


def test_signer_is_loaded_once_and_again_when_its_files_change(tmp_path):
    init_keys(tmp_path, ARCHIVES[:1])
    first = load_signer(tmp_path, "450100")
    assert load_signer(tmp_path, "450100") is first
    init_keys(tmp_path, ARCHIVES[:1], force=True)
    second = load_signer(tmp_path, "450100")
    assert second is not first
    assert check(sign(pdf_bytes(1), second), tmp_path).trusted


def test_keys_encrypted_with_a_passphrase(tmp_path):
    init_keys(tmp_path, ARCHIVES[:1], passphrase=b"correct horse")
    assert b"ENCRYPTED" in (tmp_path / "450100.key.pem").read_bytes()
    with pytest.raises(ValueError):
        load_signer(tmp_path, "450100")
    signer = load_signer(tmp_path, "450100", passphrase=b"correct horse")
    assert check(sign(pdf_bytes(1), signer), tmp_path).trusted
    # A later archive's key is issued by the same, encrypted, CA key.
    init_keys(tmp_path, ARCHIVES, passphrase=b"correct horse")
    assert check(sign(pdf_bytes(1), load_signer(tmp_path, "451202", b"correct horse")), tmp_path).trusted
