"""Identity is verified before restricted data is shown (issue 11, section 1).

The attack: anyone may register with another person's name and resident ID number. Before, that
account saw the person's restricted records, and their ID number in full. Now a self-asserted
(unverified) identity matches nothing by ID number until a clerk has seen the ID card at a
counter, a real-name provider vouched for it, or a clerk accepted a request with the ID card."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.models import AuditLog
from portal.mail.models import MailOutbox
from tests.factories import PASSWORD, make_id_number
from tests.helpers import csrf_token, field_error, login, logout, submit
from portal.requests.service import Upload
from tests.files import pdf_bytes

VICTIM_NAME, VICTIM_ID = "韦秀英", make_id_number(born="19580212", seq=345)
RESTRICTED_TITLE = "韦秀英最低生活保障审批表"


@pytest.fixture
def archive(factory):
    return factory.archive()


@pytest.fixture
def restricted(factory, archive):
    return factory.record(archive, title=RESTRICTED_TITLE, subject_name=VICTIM_NAME, subject_id_number=VICTIM_ID,
                          access_level="restricted", category="subsistence", reference_code="J009-2003-0007")


def _record_url(record) -> str:
    return f"/records/{record.archive.code}/{record.reference_code}"


def test_an_impostor_with_the_victims_name_and_id_sees_none_of_the_victims_restricted_records(
        client, factory, restricted):
    impostor = factory.user(email="impostor@example.cn", name=VICTIM_NAME, id_number=VICTIM_ID, verified=False)
    login(client, impostor.email, PASSWORD)

    mine = client.get("/me/records").get_data(as_text=True)
    assert RESTRICTED_TITLE not in mine
    assert "您的身份尚未核验" in mine
    assert client.get(_record_url(restricted)).status_code == 404
    api = client.post("/api/v1/tokens", json={"email": impostor.email, "password": PASSWORD}).get_json()
    listed = client.get("/api/v1/me/records", headers={"Authorization": f"Bearer {api['token']}"}).get_json()
    assert RESTRICTED_TITLE not in str(listed) and VICTIM_ID not in str(listed)


def test_the_same_person_verified_sees_them_with_the_id_number_in_full(client, factory, restricted):
    verified = factory.user(email="wei@example.cn", name=VICTIM_NAME, id_number=VICTIM_ID)
    login(client, verified.email, PASSWORD)
    assert RESTRICTED_TITLE in client.get("/me/records").get_data(as_text=True)
    page = client.get(_record_url(restricted))
    assert page.status_code == 200 and VICTIM_ID in page.get_data(as_text=True)


def test_an_unverified_applicant_must_upload_their_id_card(client, factory, archive, session):
    citizen = factory.user(email="new@example.cn", name="蒙丽华", verified=False)
    factory.record(archive, title="蒙丽华结婚登记审查处理表", subject_name="蒙丽华", reference_code="J001-1985-0009")
    login(client, citizen.email, PASSWORD)
    form = {"records": "451200/J001-1985-0009", "relation": "self", "purpose": "pension",
            "issuing_archive": "451200", "delivery": "download", "consent": "y"}
    client.post("/basket/add", data={"archive_code": "451200", "reference_code": "J001-1985-0009",
                                     "csrf_token": csrf_token(client, "/me/records")})
    refused = submit(client, "/apply", form)
    assert refused.status_code == 422
    assert "申请人身份证件" in (field_error(refused.get_data(as_text=True), "applicant_id") or "")

    from portal.requests.models import UtilizationRequest
    assert session.scalar(select(UtilizationRequest).where(UtilizationRequest.applicant_id == citizen.id)) is None
    with_card = client.post("/apply", data={**form, "csrf_token": csrf_token(client, "/apply"),
                                            "applicant_id": (pdf_bytes_io(), "id-card.pdf")},
                            content_type="multipart/form-data")
    assert with_card.status_code == 303, with_card.get_data(as_text=True)[:2000]


def pdf_bytes_io():
    import io

    return io.BytesIO(pdf_bytes())


def test_accepting_an_unverified_applicants_request_needs_the_id_card_checked_and_verifies_the_account(
        client, factory, archive, session):
    from portal.actions import act
    from portal.core.errors import ValidationFailed

    citizen = factory.user(email="new@example.cn", name="张三", verified=False)
    request = factory.request(citizen, issuing=archive,
                              uploads=[Upload("applicant_id", "id-card.pdf", pdf_bytes_io())])
    clerk = factory.staff(archive)
    with pytest.raises(ValidationFailed) as refused:
        act(session, request, "accept", clerk, {"version": request.version})
    assert "identity_checked" in refused.value.errors
    session.refresh(citizen)
    assert not citizen.is_verified

    act(session, request, "accept", clerk, {"version": request.version, "identity_checked": True})
    session.refresh(citizen)
    assert citizen.is_verified and citizen.verified_method == "request"
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "identity_verified",
                                                  AuditLog.object_id == str(citizen.id)))
    assert entry.actor_id == clerk.id and entry.details["method"] == "request"


def test_a_clerk_verifies_at_the_counter_and_the_impostor_is_frozen(client, app, factory, archive, restricted,
                                                                    session):
    impostor = factory.user(email="impostor@example.cn", name=VICTIM_NAME, id_number=VICTIM_ID, verified=False)
    # The real person's account was registered with a typing error in the ID number.
    typo = make_id_number(born="19580212", seq=346)
    victim = factory.user(email="wei@example.cn", name=VICTIM_NAME, id_number=typo, verified=False)
    impostor_client = app.test_client()
    login(impostor_client, impostor.email, PASSWORD)
    clerk = factory.staff(archive)
    login(client, clerk.email, PASSWORD)

    card = {"email": victim.email, "name": VICTIM_NAME, "id_number": VICTIM_ID}
    looked_up = submit(client, "/staff/identity", card)
    html = looked_up.get_data(as_text=True)
    assert looked_up.status_code == 200 and looked_up.headers["Cache-Control"] == "no-store"
    assert "与证件不一致" in html and "另有一个尚未核验的账号" in html
    assert typo not in html and typo[-4:] in html  # the account's own number is shown masked

    done = submit(client, "/staff/identity", {**card, "confirm": "1"})
    assert done.status_code == 303
    session.expire_all()
    assert session.get(User, victim.id).is_verified
    frozen = session.get(User, impostor.id)
    assert frozen.frozen_at is not None and frozen.id_number_hash is None and not frozen.is_active
    # The impostor's open session ends, and they are told why by email.
    assert impostor_client.get("/me/records").status_code == 302
    mail = session.scalar(select(MailOutbox).where(MailOutbox.to_address == impostor.email))
    assert "冻结" in mail.subject and "申诉" in mail.body
    assert login(impostor_client, impostor.email, PASSWORD).status_code == 422

    # The verified person sets a password through the link sent to her confirmed address (whoever
    # knew the old one, maybe the one who registered in her name, is shut out).
    logout(client)
    assert login(client, victim.email, PASSWORD).status_code == 422
    link = re.search(r"https?://[^/\s]+(/password/reset/\S+)", session.scalars(
        select(MailOutbox.body).where(MailOutbox.to_address == victim.email).order_by(MailOutbox.id.desc())).first())
    assert submit(client, link.group(1), {"password": "Guangxi#Dangan7", "password2": "Guangxi#Dangan7"}).status_code == 303
    login(client, victim.email, "Guangxi#Dangan7")
    assert RESTRICTED_TITLE in client.get("/me/records").get_data(as_text=True)
    actions = set(session.scalars(select(AuditLog.action).where(AuditLog.actor_id == clerk.id)))
    assert {"identity_lookup", "identity_verified", "account_frozen"} <= actions
    # The look-up is in the log of every account it told the clerk about, the impostor's too.
    looked = set(session.scalars(select(AuditLog.object_id).where(AuditLog.action == "identity_lookup")))
    assert {str(victim.id), str(impostor.id)} <= looked


def test_an_account_registered_in_someone_elses_name_gains_nothing_from_their_counter_check(client, app, factory,
                                                                                               archive, restricted,
                                                                                               session):
    """Pre-hijack: the attacker registers with the victim's name, ID number and email before she
    does. The counter refuses an unconfirmed address; once she has confirmed it (the link reached
    her), her check ends the attacker's session and token and voids his password."""
    attacker = app.test_client()
    assert submit(attacker, "/register", {"name": VICTIM_NAME, "id_number": VICTIM_ID, "email": "wei@example.cn",
                                          "password": "Attacker#2024", "password2": "Attacker#2024",
                                          "consent": "y"}).status_code == 200
    assert login(attacker, "wei@example.cn", "Attacker#2024").status_code == 302
    token = attacker.post("/api/v1/tokens", json={"email": "wei@example.cn", "password": "Attacker#2024"}).get_json()
    clerk = factory.staff(archive)
    login(client, clerk.email, PASSWORD)
    card = {"email": "wei@example.cn", "name": VICTIM_NAME, "id_number": VICTIM_ID, "confirm": "1"}
    refused = submit(client, "/staff/identity", card)
    assert refused.status_code == 422 and "邮箱尚未确认" in refused.get_data(as_text=True)

    mail = session.scalars(select(MailOutbox.body).where(MailOutbox.to_address == "wei@example.cn")).first()
    app.test_client().get(re.search(r"https?://[^/\s]+(/confirm/\S+)", mail).group(1))  # she confirms
    assert submit(client, "/staff/identity", card).status_code == 303
    assert attacker.get("/me/records").status_code == 302
    assert attacker.get("/api/v1/me/records", headers={"Authorization": f"Bearer {token['token']}"}).status_code == 401
    assert login(attacker, "wei@example.cn", "Attacker#2024").status_code == 422


