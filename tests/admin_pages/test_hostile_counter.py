"""A hostile clerk at the counter: the hidden citizen and account ids of the forms are not a way
to reach people the clerk never found by their ID number."""
from __future__ import annotations

from sqlalchemy import select

from portal.requests.models import UtilizationRequest
from tests.factories import PASSWORD, make_id_number
from tests.helpers import login, submit

NUMBER = make_id_number(region="451202", born="19700101", seq=456)


def _desk(factory, client):
    archive = factory.archive("451200", "河池市档案馆")
    clerk = factory.user("clerk", archive=archive, name="李接待", email="clerk@example.cn")
    login(client, clerk.email, PASSWORD)
    return archive


def test_a_request_cannot_be_registered_for_someone_never_looked_up(client, factory, session):
    archive = _desk(factory, client)
    stranger = factory.user(id_number=make_id_number(seq=321), name="赵秘密")
    record = factory.record(archive, subject_name="赵秘密")
    form_url = f"/admin/{archive.code}/counter"
    data = {"citizen": str(stranger.id), "key": "k", "kind": "records", "relation": "self", "purpose": "pension",
            "delivery": "pickup", "consent": "1", "records": f"{archive.code}/{record.reference_code}"}
    response = submit(client, f"{form_url}/submit", data, form_url=form_url)
    assert response.status_code == 404
    assert session.scalar(select(UtilizationRequest)) is None
    # nor does a form with a problem show the stranger's name
    response = submit(client, f"{form_url}/submit", {**data, "consent": ""}, form_url=form_url)
    assert response.status_code == 404 and "赵秘密" not in response.get_data(as_text=True)


def test_an_unverified_account_id_does_not_show_its_name(client, factory):
    archive = _desk(factory, client)
    stranger = factory.user(id_number=make_id_number(seq=322), name="钱秘密", verified=False,
                            email="qian@example.cn")
    form_url = f"/admin/{archive.code}/counter"
    response = submit(client, f"{form_url}/citizen", {"account": str(stranger.id), "id_number": "x", "name": ""},
                      form_url=form_url)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "钱秘密" not in body and "q***@example.cn" not in body


def test_the_citizen_found_in_archive_a_is_not_chosen_at_archive_b(client, factory, session):
    """The clerk's look-up vouches for the citizen at this archive only, for this clerk only."""
    archive = _desk(factory, client)
    citizen = factory.user(id_number=NUMBER, name="王秀英")
    form_url = f"/admin/{archive.code}/counter"
    submit(client, f"{form_url}/lookup", {"id_number": NUMBER}, form_url=form_url)
    other_clerk = factory.user("clerk", archive=archive, email="clerk2@example.cn")
    login(client, other_clerk.email, PASSWORD)
    data = {"citizen": str(citizen.id), "key": "k", "kind": "search", "relation": "self", "purpose": "pension",
            "delivery": "pickup", "consent": "1", "search_category": "marriage", "year_from": "1980"}
    assert submit(client, f"{form_url}/submit", data, form_url=form_url).status_code == 404


def test_a_double_click_on_create_account_shows_the_intake_form_twice(client, factory, session):
    """The browser shows the second answer: it is the same account's intake form, not "this
    number already has a verified account"; one account is made."""
    from portal.accounts.models import User
    from portal.core.personal_data import cipher

    archive = _desk(factory, client)
    form_url = f"/admin/{archive.code}/counter"
    data = {"id_number": NUMBER, "name": "王秀英", "phone": "13800138000", "email": "wang.new@example.cn"}
    first = submit(client, f"{form_url}/citizen", data, form_url=form_url)
    second = submit(client, f"{form_url}/citizen", data, form_url=form_url)
    assert first.status_code == second.status_code == 200
    assert 'name="citizen"' in second.get_data(as_text=True)
    made = session.scalars(select(User).where(User.id_number_hash == cipher().lookup_hash(NUMBER))).all()
    assert len(made) == 1


def test_another_clerks_account_for_the_number_is_not_returned_by_create(client, factory, session):
    archive = _desk(factory, client)
    factory.user(id_number=NUMBER, name="王秀英")  # registered and verified elsewhere
    form_url = f"/admin/{archive.code}/counter"
    response = submit(client, f"{form_url}/citizen", {"id_number": NUMBER, "name": "王秀英"}, form_url=form_url)
    assert response.status_code == 422 and 'name="citizen"' not in response.get_data(as_text=True)


def test_the_catalog_look_up_takes_what_was_typed_in_a_post_body_only(client, factory):
    """Titles carry names ("韦秀英结婚登记审查处理表"): what a clerk types goes in no URL."""
    from tests.helpers import hx_csrf_token

    archive = _desk(factory, client)
    factory.record(archive, reference_code="J001-1985-0001", title="韦秀英结婚登记审查处理表")
    url = f"/admin/{archive.code}/counter/catalog"
    assert "J001-1985-0001" not in client.get(f"{url}?q=韦秀英").get_data(as_text=True)
    found = client.post(url, data={"q": "韦秀英"}, headers={"HX-Request": "true",
                                                         "X-CSRFToken": hx_csrf_token(client, "/")})
    assert found.status_code == 200 and "J001-1985-0001" in found.get_data(as_text=True)
    page = client.get(f"/admin/{archive.code}/counter/catalog").get_data(as_text=True)
    assert 'method="post"' in page
