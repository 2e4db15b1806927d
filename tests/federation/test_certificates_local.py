"""Serials that name their node, and the shapes issued before, checked on the node itself: a node
never initialised issues ZM-{code}-{year}-{n}; an initialised one ZM-{NODE}-{code}-{year}-{n};
certificates issued before ZM stay verifiable by their exact serial, on the page and in the API."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from portal.certificates import service
from portal.certificates.models import Certificate
from portal.federation import certificates as network
from portal.federation.node import Node


@pytest.mark.parametrize(("serial", "node", "shape"), [
    ("ZM-NANNING-450100-2026-000001", "nanning", "certificate"),
    ("zm-hechi-451200-2026-000123", "hechi", "certificate"),
    ("ZM-450100-2026-000001", None, "certificate"),
    ("ZM-ABC-2026-000001", None, "certificate"),  # an archive code of letters, no node
    ("450100-2026-000001", None, "request"),
    ("ZM-NANNING-2026-000001X", None, "unknown"),
])
def test_a_serial_says_which_node_issued_it(serial, node, shape):
    assert service.serial_node(serial) == node and service.number_shape(serial) == shape


@pytest.fixture
def issued(factory):
    archive = factory.archive("451200", "河池市档案馆")
    citizen = factory.user(email="citizen@example.cn")
    record = factory.record(archive)
    return factory.request(citizen, records=[record], issuing=archive, status="issued")


def test_a_node_never_initialised_keeps_the_serial_without_a_node(issued):
    assert service.SERIAL_SHAPE.fullmatch(issued.certificate.serial)
    assert issued.certificate.serial.startswith("ZM-451200-")


def test_an_initialised_node_names_itself_in_the_serial(monkeypatch, factory):
    monkeypatch.setattr(service, "this_node", lambda: Node("hechi", "https://hechi.example.cn", "k"))
    archive = factory.archive("451200", "河池市档案馆")
    request = factory.request(factory.user(email="c2@example.cn"), records=[factory.record(archive)],
                              issuing=archive, status="issued")
    serial = request.certificate.serial
    assert serial.startswith("ZM-HECHI-451200-") and service.serial_node(serial) == "hechi"


def test_an_old_shape_serial_still_verifies_here(client, session, issued):
    cert = issued.certificate
    old = cert.serial.removeprefix("ZM-")  # issued before ZM: shaped like a request number
    session.execute(update(Certificate).where(Certificate.id == cert.id).values(serial=old))
    session.commit()
    answer = client.get(f"/api/v1/certificates/{old}?code={cert.code}")
    assert answer.status_code == 200 and answer.json["serial"] == old and answer.json["valid"] is True
    assert answer.json["node"] is None  # this portal is not part of a network
    page = client.get(f"/verify?serial={old}&code={cert.code.lower()}").get_data(as_text=True)
    assert "verdict-valid" in page and "answered-by" not in page


def test_a_serial_naming_a_node_that_is_not_a_peer_is_simply_not_found(client, session, issued):
    cert = issued.certificate
    stranger = cert.serial.replace("ZM-", "ZM-GAMMA-")
    answer = client.get(f"/api/v1/certificates/{stranger}?code={cert.code}")
    unknown = client.get(f"/api/v1/certificates/ZM-451200-2026-999999?code={cert.code}")
    assert answer.status_code == unknown.status_code == 404 and answer.json == unknown.json
    assert network.issuing_peer(session, stranger) is None
