"""File sizes for people: bytes below a kilobyte (never "0 KB"), then KB and MB, in both languages."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from portal.site.views import file_size


@pytest.mark.parametrize(("size", "zh", "en"), [
    (0, "0 字节", "0 bytes"),
    (1, "1 字节", "1 byte"),
    (512, "512 字节", "512 bytes"),
    (1023, "1023 字节", "1023 bytes"),
    (1024, "1 KB", "1 KB"),
    (1536, "1.5 KB", "1.5 KB"),
    (12 * 1024 + 300, "12 KB", "12 KB"),
    (int(2.3 * 1024 * 1024), "2.3 MB", "2.3 MB"),
    (20 * 1024 * 1024, "20 MB", "20 MB"),
    (None, "0 字节", "0 bytes"),
])
def test_file_size_reads_sensibly_in_both_languages(app, size, zh, en):
    with app.test_request_context("/"):
        assert file_size(size) == zh
        with force_locale("en"):
            assert file_size(size) == en


def test_file_size_is_the_templates_filter(app):
    with app.test_request_context("/"):
        assert app.jinja_env.from_string("{{ 300 | file_size }}").render() == "300 字节"
