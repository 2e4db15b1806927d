"""Deterministic demo data (`portal seed-demo`): seven archives, their staff, a demo citizen and a
catalog of plausible livelihood records. The same seed always yields the same catalog, so
screenshots, manuals and benchmarks can refer to concrete reference codes."""
from __future__ import annotations

import calendar
import random
import string
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate

from opencc import OpenCC
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.accounts.service import create_user
from portal.archives.models import Archive
from portal.audit.service import log
from portal.catalog.demo_data import (
    ADMIN, AGENCY_OF, ARCHIVE_ADMINS, ARCHIVES, CATEGORY_DATA, CITIZEN_BORN, CITIZEN_EMAIL, CITIZEN_NAME, CITIZEN_RECORDS,
    CITIZEN_REGION, CITIZEN_SEQ, GIVEN_NAMES, HOURS, PASSWORD, PRIMARY_SCHOOLS, SCHOOLS, STAFF, SURNAMES, TREES, UNITS, VILLAGES,
    DemoArchive,
)
from portal.catalog.models import Record
from portal.catalog.outbox import queue_index
from portal.core.idnumber import with_check_character
from portal.core.personal_data import cipher
from portal.core.clock import utcnow

BATCH_SIZE = 5000
# Records before the 1956 simplification scheme were written in traditional characters.
TRADITIONAL_BEFORE = 1956
TEXT_FIELDS = {"sex", "place", "unit", "school", "tree"}
# Money amounts by category: (low, high) in 2024 yuan, scaled down for earlier years.
AMOUNTS = {"land_acquisition": (20000, 300000), "medical_insurance": (800, 30000), "housing": (20000, 90000)}
# Core insert on the table, not the ORM bulk insert: see portal.catalog.importer._INSERT.
_INSERT = insert(Record.__table__).returning(Record.__table__.c.id)
CONTRACT_YEARS = {"employment": (1, 3, 5), "forest_rights": (30, 50, 70)}


class DemoDataExists(Exception):
    """The demo archives already hold records; seeding again would collide with them."""


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    name: str
    archive_code: str | None
    note: str = ""


@dataclass
class DemoSummary:
    records: int = 0
    archives: list[str] = field(default_factory=list)
    by_access: Counter = field(default_factory=Counter)
    by_category: Counter = field(default_factory=Counter)
    accounts: list[DemoAccount] = field(default_factory=list)
    password: str = PASSWORD


def citizen_id_number() -> str:
    first17 = CITIZEN_REGION + CITIZEN_BORN + CITIZEN_SEQ
    return with_check_character(first17)


def demo_accounts(codes: set[str] | None = None) -> list[DemoAccount]:
    """The demo's accounts: the citizen and the network admin, and the staff of the archives `codes`
    (None: all seven)."""
    accounts = [DemoAccount(CITIZEN_EMAIL, "citizen", CITIZEN_NAME, None,
                            f"身份证号 {citizen_id_number()}；多馆档案的当事人（开放、限制利用、控制使用、1956 年前）")]
    names = {a.code: a.name for a in ARCHIVES}
    for code, clerk, reviewer in STAFF:
        if codes is not None and code not in codes:
            continue
        accounts.append(DemoAccount(f"clerk.{code}@demo.cn", "clerk", clerk, code, f"{names[code]} 查档接待员"))
        accounts.append(DemoAccount(f"reviewer.{code}@demo.cn", "reviewer", reviewer, code, f"{names[code]} 审核员"))
    for code, name in ARCHIVE_ADMINS:
        if codes is not None and code not in codes:
            continue
        accounts.append(DemoAccount(f"manager.{code}@demo.cn", "archive_admin", name, code, f"{names[code]} 档案馆管理员"))
    accounts.append(DemoAccount(ADMIN[0], "admin", ADMIN[1], None, "系统管理员"))
    return accounts


def _scale(year: int) -> float:
    """Prices and incomes grew roughly tenfold from the 1980s to the 2020s."""
    return max(0.08, (year - 1975) / 49)


