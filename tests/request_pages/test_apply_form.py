"""The apply form (/apply): every mistake is named next to its field in Chinese with status 422,
what was typed stays in the form, nothing but draft files is stored; good files survive as drafts;
the same submission twice makes one request; success leads to the request's page."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.requests.models import UtilizationRequest
from tests.factories import make_id_number
from tests.files import big_file_bytes, fake_pdf_bytes, jpeg_bytes, pdf_bytes
from tests.helpers import field_error, hx_csrf_token, logout
from tests.request_pages.conftest import (CITIZEN_ID, CITIZEN_NAME, FATHER_ID, FATHER_NAME, add_to_basket,
                                          count_requests, error_fields, files_in_db, form_keys, post_apply,
                                          sign_in, stored_files, submission_key, upload)

PURPOSE_NOTE = "办理父亲名下房产的继承公证"
ADDRESS = "广西河池市金城江区南新西路 8 号 王秀英 13807780000"
PLACE = "金城江区东江镇"
BAD_ID = FATHER_ID[:17] + ("0" if FATHER_ID[17] != "0" else "1")  # right shape, wrong check character


@pytest.fixture
def father_record(factory, archive):
    """An open record about the applicant's late father: what an heir applies for."""
    return factory.record(archive, title=f"{FATHER_NAME}房改售房审批表", subject_name=FATHER_NAME,
                          subject_id_number=FATHER_ID, category="housing", reference_code="J007-1996-0031")


@pytest.fixture
def heir(signed_in, father_record):
    """Signed in, the father's record in the basket; returns the client."""
    add_to_basket(signed_in, father_record, quiet="1")
    return signed_in


def heir_form(client, url: str = "/apply", **changes) -> dict:
    token, key = form_keys(client, url)
    data = {"csrf_token": token, "submission_key": key, "kind": "records", "relation": "heir",
            "subject_name": FATHER_NAME, "subject_id_number": FATHER_ID, "purpose": "inheritance",
            "purpose_note": PURPOSE_NOTE, "issuing_archive": "451200", "delivery": "post", "address": ADDRESS,
            "consent": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def heir_files() -> dict:
    return {"death_proof": upload(pdf_bytes(), "死亡医学证明.pdf"),
            "relationship_proof": upload(jpeg_bytes(), "户口簿.jpg")}


def self_search_form(client, **changes) -> dict:
    token, key = form_keys(client, "/apply?kind=search")
    data = {"csrf_token": token, "submission_key": key, "kind": "search", "relation": "self",
            "search_category": "land_contract", "year_from": "1982", "year_to": "1999", "search_place": PLACE,
            "purpose": "other", "purpose_note": PURPOSE_NOTE, "issuing_archive": "451200", "delivery": "post",
            "address": ADDRESS, "consent": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def assert_nothing_but_drafts(app, session, drafts: int) -> None:
    assert count_requests(session) == 0
    rows = files_in_db(session)
    assert all(row.request_id is None for row in rows)
    assert len(rows) == drafts
    assert len(stored_files(app)) == drafts


def kept_ids(html: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="kept_file" value="([^"]+)" checked>', html)


def value_of(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


# ---- every mistake: a message at the field, 422, what was typed kept, nothing created ----------

@pytest.mark.parametrize("relation", ["heir", "relative"])
def test_a_wrong_check_character_in_the_other_persons_id_number_is_named_at_that_field(
        app, session, heir, relation):
    files = heir_files() if relation == "heir" else {"relationship_proof": upload(jpeg_bytes(), "户口簿.jpg")}
    response = post_apply(heir, heir_form(heir, relation=relation, subject_id_number=BAD_ID), files)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "校验位不正确" in field_error(html, "subject_id_number")
    assert error_fields(html) == ["subject_id_number"]
    assert value_of(html, "subject_id_number") == BAD_ID
    assert value_of(html, "subject_name") == FATHER_NAME
    assert value_of(html, "purpose_note") == PURPOSE_NOTE
    assert value_of(html, "address") == ADDRESS
    assert_nothing_but_drafts(app, session, drafts=len(files))


def test_an_heir_without_a_death_certificate_is_asked_for_it(app, session, heir):
    files = {"relationship_proof": upload(jpeg_bytes(), "户口簿.jpg")}
    response = post_apply(heir, heir_form(heir), files)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "death_proof") == "请上传死亡证明"
    assert error_fields(html) == ["death_proof"]
    assert value_of(html, "subject_name") == FATHER_NAME and value_of(html, "address") == ADDRESS
    assert_nothing_but_drafts(app, session, drafts=1)


def test_without_consent_nothing_is_submitted(app, session, heir):
    response = post_apply(heir, heir_form(heir, consent=None), heir_files())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "需要您同意处理申请中的个人信息" in field_error(html, "consent")
    assert error_fields(html) == ["consent"]
    assert value_of(html, "subject_name") == FATHER_NAME and value_of(html, "purpose_note") == PURPOSE_NOTE
    assert_nothing_but_drafts(app, session, drafts=2)


def test_a_file_that_only_pretends_to_be_a_pdf_is_refused_by_name(app, session, heir):
    files = {"death_proof": upload(pdf_bytes(), "死亡医学证明.pdf"),
             "relationship_proof": upload(fake_pdf_bytes(), "亲属关系证明（扫描）.pdf")}
    response = post_apply(heir, heir_form(heir), files)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "relationship_proof") == "“亲属关系证明（扫描）.pdf”已损坏或无法打开"
    assert error_fields(html) == ["relationship_proof"]
    assert value_of(html, "address") == ADDRESS
    assert_nothing_but_drafts(app, session, drafts=1)  # the good death certificate


