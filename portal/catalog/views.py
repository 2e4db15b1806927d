from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from portal.catalog.service import RecordNotFound, view_record
from portal.db import db
from portal.web_util import client_ip

bp = Blueprint("catalog", __name__)


@bp.get("/records/<archive_code>/<path:reference_code>")
def record(archive_code: str, reference_code: str):
    try:
        view = view_record(db.session, current_user, archive_code, reference_code, ip=client_ip())
    except RecordNotFound:
        abort(404)
    response = render_template("catalog/record.html", record=view)
    if view.full_personal_data:
        # Personal data must not linger in shared caches or the browser's back-forward cache.
        return response, 200, {"Cache-Control": "no-store"}
    return response
