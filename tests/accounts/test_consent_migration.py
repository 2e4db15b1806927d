"""Migration 0009: the notice version a registration consented to; its downgrade drops it and keeps the accounts."""
from __future__ import annotations

from sqlalchemy import inspect, select

from portal.accounts.models import User
from portal.accounts.notice import NOTICE
from portal.db import db
from portal.migrate import downgrade, upgrade


def _columns() -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("user_account")}


def test_0009_adds_the_notice_version_and_its_downgrade_drops_it_keeping_the_accounts(app, session, factory):
    user = factory.user(email="consent@example.cn")
    user.privacy_notice_version = NOTICE.version
    session.commit()
    session.close()
    downgrade(db.engine, "0008")
    assert "privacy_notice_version" not in _columns()
    upgrade(db.engine)
    assert "privacy_notice_version" in _columns()
    session.expire_all()
    kept = session.scalars(select(User).where(User.email == "consent@example.cn")).one()
    assert kept.privacy_notice_version is None  # the version went with the column; the account stayed