def test_a_file_over_10_mb_is_refused_with_the_limit_named(app, session, heir):
    files = {"death_proof": upload(big_file_bytes(11), "死亡证明（高清扫描）.pdf"),
             "relationship_proof": upload(jpeg_bytes(), "户口簿.jpg")}
    response = post_apply(heir, heir_form(heir), files)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "death_proof") == "“死亡证明（高清扫描）.pdf”超过 10 MB"
    assert error_fields(html) == ["death_proof"]
    assert value_of(html, "subject_name") == FATHER_NAME
    assert_nothing_but_drafts(app, session, drafts=1)


def test_more_than_five_files_are_refused_and_none_is_kept(app, session, heir):
    files = {"death_proof": upload(pdf_bytes(), "死亡医学证明.pdf"),
             "relationship_proof": [upload(jpeg_bytes(), f"户口簿第{i}页.jpg") for i in range(1, 6)]}
    response = post_apply(heir, heir_form(heir), files)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "每份申请最多上传 5 个文件" in summary
    assert error_fields(html) == []
    assert value_of(html, "subject_name") == FATHER_NAME and value_of(html, "purpose_note") == PURPOSE_NOTE
    assert kept_ids(html) == []
    assert_nothing_but_drafts(app, session, drafts=0)


def test_an_empty_basket_is_explained(app, session, signed_in):
    response = post_apply(signed_in, heir_form(signed_in), heir_files())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "请先把要申请的档案加入申请清单" in summary
    assert error_fields(html) == []
    assert value_of(html, "subject_name") == FATHER_NAME and value_of(html, "address") == ADDRESS
    assert_nothing_but_drafts(app, session, drafts=2)


def test_purpose_other_needs_a_note(app, session, heir):
    response = post_apply(heir, heir_form(heir, purpose="other", purpose_note=""), heir_files())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "purpose_note") == "请说明利用目的"
    assert error_fields(html) == ["purpose_note"]
    assert re.search(r'<option selected value="other">|<option value="other" selected>', html)
    assert value_of(html, "address") == ADDRESS and value_of(html, "subject_name") == FATHER_NAME
    assert_nothing_but_drafts(app, session, drafts=2)


def test_delivery_by_post_needs_an_address(app, session, heir):
    response = post_apply(heir, heir_form(heir, address="  "), heir_files())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "address") == "邮寄需要填写收件地址"
    assert error_fields(html) == ["address"]
    assert value_of(html, "purpose_note") == PURPOSE_NOTE and value_of(html, "subject_name") == FATHER_NAME
    assert_nothing_but_drafts(app, session, drafts=2)


def test_a_search_needs_a_category(app, session, signed_in):
    response = post_apply(signed_in, self_search_form(signed_in, search_category=""), url="/apply?kind=search")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "search_category") == "请选择要查找的档案类别"
    assert error_fields(html) == ["search_category"]
    assert value_of(html, "search_place") == PLACE and value_of(html, "year_from") == "1982"
    assert value_of(html, "purpose_note") == PURPOSE_NOTE and value_of(html, "address") == ADDRESS
    assert_nothing_but_drafts(app, session, drafts=0)


