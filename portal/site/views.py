"""The front door: home page, health check, language switch, the personal-information notice."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_babel import gettext as _
from sqlalchemy import text

from portal.accounts.notice import NOTICE
from portal.archives.service import list_archives
from portal.db import db
from portal.catalog.indexing import search_health

bp = Blueprint("site", __name__)


@bp.get("/")
def home():
    return render_template("site/home.html", archives=list_archives(db.session))


@bp.get("/privacy")
def privacy():
    """《个人信息处理说明》: what is collected, why, how long it is kept, who sees it, the person's rights."""
    return render_template("site/privacy.html", notice=NOTICE)


@bp.app_template_filter("file_size")
def file_size(size: int | None) -> str:
    """A file's size for people: "512 字节" / "512 bytes", "1.5 KB", "12 KB", "2.3 MB" (a decimal
    below ten units, none above; a small file is never "0 KB")."""
    size = max(0, int(size or 0))
    if size == 1:
        return _("1 字节")
    if size < 1024:
        return _("%(n)s 字节", n=size)
    unit, value = next((unit, size / scale) for unit, scale in (("KB", 1024), ("MB", 1024 ** 2), ("GB", 1024 ** 3))
                       if size / scale < 1024 or unit == "GB")
    shown = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return f"{shown.removesuffix('.0')} {unit}"


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
