from __future__ import annotations

from flask import Blueprint, render_template, request

from portal.audit.browse import AuditFilters, actions, browse, parse_filters
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.web_util import admin_required

bp = Blueprint("audit", __name__, url_prefix="/admin")


@bp.get("/audit")
@admin_required  # the log's existence and shape are nobody else's business
def audit_log():
    errors, status = {}, 200
    try:
        filters = parse_filters(request.args)
    except ValidationFailed as exc:
        filters, errors, status = AuditFilters(), exc.errors, 400
    before = request.args.get("before", type=int)
    page = browse(db.session, filters, before=before)
    return render_template("audit/log.html", page=page, filters=filters, errors=errors, args=request.args,
                           actions=actions(db.session)), status, {"Cache-Control": "no-store"}


@bp.app_template_filter("audit_args")
def audit_args(args, **changes) -> str:
    from urllib.parse import urlencode

    params = {k: v for k, v in args.items() if v and k != "before"}
    params.update({k: v for k, v in changes.items() if v is not None})
    return urlencode(params)
