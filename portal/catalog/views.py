from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from portal import policy
from portal.archives.service import list_archives
from portal.catalog.indexing import get_index
from portal.catalog.search import has_criteria, parse_query, public_search, search_params
from portal.catalog.service import RecordNotFound, view_record
from portal.core.errors import ValidationFailed
from portal.db import db
from portal.federation import search as federation_search
from portal import throttle
from portal.throttle import Throttled
from portal.web_util import client_ip, is_htmx, render
from search_index import SearchUnavailable

bp = Blueprint("catalog", __name__)


@bp.get("/records/<archive_code>/<path:reference_code>")
def record(archive_code: str, reference_code: str):
    try:
        view = view_record(db.session, current_user, archive_code, reference_code, ip=client_ip())
    except RecordNotFound:
        abort(404)
    may_edit = policy.may(current_user, "edit_record", view.archive_id)  # anonymous: no role, no query
    response = render_template("catalog/record.html", record=view, may_edit=may_edit)
    if view.full_personal_data:
        # Personal data must not linger in shared caches or the browser's back-forward cache.
        return response, 200, {"Cache-Control": "no-store"}
    return response


# Out of band with every htmx answer: the form's filters and chips, the live region that says how
# many were found, and the page's <title> (htmx applies a <title> at the top level of an answer).
SEARCH_OOB = ("catalog/partials/_filters.html", "catalog/partials/_status.html", "catalog/partials/_title.html")


@bp.get("/search")
def search():
    args = request.args
    page, errors, unavailable, status, headers = None, {}, False, 200, {}
    # 全网 (scope=network): this node and its peers (portal.federation.search); without peers, as 本馆.
    offered = federation_search.network_offered(db.session)
    network = offered and args.get("scope") == "network"
    if has_criteria(args):
        try:
            throttle.check("name_search")  # only searches the index would read with a full name
            if network:
                page = federation_search.network_search(db.session, get_index(), parse_query(args))
            else:
                page = public_search(db.session, get_index(), parse_query(args, clamp=True), clamp=True)
        except Throttled as exc:
            errors, status, headers = {"q": exc.text()}, 429, {"Retry-After": str(exc.retry_after_seconds)}
        except ValidationFailed as exc:
            errors, status = exc.errors, 400
        except SearchUnavailable:
            unavailable, status = True, 503
    if is_htmx():
        # The address bar shows the search without the form's empty fields, ready to share (and the
        # page shown, when the one asked for was past the last).
        shown = {"page": str(page.query.page)} if page is not None and page.asked_page else {}
        headers["HX-Push-Url"] = url_for("catalog.search", **{**search_params(args), **shown})
    # Names for the archive facet and the archive's chip; no query when there is neither.
    wanted = (page is not None and page.total) or args.get("archive")
    archive_names = {a.code: a.name for a in list_archives(db.session)} if wanted else {}
    if network and page is not None:
        archive_names = {**page.archive_names, **archive_names}
    missed = federation_search.unavailable_archives(db.session, page.unavailable) if network and page else []
    return render("catalog/search.html", "catalog/partials/_results.html", status=status, headers=headers,
                  oob_partials=SEARCH_OOB, page=page, errors=errors, unavailable=unavailable, args=args,
                  archive_names=archive_names, scope_offered=offered, network=network, missed=missed)


@bp.app_template_global()
def search_url(**changes) -> str:
    """The current search with some parameters changed (None removes one); a new filter resets paging."""
    params = search_params(request.args)
    if "page" not in changes:
        params.pop("page", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return url_for("catalog.search", **params)
