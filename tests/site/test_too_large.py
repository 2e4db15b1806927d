"""A body over MAX_CONTENT_LENGTH is refused before it is read, with a message that fits every
upload form (requests' proofs, catalog imports, digitized copies), in the page's language."""
from __future__ import annotations


def test_a_body_over_the_limit_is_answered_413_in_the_pages_language(app, client):
    too_big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    for lang, words in (("zh", "一次最多 60 MB"), ("en", "at most 60 MB at a time")):
        response = client.post(f"/login?lang={lang}", data=too_big, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 413
        assert words in response.get_data(as_text=True)
