"""GET /api/v1/search: open records only, masked, validated parameters, JSON errors."""
from __future__ import annotations

import pytest

from portal.catalog.indexing import get_index, sync_outbox
from portal.db import db
from tests.factories import make_id_number


@pytest.fixture
def catalog(factory):
    hechi = factory.archive()
    yizhou = factory.archive(code="451203", name="河池市宜州区档案馆")
    records = {
        "open": factory.record(hechi, subject_name="韦秀英", title="结婚登记审查处理表", year=1985,
                               subject_id_number=make_id_number(seq=7)),
        "open_land": factory.record(yizhou, subject_name="蓝光明", title="土地承包经营权证登记簿",
                                    category="land_contract", year=1998),
        "restricted": factory.record(hechi, subject_name="韦秀英", title="最低生活保障审批表",
                                     category="subsistence", access_level="restricted", year=2005),
        "closed": factory.record(hechi, subject_name="韦秀英", title="征地拆迁补偿安置协议书",
                                 category="land_acquisition", access_level="closed", year=2010),
    }
    sync_outbox(db.session, get_index())
    return records


def test_full_name_finds_open_records_but_answers_masked(client, catalog):
    body = client.get("/api/v1/search?q=韦秀英").get_json()
    assert body["total"] == 1
    hit = body["hits"][0]
    assert hit["subject_name"] == "韦*英"
    assert hit["reference_code"] == catalog["open"].reference_code
    assert hit["archive_code"] == "451200" and hit["category_label"] == "婚姻登记" and hit["year"] == 1985
    assert hit["url"].endswith(f"/records/451200/{catalog['open'].reference_code}")
    assert "韦秀英" not in client.get("/api/v1/search?q=韦秀英").get_data(as_text=True)


def test_restricted_and_closed_records_never_surface_even_in_counts(client, catalog):
    body = client.get("/api/v1/search?q=审批表").get_json()
    assert body["total"] == 0
    body = client.get("/api/v1/search?archive=451200").get_json()
    assert body["total"] == 1
    assert body["facets"]["category"] == {"marriage": 1}


def test_filters_and_facets(client, catalog):
    body = client.get("/api/v1/search?category=land_contract").get_json()
    assert [h["reference_code"] for h in body["hits"]] == [catalog["open_land"].reference_code]
    body = client.get("/api/v1/search?year_from=1990&year_to=2000").get_json()
    assert body["total"] == 1 and body["hits"][0]["year"] == 1998
    body = client.get("/api/v1/search?q=登记").get_json()
    assert body["facets"]["archive"] == {"451200": 1, "451203": 1}
    assert body["backend"] == "embedded" and isinstance(body["took_ms"], int)


@pytest.mark.parametrize("query, field", [
    ("category=unknown", "category"),
    ("year_from=2000&year_to=1990", "year_from"),
    ("page=0", "page"),
    ("per_page=101", "per_page"),
    ("per_page=abc", "per_page"),
    ("q=" + "档" * 201, "q"),
    ("year_from=99999", "year_from"),
])
def test_bad_parameters_get_400_with_a_reason(client, catalog, query, field):
    response = client.get(f"/api/v1/search?{query}")
    assert response.status_code == 400
    assert response.get_json()["field"] == field and response.get_json()["error"]


def test_paging(client, factory):
    archive = factory.archive()
    for i in range(7):
        factory.record(archive, title=f"学生学籍卡 第{i}号", category="education", subject_name="黄小明")
    sync_outbox(db.session, get_index())
    first = client.get("/api/v1/search?q=学籍&per_page=5").get_json()
    second = client.get("/api/v1/search?q=学籍&per_page=5&page=2").get_json()
    assert first["total"] == second["total"] == 7
    assert len(first["hits"]) == 5 and len(second["hits"]) == 2
    assert not {h["reference_code"] for h in first["hits"]} & {h["reference_code"] for h in second["hits"]}


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and "error" in response.get_json()
