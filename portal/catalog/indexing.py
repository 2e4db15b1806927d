"""The catalog's side of the search index: which index this app uses, and what a record looks like in it."""
from __future__ import annotations

from flask import current_app

from portal.catalog.models import Record
from portal.core.categories import category_label
from portal.core.masking import mask_name_in
from search_index import SearchIndex, open_index  # noqa


def get_index() -> SearchIndex:
    app = current_app._get_current_object()
    index = app.extensions.get("search_index")
    if index is None:
        index = open_index(app.config["SEARCH_BACKEND"], data_dir=app.config["DATA_DIR"],
                           meili_url=app.config["MEILI_URL"], meili_key=app.config["MEILI_MASTER_KEY"],
                           index_name=app.config.get("MEILI_INDEX", "records"))
        app.extensions["search_index"] = index
    return index


def search_health() -> bool:
    try:
        return get_index().health()
    except Exception:  # noqa: BLE001 — a health probe reports, it does not fail
        return False


def record_document(record: Record) -> dict:
    """What the index holds: displayed text already masked; the full name only in a searchable,
    never-returned field; no ID numbers at all."""
    name = record.subject_name or ""
    return {
        "id": str(record.id),
        "reference_code": record.reference_code,
        "title": mask_name_in(record.title, name),
        "category": record.category,
        "category_label": category_label(record.category),
        "archive_code": record.archive.code,
        "archive_name": record.archive.name,
        "year": record.event_year,
        "place": record.place or "",
        "summary": mask_name_in(record.summary, name),
        "subject_name": name,
        "access_level": record.access_level,
    }
