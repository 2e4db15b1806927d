"""Password hashing (argon2id) and the rules for a password people may choose."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 8
# The passwords most often found in leaked Chinese password lists.
COMMON = {
    "12345678", "123456789", "1234567890", "11111111", "88888888", "66666666", "00000000",
    "password", "password1", "qwertyui", "qwerty123", "abc12345", "a1234567", "a12345678",
    "iloveyou", "woaini1314", "1qaz2wsx", "5201314520", "aa123456", "zxcvbnm123", "admin123",
    "123qwe123", "qq123456", "abcd1234", "passw0rd",
}


def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=current_app.config["ARGON2_TIME_COST"],
                          memory_cost=current_app.config["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Always does the work of one verification, so a missing account takes as long as a wrong password."""
    ph = hasher()
    if not stored_hash:
        stored_hash = current_app.extensions.setdefault("dummy_password_hash", ph.hash("no such account"))
        try:
            ph.verify(stored_hash, password + "\0")
        except VerificationError:
            pass
        return False
    try:
        return ph.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, email: str = "") -> str | None:
    if len(password) < MIN_LENGTH:
        return _l("密码至少需要 %(n)s 位", n=MIN_LENGTH)
    if len(password) > 128:
        return _l("密码不能超过 128 位")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        return _l("密码需同时包含字母和数字")
    if password.lower() in COMMON or (email and password.lower() == email.lower()):
        return _l("这个密码太常见，容易被猜到，请换一个")
    return None
