"""The translation marker for labels kept in tables (Babel's default keyword `N_`): the table
keeps the Chinese text, and pages translate it when they show it."""
from __future__ import annotations


def N_(text: str) -> str:
    """Marks a label for translation and leaves it a plain string."""
    return text


def escape_lazy_messages() -> None:
    """Messages are text. Flask-Babel's lazy strings (`_l(...)`) tell Jinja they are markup
    (`__html__` returns them as they are), so whatever a message took in — a file's name, a value
    someone typed — would reach the page as HTML. From here on a lazy message is escaped like any
    other text when a template shows it. (No message of ours holds markup; tests/security checks.)"""
    from flask_babel.speaklater import LazyString
    from markupsafe import escape

    LazyString.__html__ = lambda self: str(escape(str(self)))
