"""Hostile input on the archive and staff pages: odd characters, another archive's people, roles
that are not on offer."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from portal.accounts.models import User
from portal.archives.models import Archive
from tests.admin_pages.staff_world import post, sign_in, world  # noqa: F401 (fixture)
from tests.helpers import field_error

GOOD = {"name": "南丹县档案馆", "region": "河池市", "address": "", "opening_hours": "", "phone": "",
        "task_due_working_days": "5"}


@pytest.mark.parametrize("days", ["²", "①", "٣٣", "1e3", "-1", "9" * 400])
def test_due_days_in_odd_digits_are_refused_not_a_500(client, session, world, days):
    sign_in(client, world.people["archive_admin"])
    response = post(client, f"/admin/{world.a.code}/archive", {**GOOD, "task_due_working_days": days})
    assert response.status_code == 422, days
    assert field_error(response.get_data(as_text=True), "task_due_working_days") == "协办时限应为 1 到 30 个工作日"
    session.expire_all()
    assert session.get(Archive, world.a.id).name == "河池市档案馆"


def test_due_days_in_full_width_digits_are_read(client, session, world):
    sign_in(client, world.people["archive_admin"])
    assert post(client, f"/admin/{world.a.code}/archive", {**GOOD, "task_due_working_days": "１５"}).status_code == 303
    session.expire_all()
    assert session.get(Archive, world.a.id).task_due_working_days == 15


def test_an_archive_admin_cannot_touch_another_archives_staff_by_id(client, session, world):
    sign_in(client, world.people["archive_admin"])
    victim = world.people["clerk_b"]
    for step, data in (("role", {"role": "reviewer"}), ("disable", {}), ("enable", {}), ("resend", {})):
        for code in (world.a.code, world.b.code):
            assert post(client, f"/admin/{code}/staff/{victim.id}/{step}", data).status_code == 404, (code, step)
    session.expire_all()
    victim = session.get(User, victim.id)
    assert victim.role == "clerk" and victim.is_active_account


@pytest.mark.parametrize("role", ["admin", "citizen", "ADMIN", "archive_admin\x00", ""])
def test_no_role_off_the_list_is_given(client, session, world, role):
    sign_in(client, world.people["archive_admin"])
    clerk = world.people["clerk"]
    response = post(client, f"/admin/{world.a.code}/staff/{clerk.id}/role", {"role": role})
    assert response.status_code in (400, 422)
    session.expire_all()
    assert session.get(User, clerk.id).role == "clerk"
    response = post(client, f"/admin/{world.a.code}/staff/invite",
                    {"name": "某人", "email": "new@example.cn", "role": role})
    assert response.status_code in (400, 422)
    assert session.scalar(select(User).where(User.email == "new@example.cn")) is None


def test_the_network_admin_account_is_not_staff_an_archive_admin_may_disable(client, session, world):
    sign_in(client, world.people["archive_admin"])
    admin = world.people["admin"]
    assert post(client, f"/admin/{world.a.code}/staff/{admin.id}/disable").status_code == 404
    assert post(client, f"/admin/{world.a.code}/staff/{admin.id}/role", {"role": "clerk"}).status_code == 404
    session.expire_all()
    assert session.get(User, admin.id).role == "admin" and session.get(User, admin.id).is_active_account


@pytest.mark.real_commits
def test_two_archive_admins_demoting_each_other_at_once_leave_one(app, session, world, factory):
    """X demotes Y while Y demotes X: whichever comes second is no admin any more by then (its
    own account is read again under a lock on the archive, not from the start of its request)."""
    from portal.admin import staff_service as staff
    from portal.core.errors import NotAllowed
    from portal.db import db

    x = world.people["archive_admin"]
    y = factory.user("archive_admin", archive=world.a, email="second.a@example.cn", name="覃二")
    session.commit()
    y_as_loaded = session.get(User, y.id)  # Y's request began: its account read as an admin
    with db.engine.begin() as other:       # X's request commits first: Y is a clerk now
        other.execute(update(User).where(User.id == y.id).values(role="clerk"))
    with pytest.raises(NotAllowed):
        staff.change_role(session, world.a, session.get(User, x.id), "clerk", y_as_loaded)
    session.rollback()
    session.expire_all()
    assert session.get(User, x.id).role == "archive_admin"


def test_a_double_click_on_invite_says_sent_not_already_registered(client, session, world):
    from portal.mail.models import MailOutbox

    sign_in(client, world.people["archive_admin"])
    data = {"name": "农小红", "email": "nong@example.cn", "phone": "", "role": "clerk"}
    first = post(client, f"/admin/{world.a.code}/staff/invite", data)
    second = post(client, f"/admin/{world.a.code}/staff/invite", data)
    assert first.status_code == second.status_code == 303
    assert len(session.scalars(select(User).where(User.email == "nong@example.cn")).all()) == 1
    assert len(session.scalars(select(MailOutbox).where(MailOutbox.to_address == "nong@example.cn")).all()) == 1
    # someone else's address is still refused
    other = post(client, f"/admin/{world.a.code}/staff/invite", {**data, "email": "clerk.b@example.cn"})
    assert other.status_code == 422
