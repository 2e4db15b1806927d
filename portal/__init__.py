"""档案利用公共服务平台 — the public archive-utilization portal."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    from portal.accounts import passwords
    from portal.config import load_config
    from portal.core.personal_data import PersonalDataCipher
    from portal.db import db
    from portal.web import init_web

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.update(load_config(config))
    app.extensions["personal_data"] = PersonalDataCipher(app.config["DATA_KEY"])
    passwords.prepare(app)
    db.init_app(app)
    init_web(app)

    from portal.cli import register_cli

    register_cli(app)
    return app
