"""Password hashing (argon2id) and the rules for a password people may choose."""
from __future__ import annotations

import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10
# The passwords most often found in leaked Chinese password lists (with the 10,000 most common
# passwords of zxcvbn's list, below).
COMMON_CHINESE = {
    "1234567890", "woaini1314", "5201314520", "1314520520", "zxcvbnm123", "a123456789", "qq123456789",
    "1qaz2wsx3edc", "1q2w3e4r5t", "abc1234567", "aa12345678", "woaini520", "iloveyou1314", "admin12345",
    "qwe1234567", "asd1234567", "password123", "passw0rd123", "123qwe123qwe", "a1b2c3d4e5",
}


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (zxcvbn's ranked list, from real leaks) and the Chinese
    ones above, lower case."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:10_000]) | COMMON_CHINESE


def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=current_app.config["ARGON2_TIME_COST"],
                          memory_cost=current_app.config["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def prepare(app) -> None:
    """Hash the stand-in for a missing account once, when the app starts: hashing it on each
    unknown email made those log-ins take twice as long as a wrong password (issue 11, section 7)."""
    with app.app_context():
        app.extensions["dummy_password_hash"] = hasher().hash("no such account")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Always does the work of one verification, so a missing account takes as long as a wrong password."""
    ph = hasher()
    if not stored_hash:
        stored_hash = current_app.extensions["dummy_password_hash"]
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
    if password.lower() in common_passwords() or (email and password.lower() == email.lower()):
        return _l("这个密码太常见，容易被猜到，请换一个")
    return None