def test_a_search_cannot_end_before_it_starts(app, session, signed_in):
    response = post_apply(signed_in, self_search_form(signed_in, year_from="1999", year_to="1982"),
                          url="/apply?kind=search")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "year_to") == "结束年份不能早于起始年份"
    assert error_fields(html) == ["year_to"]
    assert value_of(html, "year_from") == "1999" and value_of(html, "year_to") == "1982"
    assert re.search(r'<option selected value="land_contract">|<option value="land_contract" selected>', html)
    assert value_of(html, "search_place") == PLACE
    assert_nothing_but_drafts(app, session, drafts=0)


# ---- drafts: good files need not be chosen again ------------------------------------------------

def test_good_files_sent_with_a_mistake_are_kept_and_used_by_the_corrected_form(app, session, heir):
    first = post_apply(heir, heir_form(heir, consent=None), heir_files())
    html = first.get_data(as_text=True)
    assert first.status_code == 422
    ids = kept_ids(html)
    assert len(ids) == 2
    assert "死亡医学证明.pdf（死亡证明）" in html and "户口簿.jpg（亲属关系证明）" in html

    # The corrected form: the same page (its submission key), consent ticked, no new upload.
    token_key = {"csrf_token": heir_form(heir)["csrf_token"], "submission_key": submission_key(html)}
    data = {**heir_form(heir), **token_key, "kept_file": ids}
    second = post_apply(heir, data)
    assert second.status_code == 303, second.get_data(as_text=True)
    created = session.scalar(select(UtilizationRequest))
    session.refresh(created)
    assert second.headers["Location"] == f"/requests/{created.number}"
    assert sorted((f.kind, f.original_name) for f in created.files) == [
        ("death_proof", "死亡医学证明.pdf"), ("relationship_proof", "户口簿.jpg")]
    assert all(row.request_id == created.id for row in files_in_db(session))
    assert len(stored_files(app)) == 2


def test_someone_elses_draft_cannot_be_attached(session, factory, heir, father_record):
    post_apply(heir, heir_form(heir, consent=None), heir_files())
    their_drafts = [f.public_id for f in files_in_db(session)]
    assert len(their_drafts) == 2

    logout(heir)  # another citizen, in the same browser
    sign_in(heir, factory.user(email="other@example.cn", name="李四"))
    add_to_basket(heir, father_record, quiet="1")
    response = post_apply(heir, {**heir_form(heir), "kept_file": their_drafts})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "death_proof") == "请上传死亡证明"
    assert kept_ids(html) == []
    assert count_requests(session) == 0


# ---- double submits -----------------------------------------------------------------------------

def test_posting_the_same_form_twice_makes_one_request(session, signed_in, factory, archive):
    own = factory.record(archive, subject_name=CITIZEN_NAME, subject_id_number=CITIZEN_ID)
    add_to_basket(signed_in, own, quiet="1")
    token, key = form_keys(signed_in)
    data = {"csrf_token": token, "submission_key": key, "kind": "records", "relation": "self",
            "purpose": "pension", "issuing_archive": "451200", "delivery": "download", "consent": "y"}
    first = post_apply(signed_in, data)
    second = post_apply(signed_in, data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].startswith("/requests/451200-")
    assert count_requests(session) == 1


def test_resubmitting_after_success_makes_no_second_request_nor_stores_the_files_again(
        app, session, heir):
    data = heir_form(heir)
    first = post_apply(heir, data, heir_files(), follow_redirects=True)
    assert first.status_code == 200 and "申请已提交" in first.get_data(as_text=True)
    number = session.scalar(select(UtilizationRequest.number))

    again = post_apply(heir, data, heir_files())  # the browser's "resend the form?"
    assert again.status_code == 303
    assert again.headers["Location"] == f"/requests/{number}"
    assert count_requests(session) == 1
    assert len(files_in_db(session)) == 2 and len(stored_files(app)) == 2


# ---- success ------------------------------------------------------------------------------------

def test_a_complete_application_is_submitted_and_listed(session, heir, father_record):
    response = post_apply(heir, heir_form(heir), heir_files())
    assert response.status_code == 303
    created = session.scalar(select(UtilizationRequest))
    session.refresh(created)
    assert response.headers["Location"] == f"/requests/{created.number}"
    assert created.number.startswith(f"451200-{date.today().year}-")
    assert (created.relation, created.subject_name, created.status) == ("heir", FATHER_NAME, "submitted")
    assert [item.record.reference_code for item in created.items] == [father_record.reference_code]
    assert created.address == ADDRESS and len(created.files) == 2

    page = heir.get(response.headers["Location"]).get_data(as_text=True)
    assert f"申请已提交，申请编号 {created.number}。" in page

    apply_page = heir.get("/apply").get_data(as_text=True)
    assert "申请清单是空的" in apply_page

    listing = heir.get("/requests").get_data(as_text=True)
    assert f'href="/requests/{created.number}"' in listing
    assert '<span class="badge status-submitted">已提交</span>' in listing
    assert created.due_date.isoformat() in listing
    assert created.due_date > date.today()


