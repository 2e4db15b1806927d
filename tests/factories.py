"""Test data through the real services, so tests build what users and imports build."""
from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from portal.accounts.service import create_user
from portal.archives.models import Archive
from portal.catalog.models import Record
from portal.catalog.outbox import queue_index
from portal.core.idnumber import with_check_character
from portal.core.personal_data import cipher

PASSWORD = "Dangan2024"


def make_id_number(region: str = "451202", born: str = "19650312", seq: int = 123) -> str:
    return with_check_character(f"{region}{born}{seq:03d}")


class Factory:
    def __init__(self, session: Session):
        self.session = session
        self._n = itertools.count(1)

    def archive(self, code: str = "451200", name: str = "河池市档案馆", region: str = "河池市") -> Archive:
        archive = Archive(code=code, name=name, region=region, address="河池市金城江区新建路 1 号",
                          phone="0778-2222222", opening_hours="周一至周五 8:30–12:00，14:30–17:30")
        self.session.add(archive)
        self.session.commit()
        return archive

    def user(self, role: str = "citizen", *, email: str | None = None, name: str = "张三",
             id_number: str | None = None, archive: Archive | None = None, password: str = PASSWORD):
        n = next(self._n)
        if role == "citizen" and id_number is None:
            id_number = make_id_number(seq=n % 1000)
        return create_user(self.session, role=role, email=email or f"{role}{n}@example.cn", password=password,
                           name=name, id_number=id_number, archive_code=archive.code if archive else None)

    def record(self, archive: Archive, *, reference_code: str | None = None, access_level: str = "open",
               subject_name: str = "张三", subject_id_number: str | None = None, category: str = "marriage",
               title: str = "结婚登记审查处理表", year: int = 1985, summary: str = "") -> Record:
        record = Record(archive=archive, reference_code=reference_code or f"J001-{year}-{next(self._n):04d}",
                        category=category, title=title, subject_name=subject_name, event_year=year,
                        place="金城江区", summary=summary, access_level=access_level)
        if subject_id_number:
            record.subject_id_enc = cipher().encrypt(subject_id_number)
            record.subject_id_hash = cipher().lookup_hash(subject_id_number)
        self.session.add(record)
        self.session.flush()
        queue_index(self.session, [record.id])  # as every catalog service does
        self.session.commit()
        return record
