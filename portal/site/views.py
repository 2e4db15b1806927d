"""The front door: home page, health check, language switch."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from portal.archives.service import list_archives
from portal.db import db
from portal.catalog.indexing import search_health

bp = Blueprint("site", __name__)


@bp.get("/")
def home():
    return render_template("site/home.html", archives=list_archives(db.session))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        db_ok = True
    except Exception:  # noqa: BLE001 — any failure to reach the database is "down"
        db.session.rollback()
        db_ok = False
    body = {"status": "ok" if db_ok else "error", "db": "ok" if db_ok else "down",
            "search": "ok" if search_health() else "down"}
    return jsonify(body), 200 if db_ok else 503