def test_only_clerks_and_admins_verify_at_the_counter(client, factory, archive):
    assert client.get("/staff/identity").status_code == 302  # to log in
    reviewer = factory.staff(archive, role="reviewer")
    login(client, reviewer.email, PASSWORD)
    assert client.get("/staff/identity").status_code == 404
    logout(client)
    citizen = factory.user()
    login(client, citizen.email, PASSWORD)
    assert client.get("/staff/identity").status_code == 404


def test_a_wrong_card_number_is_a_clear_error_that_keeps_what_was_typed(client, factory, archive):
    factory.user(email="wei@example.cn", name=VICTIM_NAME, id_number=VICTIM_ID, verified=False)
    login(client, factory.staff(archive).email, PASSWORD)
    answer = submit(client, "/staff/identity", {"email": "wei@example.cn", "name": VICTIM_NAME,
                                                "id_number": VICTIM_ID[:-1] + ("0" if VICTIM_ID[-1] != "0" else "1")})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert field_error(html, "id_number") and 'value="wei@example.cn"' in html


def test_create_user_makes_citizens_unverified_unless_told(app, session):
    runner = CliRunner()
    from portal.cli import create_user_command

    base = ["--role", "citizen", "--password", PASSWORD, "--name", "张三"]
    with app.app_context():
        plain = runner.invoke(create_user_command, [*base, "--email", "a@example.cn",
                                                    "--id-number", make_id_number(seq=501)])
        checked = runner.invoke(create_user_command, [*base, "--email", "b@example.cn",
                                                      "--id-number", make_id_number(seq=502), "--verified"])
    assert plain.exit_code == 0 and checked.exit_code == 0, plain.output + checked.output
    users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(["a@example.cn", "b@example.cn"])))}
    assert not users["a@example.cn"].is_verified
    assert users["b@example.cn"].is_verified and users["b@example.cn"].verified_method == "created"


def test_an_unknown_email_costs_one_password_check_as_a_known_one_does(client, factory):
    """Log-in timing told which emails have accounts: an unknown one hashed a stand-in password on
    every try (two argon2 runs) where a known one ran one verification. Now neither hashes."""
    from unittest import mock

    from argon2 import PasswordHasher

    factory.user(email="known@example.cn")
    with mock.patch.object(PasswordHasher, "hash", side_effect=AssertionError("hashed during a log-in")), \
            mock.patch.object(PasswordHasher, "verify", autospec=True, side_effect=PasswordHasher.verify) as verify:
        assert login(client, "unknown@example.cn", "Wrong2024x").status_code == 422
        assert login(client, "known@example.cn", "Wrong2024x").status_code == 422
    assert verify.call_count == 2  # one verification each
