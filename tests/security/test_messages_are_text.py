"""Text from users never reaches a page as markup: a message that took in a file's name or a typed
value (`_l("“%(name)s” …", name=...)`) is escaped when a template shows it, and so is anything
someone typed that a template would otherwise translate."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import lazy_gettext as _l

PO = Path(__file__).resolve().parents[2] / "portal" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PAYLOAD = '<i hx-post="/logout" hx-trigger="load">'


def test_a_lazy_message_is_escaped_with_what_it_took_in(app):
    with app.test_request_context("/?lang=zh"):
        shown = render_template_string("<p>{{ message }}</p>", message=_l("“%(name)s”不是 PDF、JPG 或 PNG 文件",
                                                                          name=PAYLOAD))
    assert PAYLOAD not in shown and "&lt;i hx-post=" in shown


def test_no_message_holds_markup():
    """So escaping every message loses nothing."""
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    tagged = [m.id for m in catalog if m.id and re.search(r"<[a-zA-Z/]", m.id if isinstance(m.id, str) else m.id[0])]
    assert tagged == []


def test_a_typed_category_shows_as_text(client):
    response = client.get("/search", query_string={"q": "结婚", "category": PAYLOAD})
    assert response.status_code == 400
    assert PAYLOAD not in response.get_data(as_text=True)
