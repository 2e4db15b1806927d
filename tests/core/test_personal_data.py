"""Resident ID numbers at rest: encrypted, with a keyed lookup hash; never in plain text."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from portal.accounts.service import id_number_of
from portal.core.personal_data import PersonalDataCipher, cipher
from tests.factories import make_id_number

NUMBER = make_id_number(region="110105", born="19800101", seq=77)


def test_user_row_holds_no_plain_id_number(session, factory):
    user = factory.user(id_number=NUMBER)
    row = session.execute(text("SELECT * FROM user_account WHERE id = :id"), {"id": user.id}).mappings().one()
    for column, value in row.items():
        assert NUMBER not in str(value), f"plain ID number in user_account.{column}"
        assert NUMBER[6:14] + NUMBER[14:] not in str(value), f"birth date and sequence in user_account.{column}"
    assert row["id_number_enc"] and row["id_number_hash"]


def test_record_row_holds_no_plain_id_number(session, factory):
    record = factory.record(factory.archive(), subject_id_number=NUMBER, access_level="restricted")
    row = session.execute(text("SELECT * FROM record WHERE id = :id"), {"id": record.id}).mappings().one()
    for column, value in row.items():
        assert NUMBER not in str(value), f"plain ID number in record.{column}"


def test_stored_id_number_decrypts_to_the_normalized_number(session, factory):
    user = factory.user(id_number=NUMBER)
    session.expire_all()
    assert id_number_of(user) == NUMBER


def test_user_lookup_hash_matches_the_record_subject_hash(session, factory):
    user = factory.user(id_number=NUMBER)
    record = factory.record(factory.archive(), subject_id_number=NUMBER)
    assert user.id_number_hash == record.subject_id_hash == cipher().lookup_hash(NUMBER)


def test_lookup_hash_is_stable_for_the_same_key():
    assert PersonalDataCipher("key one").lookup_hash(NUMBER) == PersonalDataCipher("key one").lookup_hash(NUMBER)


def test_lookup_hash_depends_on_the_key():
    assert PersonalDataCipher("key one").lookup_hash(NUMBER) != PersonalDataCipher("key two").lookup_hash(NUMBER)


def test_lookup_hash_is_not_a_plain_digest_of_the_number():
    # An unkeyed hash of an 18-digit number with a known structure is trivially brute-forced.
    digest = PersonalDataCipher("key one").lookup_hash(NUMBER)
    assert digest not in {hashlib.sha256(NUMBER.encode()).hexdigest(), hashlib.md5(NUMBER.encode()).hexdigest()}


def test_encryption_round_trips_and_is_randomized():
    c = PersonalDataCipher("key one")
    first, second = c.encrypt(NUMBER), c.encrypt(NUMBER)
    assert first != second  # equal numbers do not give equal ciphertexts
    assert NUMBER not in first
    assert c.decrypt(first) == c.decrypt(second) == NUMBER


def test_decrypting_with_another_key_fails_with_a_clear_error():
    token = PersonalDataCipher("key one").encrypt(NUMBER)
    with pytest.raises(ValueError, match="PORTAL_DATA_KEY"):
        PersonalDataCipher("key two").decrypt(token)