class RecordGenerator:
    """Catalog rows from a seed, with the subject's ID number in clear: no database, no keys, so the
    benchmark can write the same rows to a CSV file."""

    def __init__(self, seed: int, codes: set[str] | None = None):
        self.rng = random.Random(seed)
        self.codes = codes  # only these archives' records (None: all): one node of a two-node demo
        self._pieces: Counter = Counter()
        self._archive_cum = list(accumulate(a.weight if codes is None or a.code in codes else 0 for a in ARCHIVES))
        self._category_codes = list(CATEGORY_DATA)
        self._category_cum = list(accumulate(c.weight for c in CATEGORY_DATA.values()))
        self._surnames = [s for s, _ in SURNAMES]
        self._surname_cum = list(accumulate(w for _, w in SURNAMES))
        self._s2t = OpenCC("s2t")
        # OpenCC costs ~80 µs a call; the phrases are few and repeat, so each is converted once.
        self._traditional: dict[str, str] = {}
        self._fields: dict[str, list[str]] = {}

    def traditional(self, text: str) -> str:
        if (converted := self._traditional.get(text)) is None:
            converted = self._traditional[text] = self._s2t.convert(text)
        return converted

    def _template_fields(self, template: str) -> list[str]:
        if (names := self._fields.get(template)) is None:
            names = self._fields[template] = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        return names

    def _reference(self, archive_index: int, archive: DemoArchive, category: str, year: int) -> str:
        # Within one archive, 11·agency stays below 97, so each agency gets its own fonds number.
        fonds = f"J{(AGENCY_OF[category] * 11 + archive_index * 5) % 97 + 3:03d}"
        key = (archive.code, fonds, year)
        self._pieces[key] += 1
        return f"{fonds}-{year}-{self._pieces[key]:04d}"

    def _person(self, year: int, ages: tuple[int, int], male: bool, region: str) -> tuple[str, int, str | None]:
        rng = self.rng
        age = rng.randint(*ages)
        born_year = year - age
        surname = rng.choices(self._surnames, cum_weights=self._surname_cum)[0]
        name = surname + rng.choice(GIVEN_NAMES[("男" if male else "女", born_year < 1970)])
        id_number = None
        # Most records after the 1985 resident-ID law carry the number; older ones rarely do.
        if year > 1985 and rng.random() < 0.85:
            month = rng.randint(1, 12)
            day = rng.randint(1, calendar.monthrange(born_year, month)[1])
            first17 = f"{region}{born_year:04d}{month:02d}{day:02d}{rng.randrange(500) * 2 + male:03d}"
            id_number = with_check_character(first17)
        return name, age, id_number

    def _fill(self, name: str, category: str, year: int, ctx: dict) -> str:
        rng, scale = self.rng, _scale(year)
        if name in ctx:
            return str(ctx[name])
        if name == "mu":
            return f"{rng.uniform(0.6, 9.5):.1f}"
        if name == "sqm":
            return f"{rng.uniform(38, 120):.1f}"
        if name == "amount":
            low, high = AMOUNTS.get(category, (1000, 20000))
            return str(round(rng.uniform(low, high) * scale))
        if name == "seniority":  # years worked since 18, at most
            return str(rng.randint(max(1, ctx["age"] - 30), max(1, ctx["age"] - 18)))
        simple = {"plots": (2, 12), "members": (1, 7), "months": (24, 420)}
        if name in simple:
            return str(rng.randint(*simple[name]))
        money = {"pension": (2200, 3600), "income": (60, 500), "allowance": (80, 700)}
        if name in money:
            return str(round(rng.uniform(*money[name]) * scale))
        if name == "contract":
            return str(rng.choice(CONTRACT_YEARS.get(category, (3,))))
        if name == "school" and ctx["age"] < 13:
            return (ctx["town"] or ctx["short"]) + rng.choice(PRIMARY_SCHOOLS)
        if name == "tree":
            return rng.choice(TREES)
        return ctx["short"] + rng.choice(SCHOOLS if name == "school" else UNITS)

    def record(self, *, archive_code: str | None = None, category: str | None = None, title: str | None = None,
               date: tuple[int, int | None, int | None] | None = None, access: str | None = None,
               person: tuple[str, bool, str] | None = None) -> dict:
        """One row; the keyword arguments pin what the demo citizen's records must say."""
        rng = self.rng
        if archive_code:
            index = next(i for i, a in enumerate(ARCHIVES) if a.code == archive_code)
        else:
            index = rng.choices(range(len(ARCHIVES)), cum_weights=self._archive_cum)[0]
        archive = ARCHIVES[index]
        category = category or rng.choices(self._category_codes, cum_weights=self._category_cum)[0]
        spec = CATEGORY_DATA[category]
        if date:
            year, month, day = date
        else:
            year = rng.randint(min(t.first_year for t in spec.titles), max(t.last_year for t in spec.titles))
            month = rng.randint(1, 12) if rng.random() < 0.9 else None
            day = rng.randint(1, calendar.monthrange(year, month)[1]) if month and rng.random() < 0.8 else None
        candidates = [t for t in spec.titles if (t.text == title if title else t.first_year <= year <= t.last_year)]
        chosen = rng.choice(candidates)
        if person:
            name, male, id_number = person
            age = year - int(id_number[6:10])
        else:
            male = rng.random() < (0.95 if category == "veterans" else 0.5)
            name, age, id_number = self._person(year, chosen.ages or spec.ages, male, archive.code)
        town = None if spec.urban else rng.choice(archive.towns)
        place = town + rng.choice(VILLAGES) + "村" if town else rng.choice(archive.streets)
        if access is None:
            roll = rng.random()
            access = "closed" if roll < 0.05 else "restricted" if roll < 0.20 else "open"
        template = rng.choice(chosen.summaries)
        old = year < TRADITIONAL_BEFORE
        convert = self.traditional if old else str
        # The name stays simplified: the masking of open records looks for it verbatim in the text.
        ctx = {"name": name, "sex": "男" if male else "女", "age": age, "place": place, "year": year,
               "short": archive.short, "town": town}
        values = {}
        for f in self._template_fields(template):
            value = self._fill(f, category, year, ctx)
            values[f] = convert(value) if old and f in TEXT_FIELDS else value
        return {
            "archive_code": archive.code, "reference_code": self._reference(index, archive, category, year),
            "category": category, "title": convert(chosen.text), "subject_name": name, "subject_id": id_number,
            "event_year": year, "event_month": month, "event_day": day, "place": convert(place),
            "summary": convert(template).format(**values), "access_level": access,
        }

    def citizen_records(self) -> Iterator[dict]:
        person = (CITIZEN_NAME, False, citizen_id_number())
        for code, category, title, year, month, day, access in CITIZEN_RECORDS:
            if self.codes is not None and code not in self.codes:
                continue
            yield self.record(archive_code=code, category=category, title=title, date=(year, month, day),
                              access=access, person=person)

    def catalog(self, records: int) -> Iterator[dict]:
        """`records` rows in all, the demo citizen's first (there are always at least hers)."""
        own = list(self.citizen_records())
        yield from own
        for _ in range(records - len(own)):
            yield self.record()


