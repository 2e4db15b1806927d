"""“我的档案” and the request basket: who may see the page, which records it lists and how
fully, and adding records to the basket (once each, at most 20)."""
from __future__ import annotations

import re

from tests.factories import make_id_number
from tests.helpers import csrf_token, texts
from tests.request_pages.conftest import CITIZEN_ID, CITIZEN_NAME, add_to_basket, sign_in

OPEN_TITLE = f"{CITIZEN_NAME}、陈建国结婚登记审查处理表"
RESTRICTED_TITLE = f"{CITIZEN_NAME}最低生活保障审批表"
CLOSED_TITLE = f"{CITIZEN_NAME}征地拆迁补偿协议"
OTHERS_TITLE = "李桂兰社会保险缴费登记表"


def _basket_rows(html: str) -> list[str]:
    section = html.split('id="basket-h"', 1)[1].split("</section>", 1)[0]
    return re.findall(r"档号 ([^<\s]+)", section)


def test_anonymous_visitors_are_sent_to_login(client, archive):
    response = client.get("/me/records")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_staff_may_not_open_my_records(client, factory, archive):
    clerk = factory.user("clerk", archive=archive)
    sign_in(client, clerk)
    assert client.get("/me/records").status_code == 403


def test_a_citizen_sees_own_open_and_restricted_records_in_full_but_not_closed_or_others(
        signed_in, factory, archive, other_archive):
    factory.record(archive, title=OPEN_TITLE, subject_name=CITIZEN_NAME, subject_id_number=CITIZEN_ID,
                   reference_code="J001-1985-0001")
    factory.record(other_archive, title=RESTRICTED_TITLE, subject_name=CITIZEN_NAME, subject_id_number=CITIZEN_ID,
                   access_level="restricted", category="subsistence", reference_code="J009-2003-0007")
    factory.record(archive, title=CLOSED_TITLE, subject_name=CITIZEN_NAME, subject_id_number=CITIZEN_ID,
                   access_level="closed", category="land_acquisition", reference_code="J004-1998-0003")
    factory.record(archive, title=OTHERS_TITLE, subject_name="李桂兰", category="social_insurance",
                   subject_id_number=make_id_number(born="19600101", seq=77), reference_code="J002-1990-0002")

    response = signed_in.get("/me/records")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert OPEN_TITLE in html and RESTRICTED_TITLE in html
    assert "王*英" not in html  # their own name is never masked to them
    assert "J009-2003-0007" in html and "南宁市档案馆" in html
    assert CLOSED_TITLE not in html and "J004-1998-0003" not in html
    assert OTHERS_TITLE not in html and "J002-1990-0002" not in html
    assert texts(html, "button").count("加入申请清单") == 2  # the open and the restricted record


def test_without_records_the_page_offers_a_search_by_the_archive(signed_in, archive):
    html = signed_in.get("/me/records").get_data(as_text=True)
    assert "没有找到与您身份信息一致的已登记档案" in html
    assert 'href="/apply?kind=search"' in html


def test_adding_to_the_basket_twice_keeps_one_entry(signed_in, factory, archive):
    record = factory.record(archive, title=OPEN_TITLE, subject_name=CITIZEN_NAME, subject_id_number=CITIZEN_ID)

    first = add_to_basket(signed_in, record, next="/me/records")
    assert first.status_code == 302 and first.headers["Location"] == "/me/records"
    page = signed_in.get("/me/records").get_data(as_text=True)
    assert "已加入申请清单。" in page  # the flash
    assert '<span class="badge badge-ok">已加入申请清单</span>' in page  # the button became a badge

    add_to_basket(signed_in, record)
    html = signed_in.get("/apply").get_data(as_text=True)
    assert _basket_rows(html) == [record.reference_code]


def test_the_htmx_variant_answers_with_the_small_partial(signed_in, factory, archive):
    record = factory.record(archive, title=OPEN_TITLE, subject_name=CITIZEN_NAME, subject_id_number=CITIZEN_ID)
    response = add_to_basket(signed_in, record, quiet="1", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已加入申请清单" in html
    assert "<html" not in html and "<form" not in html
    assert _basket_rows(signed_in.get("/apply").get_data(as_text=True)) == [record.reference_code]


def test_the_basket_holds_at_most_20_records(signed_in, factory, archive):
    records = [factory.record(archive, subject_name=CITIZEN_NAME, subject_id_number=CITIZEN_ID,
                              reference_code=f"J001-1985-{i:04d}") for i in range(21)]
    token = csrf_token(signed_in, "/me/records")
    for record in records:
        response = signed_in.post("/basket/add", data={"csrf_token": token, "archive_code": archive.code,
                                                        "reference_code": record.reference_code, "quiet": "1"})
        assert response.status_code == 302
    html = signed_in.get("/apply").get_data(as_text=True)
    assert "申请清单已满（最多 20 条），请先提交申请。" in html
    rows = _basket_rows(html)
    assert len(rows) == 20 and records[-1].reference_code not in rows

    # The full basket refuses the htmx way too: the button stays a button and says why, right
    # there, not in a flash message left for some later page.
    response = signed_in.post("/basket/add", headers={"HX-Request": "true"},
                              data={"csrf_token": token, "archive_code": archive.code,
                                    "reference_code": records[-1].reference_code, "quiet": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已加入申请清单" not in html and "<form" in html
    assert '<span class="error" role="alert">申请清单已满（最多 20 条），请先提交申请。</span>' in html
    assert "申请清单已满" not in signed_in.get("/me/records").get_data(as_text=True)


def test_removing_from_the_basket(signed_in, factory, archive):
    keep, drop = (factory.record(archive, subject_name=CITIZEN_NAME, subject_id_number=CITIZEN_ID) for _ in range(2))
    add_to_basket(signed_in, keep)
    add_to_basket(signed_in, drop)
    response = signed_in.post("/basket/remove", data={"csrf_token": csrf_token(signed_in, "/apply"),
                                                       "archive_code": archive.code,
                                                       "reference_code": drop.reference_code})
    assert response.status_code == 302
    assert _basket_rows(signed_in.get("/apply").get_data(as_text=True)) == [keep.reference_code]
