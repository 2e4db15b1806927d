"""Files and steps shared by the catalog-import page tests: an archive admin's signed-in client,
a table written as CSV or XLSX, an upload through the form, and the jobs run as the worker would."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from sqlalchemy import select

from portal.admin import jobs
from portal.admin.models import AdminJob
from portal.catalog.importer import HEADER
from tests.factories import PASSWORD, make_id_number
from tests.helpers import csrf_token, login

ID_NUMBER = make_id_number("451202", "19650312", 123)
BAD_ID = ID_NUMBER[:17] + ("1" if ID_NUMBER[17] == "0" else "0")
OWN, OTHER = "451202", "451200"


def row(**values) -> dict:
    base = {"archive_code": OWN, "archive_name": "", "reference_code": "R-1", "category": "marriage",
            "title": "结婚登记审查处理表", "subject_name": "韦秀英", "subject_id_number": ID_NUMBER,
            "event_date": "1985-03-05", "place": "东江镇", "summary": "准予登记。", "access_level": "open"}
    return {**base, **values}


def table(rows, kind: str = "csv", header=HEADER) -> bytes:
    cells = [list(header)] + [[r[c] for c in HEADER] if isinstance(r, dict) else r for r in rows]
    if kind == "xlsx":
        book = Workbook()
        for line in cells:
            book.active.append(line)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\r\n").writerows(cells)
    return text.getvalue().encode("utf-8-sig")


def mixed_rows() -> list:
    """Against a catalog holding R-1 (as in the file) and R-2 (another title): lines 2-7 are
    unchanged, changed, new, a bad category, another archive's, a bad ID number."""
    return [row(), row(reference_code="R-2", title="离婚登记表"), row(reference_code="R-3"),
            row(reference_code="R-4", category="nonsense"), row(reference_code="R-5", archive_code=OTHER),
            row(reference_code="R-6", subject_id_number=BAD_ID)]


def signed_in(client, factory, role: str = "archive_admin", archive=None):
    user = factory.user(role, archive=archive, email=f"{role}.{getattr(archive, 'code', 'all')}@example.cn")
    login(client, user.email, PASSWORD)
    return user


def upload(client, code: str, data: bytes, name: str = "catalog.csv"):
    token = csrf_token(client, f"/admin/{code}/import")
    return client.post(f"/admin/{code}/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def post(client, url: str, page: str):
    return client.post(url, data={"csrf_token": csrf_token(client, page)})


def latest_job(session, kind: str = "import") -> AdminJob:
    session.expire_all()
    return session.scalars(select(AdminJob).where(AdminJob.kind == kind).order_by(AdminJob.id.desc())).first()


def run_jobs(session) -> int:
    count = jobs.run_pending(session)
    session.expire_all()
    return count
