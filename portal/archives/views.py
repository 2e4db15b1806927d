"""Admin pages for the archives of the network: the seal each prints on its certificates."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.archives.models import Archive
from portal.archives.service import list_archives, set_seal
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.web_util import admin_required, client_ip

bp = Blueprint("archives", __name__, url_prefix="/admin/archives")


@bp.get("")
@admin_required
def archive_list():
    return _page()


def _page(errors: dict | None = None, failed: str = "", status: int = 200):
    with_seal = set(db.session.scalars(select(Archive.code).where(Archive.seal_png.is_not(None))))
    return render_template("archives/list.html", archives=list_archives(db.session), with_seal=with_seal,
                           errors=errors or {}, failed=failed), status


@bp.post("/<code>/seal")
@admin_required
def upload_seal(code: str):
    sent = request.files.get("seal")
    try:
        if sent is None or not sent.filename:
            raise ValidationFailed({"seal": _("请选择印章图片（PNG）")})
        set_seal(db.session, code, sent.filename, sent.stream, current_user, ip=client_ip())
    except LookupError:
        abort(404)
    except ValidationFailed as exc:
        db.session.rollback()
        return _page({k: str(v) for k, v in exc.errors.items()}, failed=code, status=422)
    flash(_("印章已更新，此后出具的证明将使用新印章。"), "success")
    return redirect(url_for("archives.archive_list"), 303)


@bp.get("/<code>/seal.png")
@admin_required
def seal_image(code: str):
    data = db.session.scalar(select(Archive.seal_png).where(Archive.code == code))
    if data is None:
        abort(404)
    response = make_response(data)
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "private, no-store"
    return response
