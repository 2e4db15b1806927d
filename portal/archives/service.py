from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.archives.models import Archive


def list_archives(session: Session) -> list[Archive]:
    return list(session.scalars(select(Archive).order_by(Archive.region, Archive.code)))
