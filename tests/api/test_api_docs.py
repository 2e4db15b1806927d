"""docs/api.md documents every /api/v1 route: a new endpoint without docs fails here."""
from __future__ import annotations

from pathlib import Path

from portal import create_app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_api_route_is_documented(tmp_path):
    app = create_app({"DATA_DIR": tmp_path, "DATABASE_URL": f"sqlite:///{tmp_path}/p.db"})
    text = DOCS.read_text(encoding="utf-8")
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            heading = f"`{method} {rule.rule}`"
            if heading not in text:
                missing.append(heading)
    assert not missing, f"document these in docs/api.md: {missing}"
