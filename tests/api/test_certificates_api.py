"""Certificates over the JSON API: issuing through the request action `issue`, the certificate in a
request's answer, its PDF by the `url` given there, the public check by serial and code (a wrong code
answers exactly as an unknown serial; failures limited per address), and revocation by a reviewer of
the issuing archive."""
from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from portal.core.uploads import stored_path
from tests.api.test_review_api import Api
from tests.certificates.conftest import HOLDING, ISSUING, approved, archives, issued, people  # noqa: F401
from tests.request_pages.conftest import sign_in

REASON = "出证依据的档案有误，已重新核实"
CERTIFICATE_KEYS = {"serial", "code", "kind", "status", "issued_at", "sha256", "revoked_at", "revoke_reason", "url"}


@pytest.fixture
def api(client, people):
    return Api(client, people)


def check(client, serial: str, code: str, **kw):
    return client.get(f"/api/v1/certificates/{serial}", query_string={"code": code}, **kw)


def revoke(api, who, serial: str, body=None, **kw):
    if kw:
        return api.client.post(f"/api/v1/certificates/{serial}/revoke", headers=api.headers(who), **kw)
    return api.client.post(f"/api/v1/certificates/{serial}/revoke", headers=api.headers(who),
                           json=body if body is not None else {"reason": REASON})


def path_of(url: str) -> str:
    return urlsplit(url).path


# ---- issuing --------------------------------------------------------------------------------------

