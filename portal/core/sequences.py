"""Gap-free numbers per scope and year (request numbers, certificate serials).

The counter row is incremented inside the caller's transaction: PostgreSQL holds the row lock
until commit and SQLite serialises writers, so two processes never get the same number, and a
rolled-back transaction gives its number back instead of leaving a hole."""
from __future__ import annotations

from sqlalchemy import Integer, SmallInteger, String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base


class NumberSequence(Base):
    __tablename__ = "number_sequence"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


def next_value(session: Session, scope: str, year: int) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(NumberSequence).values(scope=scope, year=year, last_value=1)
    statement = statement.on_conflict_do_update(
        index_elements=["scope", "year"], set_={"last_value": NumberSequence.last_value + 1}
    ).returning(NumberSequence.last_value)
    return session.execute(statement).scalar_one()
