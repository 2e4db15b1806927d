"""Demo requests, so that `make run` shows the queue at work: the demo citizen's requests waiting
for acceptance, for a holding archive's answer, for the citizen's supplement, and one approved,
waiting for its certificate."""
from __future__ import annotations

from io import BytesIO

from pypdf import PdfWriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.catalog.demo_data import CITIZEN_EMAIL
from portal.catalog.service import records_of
from portal.actions import act
from portal.requests import service
from portal.requests.models import UtilizationRequest


def _staff(session: Session, archive_code: str, role: str) -> User:
    return session.scalar(select(User).where(User.email == f"{role}.{archive_code}@demo.cn"))


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)  # A4, a stand-in for a scanned certified copy
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def seed_demo_requests(session: Session) -> list[str]:
    """Four requests of the demo citizen (none if any request exists); returns their numbers."""
    citizen = session.scalar(select(User).where(User.email == CITIZEN_EMAIL))
    if citizen is None or session.scalar(select(UtilizationRequest.id).limit(1)):
        return []
    own = records_of(session, citizen)
    by_archive: dict[str, list] = {}
    for record in own:
        by_archive.setdefault(record.archive.code, []).append(record)
    holders = sorted(by_archive)
    if len(holders) < 2:
        return []  # a node holding only some demo archives (one node of `make run-network`): none
    base = {"relation": "self", "purpose": "pension", "delivery": "download", "consent": True}

    # Applied at the city archive for records held by two others: one has answered, one has not.
    cross, _ = service.submit(session, citizen, service.Application(
        issuing_archive="451200", records=[(code, by_archive[code][0].reference_code) for code in holders[:2]],
        **base))
    act(session, cross, "accept", _staff(session, "451200", "clerk"))
    first = next(task for task in cross.tasks if task.holding_archive.code == holders[0])
    act(session, first, "verify", _staff(session, holders[0], "clerk"),
        {"note": "已调阅原件，与目录一致", "copy": service.Upload("certified_copy", "核实件.pdf", BytesIO(_blank_pdf()))})

    # Waiting to be accepted at the archive the citizen lives near.
    waiting, _ = service.submit(session, citizen, service.Application(
        issuing_archive=holders[-1], records=[(holders[-1], by_archive[holders[-1]][-1].reference_code)],
        **{**base, "purpose": "property", "delivery": "pickup"}))

    # "Please search for me", where the archive asked for more.
    search, _ = service.submit(session, citizen, service.Application(
        issuing_archive="451202", search=service.SearchSpec(category="land_contract", year_from=1982, year_to=1990,
                                                            place="金城江区东江镇", archives=["451202", "451203"]),
        **{**base, "purpose": "inheritance"}))
    act(session, search, "accept", _staff(session, "451202", "clerk"))
    act(session, search, "ask_supplement", _staff(session, "451202", "clerk"),
        {"note": "请补充承包地所在的村民小组名称，以及当年户主的姓名。"})
    # Approved at the archive that holds the record: its reviewer can issue the certificate.
    ready, _ = service.submit(session, citizen, service.Application(
        issuing_archive=holders[1], records=[(holders[1], by_archive[holders[1]][-1].reference_code)],
        **{**base, "purpose": "litigation"}))
    act(session, ready, "accept", _staff(session, holders[1], "clerk"))
    act(session, ready.tasks[0], "verify", _staff(session, holders[1], "clerk"),
        {"note": "与馆藏原件核对一致", "copy": service.Upload("certified_copy", "核实件.pdf", BytesIO(_blank_pdf()))})
    act(session, ready, "approve", _staff(session, holders[1], "reviewer"))
    return [cross.number, waiting.number, search.number, ready.number]
