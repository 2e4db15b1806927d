"""`portal seed-demo`: deterministic, realistic demo data and the demo accounts the README lists."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from opencc import OpenCC
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.accounts.passwords import verify_password
from portal.archives.models import Archive
from portal.catalog.demo import DemoDataExists, RecordGenerator, citizen_id_number, seed_demo
from portal.catalog.demo_data import ARCHIVES, PASSWORD
from portal.catalog.models import Record
from portal.catalog.outbox import SearchOutbox
from portal.core.categories import CATEGORIES
from portal.core.idnumber import birth_date, normalize_id_number
from portal.core.personal_data import cipher

ARCHIVE_CODES = {"450100", "450110", "450200", "450206", "451200", "451202", "451203"}


def _records(session) -> list[Record]:
    return session.scalars(select(Record).order_by(Record.id)).all()


def test_same_seed_gives_the_same_catalog_and_another_seed_another():
    def keys(seed):
        return [(r["archive_code"], r["reference_code"], r["title"], r["subject_name"], r["subject_id"])
                for r in RecordGenerator(seed).catalog(300)]

    assert keys(7) == keys(7)
    assert keys(7) != keys(8)


def test_seed_demo_writes_exactly_what_the_generator_makes(session):
    seed_demo(session, records=150, seed=3)
    expected = [(r["archive_code"], r["reference_code"], r["title"]) for r in RecordGenerator(3).catalog(150)]
    stored = [(r.archive.code, r.reference_code, r.title) for r in _records(session)]
    assert stored == expected


def test_proportions_of_access_levels_and_id_numbers_are_realistic(session):
    summary = seed_demo(session, records=2000)
    records = _records(session)
    assert summary.records == len(records) == 2000
    levels = Counter(r.access_level for r in records)
    assert summary.by_access == levels
    assert 0.12 <= levels["restricted"] / 2000 <= 0.18
    assert 0.03 <= levels["closed"] / 2000 <= 0.07
    recent = [r for r in records if r.event_year > 1985]
    with_id = sum(1 for r in recent if r.subject_id_hash)
    assert 0.78 <= with_id / len(recent) <= 0.92
    assert set(Counter(r.category for r in records)) == set(CATEGORIES)
    assert min(r.event_year for r in records) >= 1950 and max(r.event_year for r in records) <= 2024


def test_seven_archives_in_three_cities_with_contact_details(session):
    seed_demo(session, records=20)
    archives = session.scalars(select(Archive)).all()
    assert {a.code for a in archives} == ARCHIVE_CODES
    assert {a.region for a in archives} == {"南宁市", "柳州市", "河池市"}
    assert all(a.address and a.phone and a.opening_hours for a in archives)
    assert {a.code: a.name for a in archives}["451202"] == "河池市金城江区档案馆"


def test_every_record_is_queued_for_the_search_index(session):
    seed_demo(session, records=120)
    queued = set(session.scalars(select(SearchOutbox.record_id)))
    assert queued == set(session.scalars(select(Record.id)))


def test_reference_codes_are_fonds_year_piece_and_unique_per_archive(session):
    seed_demo(session, records=500)
    records = _records(session)
    for r in records:
        match = re.fullmatch(r"J\d{3}-(\d{4})-\d{4}", r.reference_code)
        assert match and int(match.group(1)) == r.event_year, r.reference_code
    assert len({(r.archive_id, r.reference_code) for r in records}) == len(records)


def test_id_numbers_are_valid_and_fit_the_archive_and_the_event_year(session):
    seed_demo(session, records=400)
    checked = 0
    for r in _records(session):
        if not r.subject_id_enc:
            continue
        number = cipher().decrypt(r.subject_id_enc)
        assert normalize_id_number(number) == number
        assert r.subject_id_hash == cipher().lookup_hash(number)
        if number != citizen_id_number():
            assert number[:6] == r.archive.code
        assert 6 <= r.event_year - birth_date(number).year <= 90
        checked += 1
    assert checked > 100


def test_records_before_1956_are_in_traditional_characters(session):
    seed_demo(session, records=1000)
    to_simplified = OpenCC("t2s")
    old = [r for r in _records(session) if r.event_year < 1956]
    assert len(old) >= 10
    for r in old:
        assert to_simplified.convert(r.title) != r.title, r.title
        assert to_simplified.convert(r.summary) != r.summary, r.summary
    newer = [r for r in _records(session) if r.event_year >= 1956]
    assert all(to_simplified.convert(r.title) == r.title for r in newer)


def test_demo_citizen_finds_records_of_every_access_level_across_archives(session):
    seed_demo(session, records=50)
    citizen = session.scalars(select(User).where(User.email == "citizen@demo.cn")).one()
    assert (citizen.role, citizen.real_name) == ("citizen", "韦秀英")
    assert citizen.id_number_hash == cipher().lookup_hash(citizen_id_number())
    assert citizen_id_number()[:6] == "451202"
    hers = session.scalars(select(Record).where(Record.subject_id_hash == citizen.id_number_hash)).all()
    assert {r.access_level for r in hers} == {"open", "restricted", "closed"}
    assert len({r.archive_id for r in hers}) >= 3
    assert any(r.event_year < 1956 for r in hers)
    assert all(r.subject_name == "韦秀英" for r in hers)


def test_staff_and_admin_accounts_exist_with_the_demo_password(app, session):
    summary = seed_demo(session, records=10)
    users = {u.email: u for u in session.scalars(select(User))}
    for code in ARCHIVE_CODES:
        for role in ("clerk", "reviewer"):
            user = users[f"{role}.{code}@demo.cn"]
            assert (user.role, user.archive.code) == (role, code)
    assert users["admin@demo.cn"].role == "admin"
    assert {a.email for a in summary.accounts} == set(users)
    assert summary.password == PASSWORD
    assert verify_password(users["clerk.451202@demo.cn"].password_hash, PASSWORD)


def test_seeding_twice_is_refused(session):
    seed_demo(session, records=10)
    with pytest.raises(DemoDataExists):
        seed_demo(session, records=10)
    assert session.scalar(select(func.count()).select_from(Record)) == 10


def test_command_lists_the_demo_accounts_and_where_they_are_described(app, session):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--records", "30", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "30 条档案条目" in result.stdout and len(ARCHIVES) == 7
    assert "README.md" in result.stdout and "演示账号" in result.stdout and PASSWORD in result.stdout
    for email in ("citizen@demo.cn", "clerk.451202@demo.cn", "reviewer.450100@demo.cn", "admin@demo.cn"):
        assert email in result.stdout
    assert session.scalar(select(func.count()).select_from(Record)) == 30


def test_if_empty_leaves_an_existing_database_alone(app, session, factory):
    factory.archive(code="450300", name="桂林市档案馆", region="桂林市")
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "跳过" in result.stdout
    assert session.scalar(select(func.count()).select_from(Archive)) == 1
    assert session.scalar(select(func.count()).select_from(Record)) == 0
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_if_empty_seeds_an_empty_database(app, session):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty", "--records", "10"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(Archive)) == 7


def test_command_refuses_to_seed_twice_with_exit_1(app, session):
    seed_demo(session, records=10)
    result = app.test_cli_runner().invoke(args=["seed-demo", "--records", "10"])
    assert result.exit_code == 1 and "--if-empty" in result.stderr


def test_command_adds_demo_requests_that_fill_the_queue(app, session):
    from portal.requests.models import UtilizationRequest
    from portal.review.queue import counts

    result = app.test_cli_runner().invoke(args=["seed-demo", "--records", "30"])
    assert result.exit_code == 0, result.output
    requests = {r.number: r for r in session.scalars(select(UtilizationRequest))}
    assert f"演示利用申请 (demo requests)：{'、'.join(sorted(requests, key=lambda n: requests[n].id))}" in result.output
    by_status = sorted((r.status, r.kind) for r in requests.values())
    assert by_status == [("approved", "records"), ("in_review", "records"), ("needs_supplement", "search"),
                         ("submitted", "records")]
    ready = next(r for r in requests.values() if r.status == "approved")
    assert [task.status for task in ready.tasks] == ["verified"]
    cross = next(r for r in requests.values() if r.status == "in_review")
    assert sorted(task.status for task in cross.tasks) == ["open", "verified"]
    open_task = next(task for task in cross.tasks if task.status == "open")
    assert counts(session, open_task.holding_archive_id)["tasks"] == 1
    assert counts(session, cross.issuing_archive_id)["in_review"] == 1
