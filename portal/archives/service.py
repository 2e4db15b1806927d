from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.archives.models import Archive


def list_archives(session: Session) -> list[Archive]:
    """This node's archives (not the mirrors of other nodes' archives: portal.federation.peers)."""
    return list(session.scalars(select(Archive).where(Archive.node.is_(None)).order_by(Archive.region, Archive.code)))


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


MAX_SEAL_BYTES = 2 * 1024 * 1024
SEAL_PIXELS = (100, 2000)  # each side: enough to print sharply at 4 cm, not a poster


def set_seal(session: Session, code: str, filename: str, stream, actor, ip: str = "") -> Archive:
    """The seal image printed on the archive's certificates from now on (an admin's step): a PNG,
    so the seal can have a transparent background over the text. Issued certificates keep theirs."""
    from io import BytesIO

    from flask_babel import lazy_gettext as _l
    from PIL import Image

    from portal.audit.service import log
    from portal.core.errors import ValidationFailed
    from portal.core.uploads import UploadRejected, check_upload

    archive = session.scalar(select(Archive).where(Archive.code == code))
    if archive is None:
        raise LookupError(code)
    try:
        checked = check_upload(filename, stream, max_bytes=MAX_SEAL_BYTES)
    except UploadRejected as exc:
        raise ValidationFailed({"seal": exc.message}) from None
    if checked.content_type != "image/png":
        raise ValidationFailed({"seal": _l("印章图片须为 PNG 格式（最好是透明背景）")})
    width, height = Image.open(BytesIO(checked.data)).size
    low, high = SEAL_PIXELS
    if not (low <= width <= high and low <= height <= high):
        raise ValidationFailed({"seal": _l("印章图片的宽和高应在 %(low)s 到 %(high)s 像素之间", low=low, high=high)})
    archive.seal_png = checked.data
    log(session, "seal_changed", actor=actor, object_type="archive", object_id=code, ip=ip, sha256=checked.sha256)
    session.commit()
    return archive
