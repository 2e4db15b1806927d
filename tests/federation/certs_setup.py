"""Run in a test node's environment (python -m tests.federation.certs_setup): the demo citizen
applies at the archive holding one of her records, whose clerk accepts and verifies and whose
reviewer approves (as portal.review.demo does), so that the request waits for its certificate;
prints {"number", "reviewer"} as JSON."""
from __future__ import annotations

import json
from io import BytesIO


def main() -> None:
    from sqlalchemy import select

    from portal import create_app
    from portal.accounts.models import User
    from portal.actions import act
    from portal.catalog.demo_data import CITIZEN_EMAIL
    from portal.catalog.service import records_of
    from portal.db import db
    from portal.requests import service
    from portal.review.demo import _blank_pdf, _staff

    app = create_app()
    with app.app_context():
        session = db.session
        citizen = session.scalar(select(User).where(User.email == CITIZEN_EMAIL))
        record = records_of(session, citizen)[0]
        code = record.archive.code
        ready, _ = service.submit(session, citizen, service.Application(
            issuing_archive=code, records=[(code, record.reference_code)], relation="self", purpose="pension",
            delivery="download", consent=True))
        act(session, ready, "accept", _staff(session, code, "clerk"))
        act(session, ready.tasks[0], "verify", _staff(session, code, "clerk"),
            {"note": "与馆藏原件核对一致", "copy": service.Upload("certified_copy", "核实件.pdf", BytesIO(_blank_pdf()))})
        act(session, ready, "approve", _staff(session, code, "reviewer"))
        session.commit()
        print(json.dumps({"number": ready.number, "reviewer": f"reviewer.{code}@demo.cn"}))


if __name__ == "__main__":
    main()