def test_the_reviewer_issues_and_gets_the_certificate(app, session, api, approved):
    req = approved()
    response = api.act("issuing_reviewer", req.number, "issue", {"version": req.version, "note": "已核对"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "issued" and body["number"] == req.number
    cert = body["certificate"]
    assert set(cert) == CERTIFICATE_KEYS
    session.expire_all()
    stored = req.certificate
    assert (cert["serial"], cert["code"], cert["sha256"]) == (stored.serial, stored.code, stored.sha256)
    assert (cert["status"], cert["kind"], cert["revoked_at"], cert["revoke_reason"]) == ("valid", "found", None, None)
    assert cert["serial"].startswith(f"ZM-{ISSUING}-")
    assert path_of(cert["url"]) == f"/api/v1/requests/{req.number}/certificate"
    data = stored_path(Path(app.config["CERTIFICATE_FOLDER"]), stored.stored_name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == cert["sha256"]


def test_a_clerk_may_not_issue(session, api, approved):
    req = approved()
    response = api.act("issuing_clerk", req.number, "issue", {"version": req.version})
    assert response.status_code == 403
    session.expire_all()
    assert req.status == "approved" and req.certificate is None


def test_issuing_twice_is_409_and_keeps_the_first_certificate(session, api, approved):
    req = approved()
    first = api.act("issuing_reviewer", req.number, "issue").get_json()["certificate"]
    response = api.act("issuing_reviewer2", req.number, "issue")
    assert response.status_code == 409
    assert response.get_json()["status"] == "issued"
    session.expire_all()
    assert req.certificate.serial == first["serial"]


def test_issuing_without_a_signing_key_is_503_and_the_request_stays_approved(app, session, api, approved, tmp_path):
    req = approved()
    app.config["SIGNING_KEYS_DIR"] = tmp_path
    response = api.act("issuing_reviewer", req.number, "issue")
    assert response.status_code == 503
    assert "portal keys init" in response.get_json()["error"]
    session.expire_all()
    assert req.status == "approved" and req.certificate is None


# ---- the certificate in the request's answer, and its PDF ---------------------------------------

def test_the_request_shows_no_certificate_before_it_is_issued(api, approved):
    req = approved()
    for who in ("applicant", "issuing_reviewer"):
        response = api.get(who, f"/api/v1/requests/{req.number}")
        assert response.status_code == 200
        assert response.get_json()["certificate"] is None


def test_the_applicant_and_staff_see_the_same_certificate(api, approved):
    req = approved()
    issued_now = api.act("issuing_reviewer", req.number, "issue").get_json()["certificate"]
    seen = [api.get(who, f"/api/v1/requests/{req.number}").get_json()["certificate"]
            for who in ("applicant", "issuing_clerk", "holding_clerk", "admin")]
    assert seen == [issued_now] * 4


def test_the_certificate_url_gives_the_applicant_the_same_pdf_as_the_web_download(client, api, issued):
    url = api.get("applicant", f"/api/v1/requests/{issued.number}").get_json()["certificate"]["url"]
    response = api.get("applicant", path_of(url))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{issued.certificate.serial}.pdf"'
    by_api = response.get_data()
    assert hashlib.sha256(by_api).hexdigest() == issued.certificate.sha256

    web = client.application.test_client()
    sign_in(web, issued.applicant)
    assert web.get(f"/requests/{issued.number}/certificate").get_data() == by_api


def test_another_citizen_cannot_fetch_the_pdf(api, issued):
    response = api.get("other_citizen", f"/api/v1/requests/{issued.number}/certificate")
    assert response.status_code == 404
    assert response.is_json and "error" in response.get_json()


def test_there_is_no_pdf_before_the_certificate_is_issued(api, approved):
    req = approved()
    assert api.get("applicant", f"/api/v1/requests/{req.number}/certificate").status_code == 404


def test_a_changed_stored_file_is_a_503_never_the_changed_bytes(app, api, issued):
    path = stored_path(Path(app.config["CERTIFICATE_FOLDER"]), issued.certificate.stored_name)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    response = api.get("applicant", f"/api/v1/requests/{issued.number}/certificate")
    assert response.status_code == 503
    assert response.is_json and response.get_json()["error"]


def test_the_pdf_needs_a_token(client, issued):
    assert client.get(f"/api/v1/requests/{issued.number}/certificate").status_code == 401


# ---- the public check -----------------------------------------------------------------------------

def test_the_public_check_needs_no_token(client, issued):
    cert = issued.certificate
    response = check(client, cert.serial, cert.code)
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is True and body["status"] == "valid" and body["kind"] == "found"
    assert body["serial"] == cert.serial and body["sha256"] == cert.sha256
    assert body["issuing_archive"] == ISSUING
    assert body["holding_archives"] == sorted([ISSUING, HOLDING])
    assert body["issued_at"] and body["revoked_at"] is None
    assert "王秀英" not in response.get_data(as_text=True)  # no personal data in the public answer


def test_the_public_check_takes_the_code_as_people_type_it(client, issued):
    cert = issued.certificate
    response = check(client, cert.serial, f"{cert.code[:4].lower()}-{cert.code[4:].lower()}")
    assert response.status_code == 200 and response.get_json()["valid"] is True


def test_a_wrong_code_and_an_unknown_serial_answer_identically(client, issued):
    cert = issued.certificate
    wrong = check(client, cert.serial, "ABCDEFGH" if cert.code != "ABCDEFGH" else "HGFEDCBA")
    unknown = check(client, f"{ISSUING}-1999-999999", cert.code)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_data() == unknown.get_data()
    assert set(wrong.get_json()) == {"error"}


def test_too_many_failed_checks_from_one_address_is_429(app, client, issued):
    app.config["MAX_CERTIFICATE_LOOKUP_FAILURES"] = 3
    cert = issued.certificate
    for n in range(3):
        assert check(client, cert.serial, f"WRONG{n:03d}").status_code == 404
    response = check(client, cert.serial, cert.code)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    assert "error" in response.get_json()
    assert check(client, cert.serial, cert.code, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 200


def test_the_web_page_and_the_api_count_failures_together(app, client, issued):
    app.config["MAX_CERTIFICATE_LOOKUP_FAILURES"] = 2
    cert = issued.certificate
    client.get("/verify", query_string={"serial": cert.serial, "code": "WRONG001"})
    check(client, cert.serial, "WRONG002")
    assert check(client, cert.serial, cert.code).status_code == 429


# ---- revoking ------------------------------------------------------------------------------------------

def test_the_issuing_reviewer_revokes_and_the_check_says_so(client, session, api, issued):
    cert = issued.certificate
    response = revoke(api, "issuing_reviewer", cert.serial)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "revoked" and body["revoke_reason"] == REASON and body["revoked_at"]
    assert body["serial"] == cert.serial

    public = check(client, cert.serial, cert.code).get_json()
    assert (public["valid"], public["status"]) == (False, "revoked")
    assert public["revoked_at"] == body["revoked_at"]
    seen = api.get("applicant", f"/api/v1/requests/{issued.number}").get_json()["certificate"]
    assert seen["status"] == "revoked" and seen["revoke_reason"] == REASON


def test_revoking_needs_a_reason(session, api, issued):
    for body in ({"reason": ""}, {"reason": "   "}, {}):
        response = revoke(api, "issuing_reviewer", issued.certificate.serial, body)
        assert response.status_code == 400
        assert response.get_json()["field"] == "reason"
    session.expire_all()
    assert issued.certificate.status == "valid"


def test_revoking_refuses_unknown_fields(api, issued):
    response = revoke(api, "issuing_reviewer", issued.certificate.serial, {"reason": REASON, "notify": False})
    assert response.status_code == 400 and response.get_json()["field"] == "notify"


@pytest.mark.parametrize("kw", [{"data": "reason=误发", "content_type": "text/plain"},
                                {"data": "{not json", "content_type": "application/json"},
                                {"data": '["reason"]', "content_type": "application/json"}])
def test_a_body_that_is_not_a_json_object_is_refused_not_a_500(session, api, issued, kw):
    response = revoke(api, "issuing_reviewer", issued.certificate.serial, **kw)
    assert response.status_code in (400, 415)
    assert response.is_json and response.get_json()["error"]
    session.expire_all()
    assert issued.certificate.status == "valid"


def test_a_clerk_may_not_revoke(session, api, issued):
    response = revoke(api, "issuing_clerk", issued.certificate.serial)
    assert response.status_code == 403
    session.expire_all()
    assert issued.certificate.status == "valid"


def test_a_clerk_is_refused_before_the_body_is_read(api, issued):
    """Policy first: whoever may not revoke gets 403 whatever they sent, not a lesson in the body's rules."""
    assert revoke(api, "issuing_clerk", issued.certificate.serial, body={"reason": ""}).status_code == 403
    assert revoke(api, "issuing_clerk", issued.certificate.serial, data=b"{not json",
                  content_type="application/json").status_code == 403


def test_holding_archive_staff_may_not_revoke(api, issued):
    assert revoke(api, "holding_reviewer", issued.certificate.serial).status_code == 403


def test_another_archives_reviewer_gets_404(session, api, issued):
    response = revoke(api, "unrelated_reviewer", issued.certificate.serial)
    assert response.status_code == 404
    assert revoke(api, "unrelated_reviewer", f"{ISSUING}-1999-999999").get_data() == response.get_data()
    session.expire_all()
    assert issued.certificate.status == "valid"


def test_revoking_twice_is_409(session, api, issued):
    """The second reviewer is told it is already revoked (409 with the certificate's status)."""
    assert revoke(api, "issuing_reviewer", issued.certificate.serial).status_code == 200
    response = revoke(api, "issuing_reviewer2", issued.certificate.serial, {"reason": "另一个原因"})
    assert response.status_code == 409
    assert response.get_json()["status"] == "revoked"
    session.expire_all()
    assert issued.certificate.revoke_reason == REASON


def test_revoking_needs_a_token(client, issued):
    response = client.post(f"/api/v1/certificates/{issued.certificate.serial}/revoke", json={"reason": REASON})
    assert response.status_code == 401


def test_revoking_also_takes_a_form_body_like_the_other_actions(session, api, issued):
    response = revoke(api, "issuing_reviewer", issued.certificate.serial, data={"reason": REASON})
    assert response.status_code == 200 and response.get_json()["status"] == "revoked"
    session.expire_all()
    assert issued.certificate.revoke_reason == REASON
