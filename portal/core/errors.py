"""Errors a service raises for a person to read."""
from __future__ import annotations


class ValidationFailed(Exception):
    """One message per field, in the user's language; the caller keeps what was typed."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class UnknownAction(LookupError):
    """No such action on this kind of object (HTTP 404)."""


class NotAllowed(PermissionError):
    """This person may not take this action on this object (HTTP 403)."""


class Conflict(Exception):
    """The object is not in a state that allows the action, often because someone else acted
    first (HTTP 409). `latest` is the newest timeline event, to say who."""

    def __init__(self, message, latest=None):
        super().__init__(str(message))
        self.message = message
        self.latest = latest
