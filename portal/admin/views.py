"""The administration landing page and the one way its pages load the archive they work on."""
from __future__ import annotations

from flask import Blueprint, abort
from flask_babel import lazy_gettext as _l  # noqa: F401 (section labels are msgids)
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import policy
from portal.admin.sections import sections_for
from portal.archives.models import Archive
from portal.db import db
from portal.web_util import render

bp = Blueprint("admin", __name__, url_prefix="/admin")


def archive_for(code: str, action: str) -> Archive:
    """The archive `code`, if the signed-in person may do `action` there; else 404 (an archive
    admin of another archive learns nothing, not even that the page exists)."""
    archive = db.session.scalar(select(Archive).where(Archive.code == code))
    if archive is None or not policy.can(current_user, action, archive):
        abort(404)
    return archive


@bp.get("/")
@login_required
def index():
    """The archives the person administers or works at, each with the sections open to them."""
    conditions = policy.archives_where(current_user, "view_statistics")
    archives = db.session.scalars(select(Archive).where(Archive.node.is_(None), *conditions).order_by(Archive.code)).all()
    rows = [(archive, sections_for(current_user, archive.id)) for archive in archives]
    rows = [(archive, sections) for archive, sections in rows if sections]
    if not rows and not policy.may_create_archive(current_user):
        abort(404)
    return render("admin/index.html", rows=rows, may_create_archive=policy.may_create_archive(current_user),
                  network_statistics=policy.may_everywhere(current_user, "view_statistics"))