def test_a_search_request_is_submitted(session, signed_in):
    response = post_apply(signed_in, self_search_form(signed_in), url="/apply?kind=search")
    assert response.status_code == 303
    created = session.scalar(select(UtilizationRequest))
    assert (created.kind, created.search_category, created.search_year_from, created.search_year_to) == (
        "search", "land_contract", 1982, 1999)
    listing = signed_in.get("/requests").get_data(as_text=True)
    assert "代为查找：土地承包" in listing


# ---- the relation-dependent part of the form ----------------------------------------------------

def _fields(client, data: dict):
    """What htmx sends when the relation changes: a POST (an ID number never goes in an address)."""
    return client.post("/apply/fields", data=data,
                       headers={"HX-Request": "true", "X-CSRFToken": hx_csrf_token(client, "/apply")})


def test_relation_fields_for_an_heir_ask_for_the_subject_and_both_proofs(signed_in):
    response = _fields(signed_in, {"relation": "heir", "subject_name": FATHER_NAME,
                                   "subject_id_number": FATHER_ID})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert 'name="subject_name"' in html and 'name="subject_id_number"' in html
    assert value_of(html, "subject_name") == FATHER_NAME  # what was typed comes along
    assert value_of(html, "subject_id_number") == FATHER_ID
    assert re.search(r'<input[^>]*name="death_proof"[^>]*type="file"', html)
    assert re.search(r'<input[^>]*name="relationship_proof"[^>]*type="file"', html)


def test_relation_fields_are_never_asked_for_in_an_address(signed_in):
    assert signed_in.get("/apply/fields", query_string={"relation": "heir"}).status_code == 405
    page = signed_in.get("/apply").get_data(as_text=True)
    assert 'hx-post="/apply/fields"' in page and "hx-get=\"/apply/fields" not in page


def test_relation_fields_for_oneself_ask_for_no_subject(signed_in):
    html = _fields(signed_in, {"relation": "self"}).get_data(as_text=True)
    assert 'name="subject_name"' not in html and 'name="subject_id_number"' not in html
    assert 'name="death_proof"' not in html and 'name="relationship_proof"' not in html
    assert "为本人申请无需证明材料" in html


def test_the_apply_page_starts_with_a_fresh_submission_key_each_time(signed_in):
    first, second = form_keys(signed_in)[1], form_keys(signed_in)[1]
    assert first and second and first != second


def test_staff_cannot_apply(client, factory, archive):
    sign_in(client, factory.user("clerk", archive=archive))
    assert client.get("/apply").status_code == 403


def test_an_id_number_for_the_other_person_that_is_the_applicants_own_is_refused(app, session, heir):
    response = post_apply(heir, heir_form(heir, subject_id_number=CITIZEN_ID), heir_files())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "这是您本人的身份证号码" in field_error(html, "subject_id_number")
    assert_nothing_but_drafts(app, session, drafts=2)


def test_a_record_about_someone_else_than_the_named_subject_is_refused(app, session, heir, factory, archive):
    stranger = factory.record(archive, subject_name="赵六", subject_id_number=make_id_number(born="19450101", seq=9))
    add_to_basket(heir, stranger, quiet="1")
    response = post_apply(heir, heir_form(heir), heir_files())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"档案 {stranger.reference_code} 的当事人与您填写的当事人不一致" in html
    assert_nothing_but_drafts(app, session, drafts=2)


def test_a_bad_file_under_a_proof_the_relation_does_not_show_is_named_in_the_summary(app, session, heir):
    """A stale page or a hand-made post: the field is not on the re-rendered page, so the summary says it."""
    files = {"death_proof": upload(fake_pdf_bytes(), "旧证明.pdf")}
    response = post_apply(heir, heir_form(heir, relation="self", subject_name=None, subject_id_number=None), files)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary" role="alert">(.*?)</div>', html, re.S).group(1)
    assert "“旧证明.pdf”已损坏或无法打开" in summary
    assert field_error(html, "death_proof") is None
