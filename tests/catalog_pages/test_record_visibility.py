"""Who sees a record page, and whether they see the personal data in it: viewer × access level."""
from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import select

from portal.audit.models import AuditLog
from portal.core.masking import mask_id_number
from tests.factories import PASSWORD, make_id_number
from tests.helpers import login

SUBJECT_NAME = "欧阳小五"
SUBJECT_ID = make_id_number(region="451202", born="19620815", seq=481)
MASKED_NAME = "欧**五"
TITLE = f"{SUBJECT_NAME}、陈美华结婚登记审查处理表"
MASKED_TITLE = f"{MASKED_NAME}、陈美华结婚登记审查处理表"

VIEWERS = ("anonymous", "subject", "unverified_subject", "verified_impostor", "other_citizen", "holding_clerk", "holding_reviewer", "other_clerk", "admin")
LEVELS = ("open", "restricted", "closed")

# Which viewer sees which level: None = 404 (looks like it does not exist), "masked", "full".
EXPECTED = {
    "anonymous":        {"open": "masked", "restricted": None, "closed": None},
    "subject":          {"open": "full", "restricted": "full", "closed": None},
    # Registered with the subject's name and ID number, not yet checked: a stranger until verified.
    "unverified_subject": {"open": "masked", "restricted": None, "closed": None},
    # Verified as someone else who has the subject's name: a name is not an identity.
    "verified_impostor": {"open": "masked", "restricted": None, "closed": None},
    "other_citizen":    {"open": "masked", "restricted": None, "closed": None},
    "holding_clerk":    {"open": "full", "restricted": "full", "closed": "full"},
    "holding_reviewer": {"open": "full", "restricted": "full", "closed": "full"},
    "other_clerk":      {"open": "masked", "restricted": None, "closed": None},
    "admin":            {"open": "full", "restricted": "full", "closed": "full"},
}
STAFF = {"holding_clerk", "holding_reviewer", "admin"}
MATRIX = [pytest.param(v, lvl, EXPECTED[v][lvl], id=f"{v}-{lvl}-{EXPECTED[v][lvl] or 404}")
          for v in VIEWERS for lvl in LEVELS]


@pytest.fixture
def holding(factory):
    return factory.archive(code="451200", name="河池市档案馆")


@pytest.fixture
def other_archive(factory):
    return factory.archive(code="450100", name="南宁市档案馆", region="南宁市")


def _url(record) -> str:
    return f"/records/{record.archive.code}/{record.reference_code}"


def _viewer(role: str, factory, holding, other_archive):
    """Create and return (email, user) for the viewer role; None for anonymous."""
    if role == "anonymous":
        return None
    if role == "subject":
        return factory.user(email="subject@example.cn", name=SUBJECT_NAME, id_number=SUBJECT_ID)
    if role == "unverified_subject":
        return factory.user(email="subject@example.cn", name=SUBJECT_NAME, id_number=SUBJECT_ID, verified=False)
    if role == "verified_impostor":
        return factory.user(email="namesake@example.cn", name=SUBJECT_NAME,
                            id_number=make_id_number(region="451202", born="19700101", seq=13))
    if role == "other_citizen":
        return factory.user(email="other@example.cn", name="李四",
                            id_number=make_id_number(region="451202", born="19700101", seq=12))
    if role == "holding_clerk":
        return factory.user("clerk", email="clerk@example.cn", name="王五", archive=holding)
    if role == "holding_reviewer":
        return factory.user("reviewer", email="reviewer@example.cn", name="赵六", archive=holding)
    if role == "other_clerk":
        return factory.user("clerk", email="clerk2@example.cn", name="孙七", archive=other_archive)
    if role == "admin":
        return factory.user("admin", email="admin@example.cn", name="周八")
    raise AssertionError(role)


def _audit_rows(session, action="view_personal_data"):
    session.expire_all()
    return session.scalars(select(AuditLog).where(AuditLog.action == action)).all()


