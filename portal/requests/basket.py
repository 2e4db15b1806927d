"""The request basket (申请清单): records a citizen has picked for their next application, kept in
their signed session cookie until they apply."""
from __future__ import annotations

from collections.abc import MutableMapping

from sqlalchemy.orm import Session

from portal.policy import audience_for, can_see
from portal.federation.records import mirror_records
from portal.catalog.service import RecordView, find_records, present

_KEY = "basket"
MAX_ITEMS = 20  # as many as one request may hold


def items(store: MutableMapping) -> list[tuple[str, str]]:
    return [tuple(item) for item in store.get(_KEY, [])]


def add(store: MutableMapping, archive_code: str, reference_code: str) -> bool:
    """Add once; False when the basket is full."""
    current = items(store)
    key = (archive_code, reference_code)
    if key in current:
        return True
    if len(current) >= MAX_ITEMS:
        return False
    store[_KEY] = [list(k) for k in [*current, key]]
    return True


def remove(store: MutableMapping, archive_code: str, reference_code: str) -> None:
    store[_KEY] = [list(k) for k in items(store) if k != (archive_code, reference_code)]


def clear(store: MutableMapping) -> None:
    store.pop(_KEY, None)


def contents(session: Session, viewer, store: MutableMapping) -> list[RecordView]:
    """The basket's records as the viewer may see them; records no longer visible drop out."""
    wanted = items(store)
    found = find_records(session, wanted)
    if missing := [key for key in wanted if key not in found]:  # another node's records (mirrored here)
        found.update(mirror_records(session, missing))
        session.commit()
    views = []
    for key in wanted:
        record = found.get(key)
        if record is not None and can_see(record, audience := audience_for(viewer, record)):
            views.append(present(record, audience))
    return views
