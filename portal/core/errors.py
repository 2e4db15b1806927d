"""Errors a service raises for a person to read."""
from __future__ import annotations


class ValidationFailed(Exception):
    """One message per field, in the user's language; the caller keeps what was typed."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