@pytest.mark.parametrize(("viewer_role", "level", "expected"), MATRIX)
def test_record_page_visibility_matrix(client, session, factory, holding, other_archive, viewer_role, level,
                                       expected):
    record = factory.record(holding, access_level=level, subject_name=SUBJECT_NAME, subject_id_number=SUBJECT_ID,
                            title=TITLE, summary=f"男方{SUBJECT_NAME}，女方陈美华，1985 年登记。")
    viewer = _viewer(viewer_role, factory, holding, other_archive)
    if viewer is not None:
        assert login(client, viewer.email, PASSWORD).status_code == 302
    audit_before = len(_audit_rows(session))

    response = client.get(_url(record))
    page = html_lib.unescape(response.get_data(as_text=True))

    if expected is None:
        assert response.status_code == 404
        assert "页面不存在，或者您无权查看。" in page
        # The header greets a logged-in subject by name; the rest of the page must say nothing.
        outside_header = re.sub(r"<header.*?</header>", "", page, flags=re.S)
        for leak in (SUBJECT_NAME, MASKED_NAME, SUBJECT_ID, "结婚登记审查处理表", record.reference_code):
            assert leak not in outside_header, f"a hidden record leaks {leak!r}"
    elif expected == "masked":
        assert response.status_code == 200
        # The header greets a viewer who has the subject's name by it; nothing else may show it.
        assert SUBJECT_NAME not in re.sub(r"<header.*?</header>", "", page, flags=re.S) and SUBJECT_ID not in page
        assert f"<title>{MASKED_TITLE} · " in page and f"<h1>{MASKED_TITLE}</h1>" in page
        assert f"<dd>{MASKED_NAME}</dd>" in page
        assert mask_id_number(SUBJECT_ID) not in page and "身份证号码" not in page
        assert f"男方{MASKED_NAME}" in page
        assert "工作人员的查看已记入审计日志" not in page
        # Public to anyone, but a signed-in page greets its reader by name: no copy is kept of that.
        assert ("no-store" in response.headers.get("Cache-Control", "")) == (viewer_role != "anonymous")
    else:
        assert response.status_code == 200
        assert f"<h1>{TITLE}</h1>" in page
        assert f"<dd>{SUBJECT_NAME}</dd>" in page
        # Only the person sees their ID number in full; staff browsing the catalog see it masked.
        shown_id = SUBJECT_ID if viewer_role == "subject" else mask_id_number(SUBJECT_ID)
        assert f"<dd>{shown_id}</dd>" in page and (viewer_role == "subject" or SUBJECT_ID not in page)
        assert "本页显示完整个人信息" in page
        assert response.headers["Cache-Control"] == "no-store"

    new_audit = _audit_rows(session)[audit_before:]
    if expected == "full" and viewer_role in STAFF:
        assert len(new_audit) == 1
        entry = new_audit[0]
        assert (entry.actor_id, entry.object_type, entry.object_id) == (viewer.id, "record", str(record.id))
        assert entry.details == {"archive": "451200", "reference_code": record.reference_code}
    else:
        assert new_audit == [], "only staff views of personal data are audited"


def test_unknown_record_and_unknown_archive_are_404(client, factory, holding):
    record = factory.record(holding)
    assert client.get(f"/records/{holding.code}/NO-SUCH-CODE").status_code == 404
    assert client.get(f"/records/999999/{record.reference_code}").status_code == 404


def test_record_of_one_archive_is_not_found_under_another_archives_code(client, factory, holding, other_archive):
    record = factory.record(holding)
    assert client.get(f"/records/{other_archive.code}/{record.reference_code}").status_code == 404


def test_reference_code_with_slashes_is_served(client, factory, holding):
    record = factory.record(holding, reference_code="J001/1985/永久/0007")
    response = client.get(_url(record))
    assert response.status_code == 200
    assert "J001/1985/永久/0007" in response.get_data(as_text=True)


def test_record_without_personal_data_is_not_audited_for_staff(client, session, factory, holding):
    record = factory.record(holding, subject_name="", title="河池县1985年婚姻登记汇总表")
    clerk = factory.user("clerk", email="clerk@example.cn", name="王五", archive=holding)
    login(client, clerk.email, PASSWORD)
    assert client.get(_url(record)).status_code == 200
    assert _audit_rows(session) == []


def test_each_staff_view_is_audited_again(client, session, factory, holding):
    record = factory.record(holding, subject_name=SUBJECT_NAME, subject_id_number=SUBJECT_ID)
    clerk = factory.user("clerk", email="clerk@example.cn", name="王五", archive=holding)
    login(client, clerk.email, PASSWORD)
    client.get(_url(record))
    client.get(_url(record))
    assert len(_audit_rows(session)) == 2


def test_subject_is_matched_by_id_number_not_by_name(client, factory, holding):
    record = factory.record(holding, access_level="restricted", subject_name=SUBJECT_NAME,
                            subject_id_number=SUBJECT_ID)
    namesake = factory.user(email="namesake@example.cn", name=SUBJECT_NAME,
                            id_number=make_id_number(region="451202", born="19620815", seq=482))
    login(client, namesake.email, PASSWORD)
    assert client.get(_url(record)).status_code == 404


def test_deactivated_subject_no_longer_sees_restricted_record(client, session, factory, holding):
    record = factory.record(holding, access_level="restricted", subject_name=SUBJECT_NAME,
                            subject_id_number=SUBJECT_ID)
    subject = factory.user(email="subject@example.cn", name=SUBJECT_NAME, id_number=SUBJECT_ID)
    login(client, subject.email, PASSWORD)
    assert client.get(_url(record)).status_code == 200
    subject.is_active_account = False
    session.commit()
    assert client.get(_url(record)).status_code == 404


def test_knowing_someones_id_number_is_not_enough_to_be_their_subject(client, factory, holding):
    record = factory.record(holding, access_level="restricted", subject_name=SUBJECT_NAME,
                            subject_id_number=SUBJECT_ID)
    impostor = factory.user(email="impostor@example.cn", name="李四", id_number=SUBJECT_ID)
    login(client, impostor.email, PASSWORD)
    assert client.get(_url(record)).status_code == 404


def test_subject_whose_record_spells_the_name_in_traditional_characters_is_recognised(client, factory, holding):
    record = factory.record(holding, access_level="restricted", subject_name="歐陽小五", subject_id_number=SUBJECT_ID)
    subject = factory.user(email="subject@example.cn", name=SUBJECT_NAME, id_number=SUBJECT_ID)
    login(client, subject.email, PASSWORD)
    assert client.get(_url(record)).status_code == 200
