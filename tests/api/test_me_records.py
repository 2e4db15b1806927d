"""GET /api/v1/me/records: the citizen's own open and restricted records, and nothing else."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD, make_id_number

ID_NUMBER = make_id_number(seq=801)
OTHER_ID_NUMBER = make_id_number(seq=802)


def token_for(client, email: str) -> str:
    response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()["token"]


def my_records(client, email: str):
    return client.get("/api/v1/me/records", headers={"Authorization": f"Bearer {token_for(client, email)}"})


@pytest.fixture
def archives(factory):
    return factory.archive("451200", "河池市档案馆"), factory.archive("451202", "河池市金城江区档案馆")


def test_own_open_and_restricted_records_in_order(client, factory, archives):
    city, district = archives
    citizen = factory.user(email="zhang@example.cn", name="张三", id_number=ID_NUMBER)
    mine = dict(subject_name="张三", subject_id_number=ID_NUMBER)
    factory.record(district, reference_code="J032-1985-0002", year=1985, access_level="restricted",
                   title="张三结婚登记审查处理表", **mine)
    factory.record(city, reference_code="J001-1985-0009", year=1985, category="employment", title="招工登记表", **mine)
    factory.record(district, reference_code="J032-1985-0001", year=1985, **mine)
    factory.record(city, reference_code="J001-1955-0001", year=1955, category="land_contract",
                   title="土地房产所有证存根", subject_name="張三", subject_id_number=ID_NUMBER)  # traditional script
    # Not theirs, or not for them to see:
    factory.record(city, reference_code="J001-1990-0001", year=1990, access_level="closed", **mine)
    factory.record(city, reference_code="J001-1991-0001", year=1991, subject_name="张三",
                   subject_id_number=OTHER_ID_NUMBER)
    factory.record(city, reference_code="J001-1992-0001", year=1992, subject_name="李四",
                   subject_id_number=ID_NUMBER)
    factory.record(city, reference_code="J001-1993-0001", year=1993, subject_name="张三")

    response = my_records(client, citizen.email)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    records = response.get_json()["records"]
    assert [(r["year"], r["archive_code"], r["reference_code"]) for r in records] == [
        (1955, "451200", "J001-1955-0001"),
        (1985, "451200", "J001-1985-0009"),
        (1985, "451202", "J032-1985-0001"),
        (1985, "451202", "J032-1985-0002"),
    ]
    assert records[3] == {"archive_code": "451202", "reference_code": "J032-1985-0002",
                          "title": "张三结婚登记审查处理表", "category": "marriage", "year": 1985,
                          "access_level": "restricted"}


def test_someone_else_sees_only_their_own(client, factory, archives):
    city, _district = archives
    factory.user(email="zhang@example.cn", name="张三", id_number=ID_NUMBER)
    factory.user(email="li@example.cn", name="李四", id_number=OTHER_ID_NUMBER)
    factory.record(city, subject_name="张三", subject_id_number=ID_NUMBER)
    assert my_records(client, "li@example.cn").get_json() == {"records": []}


def test_same_id_number_but_another_name_is_not_theirs(client, factory, archives):
    city, _district = archives
    factory.user(email="zhang@example.cn", name="张三", id_number=ID_NUMBER)
    factory.record(city, subject_name="张四", subject_id_number=ID_NUMBER, access_level="restricted")
    assert my_records(client, "zhang@example.cn").get_json() == {"records": []}


@pytest.mark.parametrize("role", ["clerk", "reviewer", "admin"])
def test_staff_have_no_records_of_their_own(client, factory, archives, role):
    city, _district = archives
    # Even staff who registered with an ID number and share a subject's name.
    staff = factory.user(role, email=f"{role}@example.cn", name="张三", id_number=ID_NUMBER, archive=city)
    factory.record(city, subject_name="张三", subject_id_number=ID_NUMBER)
    response = my_records(client, staff.email)
    assert response.status_code == 200
    assert response.get_json() == {"records": []}