def _ensure_archives(session: Session, codes: set[str] | None = None) -> dict[str, int]:
    chosen = [a for a in ARCHIVES if codes is None or a.code in codes]
    existing = {a.code: a for a in session.scalars(select(Archive).where(Archive.code.in_([a.code for a in chosen])))}
    for demo in chosen:
        if demo.code not in existing:
            existing[demo.code] = Archive(code=demo.code, name=demo.name, region=demo.region, address=demo.address,
                                          phone=demo.phone, opening_hours=HOURS)
            session.add(existing[demo.code])
    session.commit()
    return {code: a.id for code, a in existing.items()}


def _ensure_accounts(session: Session, codes: set[str] | None = None) -> list[DemoAccount]:
    accounts = demo_accounts(codes)
    taken = set(session.scalars(select(User.email).where(User.email.in_([a.email for a in accounts]))))
    for a in accounts:
        if a.email not in taken:
            create_user(session, role=a.role, email=a.email, password=PASSWORD, name=a.name,
                        id_number=citizen_id_number() if a.role == "citizen" else None, archive_code=a.archive_code,
                        verified=True)
    return accounts


def seed_demo(session: Session, records: int = 2000, seed: int = 1,
              progress: Callable[[int, int], None] | None = None, codes: set[str] | None = None) -> DemoSummary:
    """Create the demo archives, accounts and `records` catalog rows (at least the demo citizen's);
    `progress(done, total)` is called after each batch. `codes`: only these of the seven archives
    (each node of a two-node demo holds some of them: `make run-network`)."""
    if codes is not None and (unknown := codes - {a.code for a in ARCHIVES}):
        raise DemoDataExists(f"不是演示档案馆的代码 (not demo archive codes): {', '.join(sorted(unknown))}")
    archive_ids = _ensure_archives(session, codes)
    if session.scalar(select(Record.id).where(Record.archive_id.in_(archive_ids.values())).limit(1)):
        raise DemoDataExists("演示档案馆中已有档案条目，不能重复生成演示数据；请使用空数据库，或加 --if-empty。")
    summary = DemoSummary(archives=list(archive_ids), accounts=_ensure_accounts(session, codes))
    total = max(records, len(CITIZEN_RECORDS))
    personal = cipher()
    batch: list[dict] = []
    for row in RecordGenerator(seed, codes).catalog(total):
        id_number = row.pop("subject_id")
        row["archive_id"] = archive_ids[row.pop("archive_code")]
        row["subject_id_enc"] = personal.encrypt(id_number) if id_number else None
        row["subject_id_hash"] = personal.lookup_hash(id_number) if id_number else None
        summary.by_access[row["access_level"]] += 1
        summary.by_category[row["category"]] += 1
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            summary.records += _insert(session, batch)
            batch = []
            if progress:
                progress(summary.records, total)
    summary.records += _insert(session, batch)
    if progress:
        progress(summary.records, total)
    log(session, "catalog_seed_demo", object_type="catalog", records=summary.records, seed=seed)
    session.commit()
    return summary


def _insert(session: Session, rows: list[dict]) -> int:
    """One batch and its search-outbox rows, in one transaction."""
    if not rows:
        return 0
    now = utcnow()
    for row in rows:
        row["created_at"] = row["updated_at"] = now
    ids = session.execute(_INSERT, rows).scalars().all()
    queue_index(session, ids)
    session.commit()
    return len(ids)
