"""The personal-information notice (《个人信息处理说明》, templates/site/privacy.html): which
version is in force. Change the page, then give it a new version here; each registration records
the version it consented to (User.privacy_notice_version), shown on the person's data page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class NoticeVersion:
    version: str
    effective: date


NOTICE = NoticeVersion(version="2026-12-v1", effective=date(2026, 12, 5))
