from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.archives.models import Archive


def list_archives(session: Session) -> list[Archive]:
    return list(session.scalars(select(Archive).order_by(Archive.region, Archive.code)))


def set_task_due_days(session: Session, code: str, days: int) -> Archive:
    """How many working days this archive gives itself to answer another archive's verification task."""
    from flask_babel import lazy_gettext as _l

    from portal.core.errors import ValidationFailed

    archive = session.scalar(select(Archive).where(Archive.code == code))
    if archive is None:
        raise ValidationFailed({"archive": _l("档案馆代码不存在：%(code)s", code=code)})
    if not 1 <= days <= 30:
        raise ValidationFailed({"days": _l("协办时限应为 1 到 30 个工作日")})
    archive.task_due_working_days = days
    session.commit()
    return archive
