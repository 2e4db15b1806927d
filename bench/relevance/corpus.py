"""The relevance corpus: the demo data generator's records, shaped as the portal indexes them.

Deterministic (a fixed seed), so the judged queries in queries.jsonl name documents by their
place in this list ("r0", "r1", …) and stay valid as long as the generator does not change.
"""
from __future__ import annotations

from portal.catalog.demo import RecordGenerator
from portal.catalog.demo_data import ARCHIVES
from portal.core.categories import category_label
from portal.core.masking import mask_name, mask_personal_text

SEED = 17
RECORDS = 3600
_ARCHIVE_NAMES = {a.code: a.name for a in ARCHIVES}


def rows(records: int = RECORDS, seed: int = SEED) -> list[dict]:
    """The generator's rows (full names, unmasked text), each with its document id."""
    out = []
    for i, row in enumerate(RecordGenerator(seed).catalog(records)):
        row["id"] = f"r{i}"
        out.append(row)
    return out


def document(row: dict) -> dict:
    """The same shape portal.catalog.indexing.record_document gives a record."""
    name = row["subject_name"]
    return {
        "id": row["id"], "reference_code": row["reference_code"],
        "title": mask_personal_text(row["title"], name), "category": row["category"],
        "category_label": category_label(row["category"]), "archive_code": row["archive_code"],
        "archive_name": _ARCHIVE_NAMES[row["archive_code"]], "year": row["event_year"],
        "place": row["place"] or "", "summary": mask_personal_text(row["summary"], name),
        "subject_name": name, "subject_mask": mask_name(name), "access_level": row["access_level"],
    }
