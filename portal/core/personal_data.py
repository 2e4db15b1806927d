"""Resident ID numbers at rest: encrypted (Fernet), with a keyed hash beside them so an exact
match can be looked up without decrypting every row.  Every key derived from the data key is
made here."""
from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(master: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master.encode())


class PersonalDataCipher:
    def __init__(self, master_key: str):
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(master_key, b"portal id-number encryption")))
        self._mac_key = _derive(master_key, b"portal id-number lookup hash")
        # Keys the search index's name tokens (search_index/names.py); a new data key means
        # `portal reindex` before full names are found again.
        self.search_name_secret = _derive(master_key, b"portal search-index name tokens")

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: wrong PORTAL_DATA_KEY for this database?") from exc

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._mac_key, value.encode(), hashlib.sha256).hexdigest()


def cipher():
    from flask import current_app

    return current_app.extensions["personal_data"]
