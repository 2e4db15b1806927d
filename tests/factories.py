"""Test data through the real services, so tests build what users and imports build."""
from __future__ import annotations

import itertools
from io import BytesIO
from pathlib import Path
from unittest import mock

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts import passwords
from portal.accounts.models import User
from portal.accounts.service import create_user
from portal.archives.models import Archive
from portal.catalog.models import Record
from portal.catalog.outbox import queue_index
from portal.certificates import signing
from portal.core.idnumber import with_check_character
from portal.core.personal_data import cipher
from portal.actions import act
from portal.requests import service
from tests.files import pdf_bytes

PASSWORD = "Dangan2024"


_HASHES: dict[tuple[str, int, int], str] = {}


def hash_once(password: str) -> str:
    """The argon2 hash of `password` at the app's cost settings, computed once per session: the
    factory makes thousands of users with the same password, and hashing is the slow part.
    Log-ins still verify with the real argon2; registrations still hash each password."""
    key = (password, current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_COST"])
    if key not in _HASHES:
        _HASHES[key] = passwords.hash_password(password)
    return _HASHES[key]


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
        signing.init_keys(Path(current_app.config["SIGNING_KEYS_DIR"]), [(code, name)])  # kept if it exists
        return archive

    def user(self, role: str = "citizen", *, email: str | None = None, name: str = "张三",
             id_number: str | None = None, archive: Archive | None = None, password: str = PASSWORD,
             verified: bool = True):
        """A citizen (verified unless told otherwise: most tests are about someone whose identity was
        checked) or a member of staff."""
        n = next(self._n)
        if role == "citizen" and id_number is None:
            id_number = make_id_number(seq=n % 1000)
        with mock.patch("portal.accounts.service.hash_password", hash_once):
            return create_user(self.session, role=role, email=email or f"{role}{n}@example.cn", password=password,
                               name=name, id_number=id_number, archive_code=archive.code if archive else None,
                               verified=verified)

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

    # ---- utilization requests -------------------------------------------------------------------

    # How a request reaches each status from "submitted": (action, who takes it, note).
    WALK: dict[str, tuple[tuple[str, str, str], ...]] = {
        "submitted": (),
        "in_review": (("accept", "clerk", ""),),
        "needs_supplement": (("accept", "clerk", ""), ("ask_supplement", "clerk", "请补充户口簿复印件")),
        "approved": (("accept", "clerk", ""), ("verify", "holding clerk", ""), ("approve", "reviewer", "")),
        "issued": (("accept", "clerk", ""), ("verify", "holding clerk", ""), ("approve", "reviewer", ""),
                   ("issue", "reviewer", "")),
        "rejected": (("accept", "clerk", ""), ("reject", "reviewer", "馆藏中没有该档案")),  # reason "not_held"
        "withdrawn": (("withdraw", "applicant", ""),),
    }

    def verify_all(self, request) -> None:
        """Every holding archive's clerk confirms the records, attaching a certified copy."""
        for task in request.tasks:
            if task.status == "open":
                act(self.session, task, "verify", self.staff(task.holding_archive, "clerk"),
                    {"note": "已核实", "copy": service.Upload("certified_copy", "核实件.pdf", BytesIO(pdf_bytes()))})

    def staff(self, archive: Archive, role: str = "clerk"):
        """A clerk or reviewer of `archive`: the first one it has, or a new one."""
        found = self.session.scalar(select(User).where(User.archive_id == archive.id, User.role == role)
                                    .order_by(User.id).limit(1))
        return found or self.user(role, archive=archive, name="李四")

    def request(self, applicant=None, *, issuing: Archive | None = None, records: list[Record] | None = None,
                search=None, status: str = "submitted", uploads=(), idempotency_key: str | None = None,
                **application):
        """A request made through the real service (`service.submit`), then walked to `status` through
        `portal.actions.act` by the applicant or the issuing archive's staff. Without records or a search,
        one open record about the applicant is made in the issuing archive. `application` overrides
        fields of `service.Application` (relation, purpose, delivery …)."""
        applicant = applicant or self.user()
        if issuing is None:
            issuing = (records[0].archive if records else
                       self.session.scalar(select(Archive).order_by(Archive.id).limit(1)) or self.archive())
        if records is None and search is None:
            records = [self.record(issuing, subject_name=applicant.real_name)]
        fields = {"relation": "self", "purpose": "pension", "issuing_archive": issuing.code,
                  "delivery": "download", "consent": True, **application}
        if records is not None:
            fields["records"] = [(record.archive.code, record.reference_code) for record in records]
        request, _created = service.submit(self.session, applicant, service.Application(search=search, **fields),
                                           list(uploads), idempotency_key=idempotency_key)
        for action, who, note in self.WALK[status]:
            if action == "verify":
                self.verify_all(request)
                continue
            actor = applicant if who == "applicant" else self.staff(request.issuing_archive, who)
            act(self.session, request, action, actor,
                {"note": note, "reason": "not_held"} if action == "reject" else {"note": note})
        assert request.status == status
        return request
