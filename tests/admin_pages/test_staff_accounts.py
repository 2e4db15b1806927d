"""Staff accounts in the browser: an invitation by email whose link sets the first password once
and then opens nothing; roles; disabling ends every session and token at once and hands held
work back only when confirmed; enabling again; all of it in the audit log."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from portal.accounts.models import AccountToken, User
from portal.accounts.tokens import issue_token, user_for_token
from portal.actions import act
from portal.core.clock import utcnow
from tests.admin_pages.staff_world import audit, link_in, mail, post, sign_in, world  # noqa: F401 (fixture)
from tests.factories import PASSWORD
from tests.helpers import field_error, login, select_one

NEW_PASSWORD = "Qingshan2031"


def _invite(client, world, **typed):
    data = {"name": "蓝小红", "email": "lan@example.cn", "phone": "", "role": "clerk", **typed}
    return post(client, f"/admin/{world.a.code}/staff/invite", data)


def test_an_invitation_creates_an_account_without_a_password_and_emails_a_link(client, session, world, app):
    sign_in(client, world.people["archive_admin"])
    response = _invite(client, world)
    assert response.status_code == 303
    user = session.scalars(select(User).where(User.email == "lan@example.cn")).one()
    assert (user.role, user.archive_id, user.is_active) == ("clerk", world.a.id, True)
    (message,) = [m for m in mail(session) if m.to_address == "lan@example.cn"]
    assert message.body.startswith("蓝小红，您好") and world.a.name in message.subject
    assert message.body.split("/welcome/")[0].rsplit("\n", 1)[1] == app.config["PUBLIC_URL"]
    assert login(app.test_client(), "lan@example.cn", "!invited").status_code == 422  # no password opens it
    (entry,) = audit(session, "staff_invited")
    assert entry.actor_id == world.people["archive_admin"].id and entry.details["after"]["role"] == "clerk"
    listing = client.get(f"/admin/{world.a.code}/staff").get_data(as_text=True)
    assert "已邀请，未设置密码" in listing and "从未登录" in listing


def test_the_link_comes_from_the_configured_address_not_the_host_header(client, session, world, app):
    sign_in(client, world.people["admin"])
    token = select_one(client.get(f"/admin/{world.a.code}/staff/invite"), "input[name=csrf_token]")["value"]
    client.post(f"/admin/{world.a.code}/staff/invite", headers={"Host": "localhost"},
                data={"csrf_token": token, "name": "蓝小红", "email": "lan@example.cn", "role": "reviewer"})
    (message,) = [m for m in mail(session) if m.to_address == "lan@example.cn"]
    assert app.config["PUBLIC_URL"] + "/welcome/" in message.body


def test_the_link_sets_the_password_once_signs_in_and_lands_on_the_queue(client, session, world, app):
    sign_in(client, world.people["archive_admin"])
    _invite(client, world)
    link = link_in(mail(session)[-1])
    newcomer = app.test_client()
    assert "蓝小红" in newcomer.get(link).get_data(as_text=True)
    token = select_one(newcomer.get(link), "input[name=csrf_token]")["value"]
    weak = newcomer.post(link, data={"csrf_token": token, "password": "short", "password2": "short"})
    assert weak.status_code == 422 and field_error(weak.get_data(as_text=True), "password")
    done = newcomer.post(link, data={"csrf_token": token, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"].endswith("/staff/queue")
    assert newcomer.get("/staff/queue").status_code == 200
    again = app.test_client().get(link)
    assert again.status_code == 404 and "已使用或已过期" in again.get_data(as_text=True)
    assert login(app.test_client(), "lan@example.cn", NEW_PASSWORD).status_code == 302
    user = session.scalars(select(User).where(User.email == "lan@example.cn")).one()
    session.refresh(user)
    assert user.email_confirmed_at is not None
    assert len(audit(session, "staff_invitation_accepted")) == 1


def test_an_expired_link_opens_nothing_and_a_resent_one_replaces_it(client, session, world, app):
    sign_in(client, world.people["archive_admin"])
    _invite(client, world)
    first = link_in(mail(session)[-1])
    user = session.scalars(select(User).where(User.email == "lan@example.cn")).one()
    assert post(client, f"/admin/{world.a.code}/staff/{user.id}/resend").status_code == 303
    second = link_in(mail(session)[-1])
    assert first != second and app.test_client().get(first).status_code == 404
    assert app.test_client().get(second).status_code == 200
    session.execute(update(AccountToken).where(AccountToken.user_id == user.id)
                    .values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert app.test_client().get(second).status_code == 404
    assert len(audit(session, "staff_invitation_resent")) == 1


def test_an_invitation_form_shows_every_problem_and_keeps_what_was_typed(client, session, world):
    sign_in(client, world.people["archive_admin"])
    response = _invite(client, world, name="", email="not-an-email", phone="123", role="admin")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert all(field_error(html, name) for name in ("name", "email", "phone", "role"))
    assert select_one(html, "#email")["value"] == "not-an-email"
    taken = _invite(client, world, email=world.people["clerk_b"].email)
    assert "已有账号" in field_error(taken.get_data(as_text=True), "email")
    assert session.scalar(select(User.id).where(User.role == "admin", User.email == "not-an-email")) is None


def test_disabling_ends_the_session_and_tokens_at_once_and_login_is_refused(client, session, world, app):
    clerk = world.people["clerk"]
    theirs = app.test_client()
    sign_in(theirs, clerk)
    assert theirs.get("/staff/queue").status_code == 200
    raw, _expires = issue_token(session, clerk.email, PASSWORD)
    sign_in(client, world.people["archive_admin"])
    assert post(client, f"/admin/{world.a.code}/staff/{clerk.id}/disable").status_code == 303
    assert theirs.get("/staff/queue").status_code == 302  # to log in: the session is gone
    assert user_for_token(session, raw) is None
    assert login(app.test_client(), clerk.email, PASSWORD).status_code == 422
    (entry,) = audit(session, "staff_disabled")
    assert entry.details["before"] == {"active": True} and entry.details["after"] == {"active": False}
    assert "已停用" in client.get(f"/admin/{world.a.code}/staff").get_data(as_text=True)
    assert post(client, f"/admin/{world.a.code}/staff/{clerk.id}/enable").status_code == 303
    assert login(app.test_client(), clerk.email, PASSWORD).status_code == 302
    assert len(audit(session, "staff_enabled")) == 1


def test_a_disabled_invitee_cannot_use_the_link(client, session, world, app):
    sign_in(client, world.people["archive_admin"])
    _invite(client, world)
    link = link_in(mail(session)[-1])
    user = session.scalars(select(User).where(User.email == "lan@example.cn")).one()
    post(client, f"/admin/{world.a.code}/staff/{user.id}/disable")
    post(client, f"/admin/{world.a.code}/staff/{user.id}/enable")
    assert app.test_client().get(link).status_code == 404  # disabling revoked it; enabling does not bring it back


def test_an_archive_admin_cannot_disable_or_demote_themselves(client, session, world):
    me = world.people["archive_admin"]
    sign_in(client, me)
    assert post(client, f"/admin/{world.a.code}/staff/{me.id}/disable").status_code == 409
    assert post(client, f"/admin/{world.a.code}/staff/{me.id}/role", {"role": "clerk"}).status_code == 409
    session.refresh(me)
    assert me.is_active_account and me.role == "archive_admin"


def test_a_role_changes_and_is_logged_but_never_to_network_admin(client, session, world):
    reviewer = world.people["reviewer"]
    sign_in(client, world.people["archive_admin"])
    assert post(client, f"/admin/{world.a.code}/staff/{reviewer.id}/role", {"role": "admin"}).status_code == 422
    assert post(client, f"/admin/{world.a.code}/staff/{reviewer.id}/role", {"role": "clerk"}).status_code == 303
    session.refresh(reviewer)
    assert reviewer.role == "clerk"
    (entry,) = audit(session, "staff_role_changed")
    assert entry.details == {"before": {"role": "reviewer"}, "after": {"role": "clerk"}}


def test_disabling_someone_who_holds_work_says_so_and_releases_it_only_when_confirmed(client, session, world, factory):
    clerk = world.people["clerk"]
    request = factory.request(issuing=world.a)
    act(session, request, "claim", clerk, {})
    sign_in(client, world.people["archive_admin"])
    url = f"/admin/{world.a.code}/staff/{clerk.id}/disable"
    asked = post(client, url)
    assert asked.status_code == 409 and request.number in select_one(asked, "#held-work").get_text()
    session.refresh(clerk)
    session.refresh(request)
    assert clerk.is_active_account and request.claimed_by_id == clerk.id
    assert post(client, url, {"release": "1"}).status_code == 303
    session.refresh(clerk)
    session.refresh(request)
    assert not clerk.is_active_account and request.claimed_by_id is None
    (entry,) = audit(session, "staff_claims_released")
    assert entry.details["requests"] == [request.number]
