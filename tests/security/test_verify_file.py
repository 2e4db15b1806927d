"""/verify reads what an uploaded PDF says only after checking it cannot make us work for nothing
(issue 11, sections 5 and 7): a /ByteRange of many pairs is refused before anything is hashed,
and a signer's name comes only from a certificate our own CA issued."""
from __future__ import annotations

import re
from unittest import mock

import pytest

from portal.certificates import signing
from tests.certificate_pages.conftest import stored_file, verify_upload
from tests.certificates.conftest import approved, archives, issued, people  # noqa: F401 (fixtures)
from tests.certificate_pages.test_verify_upload import checks


def _many_pairs(data: bytes) -> bytes:
    """The signature dictionary's /ByteRange with extra [0 99999999] pairs written into its padding
    (so every offset in the file stays where it was)."""
    match = re.search(rb"/ByteRange\s*\[([0-9 ]+)\]( *)", data)
    assert match, "no /ByteRange"
    room = match.end(2) - match.start(1)  # the numbers, "]" and the padding after it
    values = match.group(1).strip()
    extra = b" 0 99999999" * ((room - 1 - len(values)) // len(b" 0 99999999"))
    assert extra, "no padding to write into"
    return data[:match.start(1)] + (values + extra + b"]").ljust(room) + data[match.end(2):]


def test_a_byte_range_of_many_pairs_is_refused_before_any_hashing(app, client, issued):
    data = stored_file(app, issued.certificate).read_bytes()
    forged = _many_pairs(data)
    assert len(forged) == len(data) and forged.count(b"99999999") > 1
    with mock.patch.object(signing, "validate_pdf_signature", wraps=signing.validate_pdf_signature) as hashing:
        result = signing.check(forged, signing.trust_roots(app.config["SIGNING_KEYS_DIR"]))
        assert hashing.call_count == 0  # refused before pyHanko hashes the ranges
        signing.check(data, signing.trust_roots(app.config["SIGNING_KEYS_DIR"]))
        assert hashing.call_count == 1
    assert result.signed and not result.intact and not result.trusted and result.signer is None
    response = verify_upload(client, forged)
    assert response.status_code == 200
    assert ("bad", "电子签名已失效：签名后文件被修改过。") in checks(response.get_data(as_text=True))


@pytest.mark.parametrize(("byte_range", "ok"), [
    ([0, 10, 20, 80], True), ([0, 10, 20, 79], False), ([1, 10, 20, 79], False), ([0, 10, 20, 80, 0, 100], False),
    ([0, 0, 20, 80], False), ([0, 30, 20, 70], False), (["0", "x", 1, 2], False), ([0, 10, 20], False),
])
def test_only_a_plain_byte_range_covering_the_whole_file_is_checked(byte_range, ok):
    assert signing._plain_byte_range(byte_range, 100) is ok


def test_an_untrusted_signers_name_is_not_repeated(app, tmp_path, issued):
    """Intact but from keys our CA did not issue: no name (whatever the maker typed into it)."""
    data = stored_file(app, issued.certificate).read_bytes()
    other_ca = signing.init_keys(tmp_path / "other", [("999999", "伪造档案馆")])
    assert other_ca
    result = signing.check(data, tmp_path / "other")
    assert result.intact and not result.trusted and result.signer is None
