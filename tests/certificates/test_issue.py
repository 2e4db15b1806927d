"""Issuing a certificate from an approved request: serials sequential per archive and year and
never skipped, a verification code, a signed PDF stored once with its SHA-256, the request issued
and the applicant told; refusals leave nothing behind."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.actions import ACTIONS, act
from portal.actions import table
from portal.certificates import service as certificates
from portal.certificates import signing
from portal.certificates.models import Certificate
from portal.core.errors import Conflict, NotAllowed
from portal.core.sequences import NumberSequence
from portal.mail.models import MailOutbox
from portal.core import clock
from portal.requests.models import RequestEvent
from portal.core.uploads import stored_path
from tests.certificates.conftest import HOLDING, ISSUING

YEAR = clock.china_today().year


def stored_bytes(app, certificate: Certificate) -> bytes:
    return stored_path(Path(app.config["CERTIFICATE_FOLDER"]), certificate.stored_name).read_bytes()


def certificate_files(app) -> list[Path]:
    folder = Path(app.config["CERTIFICATE_FOLDER"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def text_of(data: bytes) -> str:
    """The text of every page without whitespace: table cells wrap long titles onto two lines."""
    return "".join("".join(page.extract_text().split()) for page in PdfReader(BytesIO(data)).pages)


def counter(session) -> int | None:
    session.expire_all()
    return session.scalar(select(NumberSequence.last_value).where(NumberSequence.scope == f"certificate:{ISSUING}"))


def test_issuing_stores_a_signed_pdf_and_moves_the_request_to_issued(app, session, people, issued):
    cert = issued.certificate
    assert issued.status == "issued"
    assert cert.serial == f"ZM-{ISSUING}-{YEAR}-000001"
    assert re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}", cert.code)
    assert (cert.kind, cert.status, cert.issued_by_id) == ("found", "valid", people["issuing_reviewer"].id)
    data = stored_bytes(app, cert)
    assert hashlib.sha256(data).hexdigest() == cert.sha256 and len(data) == cert.size
    assert cert.holding_archive_codes == sorted([ISSUING, HOLDING])
    check = signing.check(data, signing.trust_roots(Path(app.config["SIGNING_KEYS_DIR"])))
    assert (check.signed, check.intact, check.trusted, check.signer) == (True, True, True, "河池市档案馆")
    text = text_of(data)
    for expected in (cert.serial, cert.code, "档案查询结果证明", "王秀英", "职工养老保险缴费记录", "结婚登记审查处理表",
                     "南宁市档案馆"):
        assert expected in text
    assert len(PdfReader(BytesIO(data)).pages) >= 3  # the certificate, then both certified copies


def test_the_full_id_number_is_not_on_the_certificate(app, session, issued):
    from portal.requests.service import subject_id_number

    text = text_of(stored_bytes(app, issued.certificate))
    full = subject_id_number(issued)
    assert full not in text
    assert full[:6] + "********" + full[-4:] in text


def test_the_timeline_and_the_applicant_hear_of_it(session, people, issued):
    event = session.scalar(select(RequestEvent).where(RequestEvent.request_id == issued.id)
                           .order_by(RequestEvent.id.desc()).limit(1))
    assert (event.action, event.to_status, event.actor_id) == ("issue", "issued", people["issuing_reviewer"].id)
    mail = session.scalar(select(MailOutbox).order_by(MailOutbox.id.desc()).limit(1))
    assert mail.to_address == "wang@example.cn" and issued.number in mail.subject


def test_serials_follow_each_other_per_archive(session, people, approved):
    first, second = approved(), approved()
    act(session, first, "issue", people["issuing_reviewer"])
    act(session, second, "issue", people["issuing_reviewer2"])
    assert [first.certificate.serial, second.certificate.serial] == [f"ZM-{ISSUING}-{YEAR}-000001",
                                                                     f"ZM-{ISSUING}-{YEAR}-000002"]


def test_a_no_record_certificate_says_what_was_searched(app, session, people, not_found_request):
    cert = act(session, not_found_request, "issue", people["issuing_reviewer"]).result
    assert cert.kind == "not_found"
    text = text_of(stored_bytes(app, cert))
    for expected in ("查无档案记录证明", "王秀英", "南宁市档案馆", "柳州市档案馆", "已查1980—1990年婚姻登记档案，未找到",
                     "婚姻登记", "1980"):
        assert expected in text, expected
    assert len(PdfReader(BytesIO(stored_bytes(app, cert))).pages) >= 1


@pytest.mark.parametrize("who", ["issuing_clerk", "holding_reviewer", "unrelated_reviewer", "applicant"])
def test_only_a_reviewer_of_the_issuing_archive_issues(app, session, people, approved, who):
    request = approved()
    with pytest.raises(NotAllowed):
        act(session, request, "issue", people[who])
    assert request.status == "approved" and request.certificate is None
    assert counter(session) is None and certificate_files(app) == []


def test_issuing_twice_is_a_conflict_and_uses_no_number(app, session, people, issued):
    with pytest.raises(Conflict):
        act(session, issued, "issue", people["issuing_reviewer2"])
    assert counter(session) == 1 and len(certificate_files(app)) == 1


def test_a_stale_version_is_a_conflict(app, session, people, approved):
    request = approved()
    with pytest.raises(Conflict):
        act(session, request, "issue", people["issuing_reviewer"], {"version": request.version - 1})
    assert counter(session) is None and certificate_files(app) == []


def test_without_a_signing_key_nothing_is_issued(app, session, people, approved, tmp_path):
    request = approved()
    app.config["SIGNING_KEYS_DIR"] = tmp_path / "no-keys"
    with pytest.raises(certificates.CertificateUnavailable) as info:
        act(session, request, "issue", people["issuing_reviewer"])
    assert "portal keys init" in str(info.value)
    session.refresh(request)
    assert request.status == "approved" and counter(session) is None and certificate_files(app) == []


def test_a_failure_after_the_file_is_written_removes_it_and_gives_the_number_back(app, session, people, approved,
                                                                                  monkeypatch):
    request = approved()

    def refuse(_acting):  # after the certificate's step has written the file and drawn the number
        raise Conflict("someone else acted")

    issue = ACTIONS[("request", "issue")]
    monkeypatch.setitem(table.ACTIONS, ("request", "issue"), dataclasses.replace(issue, steps=(*issue.steps, refuse)))
    with pytest.raises(Conflict):
        act(session, request, "issue", people["issuing_reviewer"])
    assert counter(session) is None and certificate_files(app) == []
    assert session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_the_archives_seal_image_is_used(app, session, archives, people, approved):
    from tests.files import png_bytes

    archives["issuing"].seal_png = png_bytes()
    session.commit()
    request = approved()
    cert = act(session, request, "issue", people["issuing_reviewer"]).result
    assert "演示印章" not in text_of(stored_bytes(app, cert))


def test_an_unreadable_signing_key_is_a_clear_refusal(app, session, people, approved, tmp_path):
    import shutil

    request = approved()
    keys = tmp_path / "keys"
    shutil.copytree(app.config["SIGNING_KEYS_DIR"], keys)
    (keys / f"{ISSUING}.key.pem").write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    app.config["SIGNING_KEYS_DIR"] = keys
    with pytest.raises(certificates.CertificateUnavailable) as info:
        act(session, request, "issue", people["issuing_reviewer"])
    assert "无法读取" in str(info.value)
    session.refresh(request)
    assert request.status == "approved" and counter(session) is None and certificate_files(app) == []


def test_a_lost_certified_copy_is_a_clear_refusal(app, session, people, approved):
    request = approved()
    copy = next(t.copy_file for t in request.tasks if t.copy_file is not None)
    stored_path(Path(app.config["UPLOAD_FOLDER"]), copy.stored_name).unlink()
    with pytest.raises(certificates.CertificateUnavailable) as info:
        act(session, request, "issue", people["issuing_reviewer"])
    assert "复制件文件缺失" in str(info.value)
    session.refresh(request)
    assert request.status == "approved" and counter(session) is None and certificate_files(app) == []


@pytest.mark.parametrize("typed", ["{code}", "{lower}", " {a}-{b} ", "{fullwidth}"])
def test_a_code_is_found_however_it_is_typed(session, issued, typed):
    code = issued.certificate.code
    fullwidth = "".join(chr(ord(ch) + 0xFEE0) for ch in code)  # what a Chinese input method types
    text = typed.format(code=code, lower=code.lower(), a=code[:4], b=code[4:], fullwidth=fullwidth)
    assert certificates.lookup(session, issued.certificate.serial, text) == issued.certificate


@pytest.mark.parametrize("wrong", ["ABCDEFGH", "中文验证码", "😀😀😀😀", "é" * 8, ""])
def test_a_wrong_code_of_any_kind_is_just_not_found(session, issued, wrong):
    assert certificates.lookup(session, issued.certificate.serial, wrong) is None


@pytest.mark.parametrize("public_url", ["http://127.0.0.1:5000", "http://localhost:8000", "http://[::1]:5000",
                                        "http://0.0.0.0:5000"])
def test_outside_development_no_certificate_links_to_this_machine(app, session, people, approved, public_url):
    request = approved()
    app.config.update(TESTING=False, DEV=False, DEBUG=False, PUBLIC_URL=public_url)
    with pytest.raises(certificates.CertificateUnavailable) as info:
        act(session, request, "issue", people["issuing_reviewer"])
    assert "PORTAL_PUBLIC_URL" in str(info.value) and public_url in str(info.value)
    session.refresh(request)
    assert request.status == "approved" and counter(session) is None and certificate_files(app) == []


@pytest.mark.parametrize("mode", [{"DEV": True}, {"DEBUG": True}, {"TESTING": True}])
def test_in_development_a_local_link_is_allowed(app, session, people, approved, mode):
    request = approved()
    app.config.update({"TESTING": False, "DEV": False, "DEBUG": False, "PUBLIC_URL": "http://127.0.0.1:5123", **mode})
    act(session, request, "issue", people["issuing_reviewer"])
    assert "http://127.0.0.1:5123/verify" in text_of(stored_bytes(app, request.certificate))


def test_a_public_address_is_issued_outside_development(app, session, people, approved):
    request = approved()
    app.config.update(TESTING=False, DEV=False, DEBUG=False, PUBLIC_URL="https://dangan.example.gov.cn")
    act(session, request, "issue", people["issuing_reviewer"])
    assert request.status == "issued"


def test_the_certificate_states_the_verified_facts_and_prints_a_note_only_if_asked(app, session, factory, archives,
                                                                                 people):
    from io import BytesIO as Bytes

    from portal.certificates.document import chinese_date
    from portal.requests import service as requests_service
    from tests.files import pdf_bytes

    applicant = people["applicant"]
    records = [factory.record(archives["issuing"], subject_name=applicant.real_name, title="职工养老保险缴费记录"),
               factory.record(archives["holding"], subject_name=applicant.real_name, title="结婚登记审查处理表")]
    request = factory.request(applicant, issuing=archives["issuing"], records=records, status="in_review")
    notes = {archives["issuing"].code: ("本馆内部：卷皮破损", False), archives["holding"].code: ("另附更正通知一份", True)}
    for task in request.tasks:
        note, printed = notes[task.holding_archive.code]
        act(session, task, "verify", factory.staff(task.holding_archive, "clerk"),
            {"note": note, "print_note": printed,
             "copy": requests_service.Upload("certified_copy", "核实件.pdf", Bytes(pdf_bytes()))})
        assert task.print_note is printed
    act(session, request, "approve", people["issuing_reviewer"])
    act(session, request, "issue", people["issuing_reviewer"])
    text = text_of(stored_bytes(app, request.certificate))
    today = chinese_date(clock.china_today())
    for record in records:
        assert f"{record.archive.name}于{today}核实档号{record.reference_code}《{record.title}》：已找到" in text
    assert "说明：另附更正通知一份" in text and "卷皮破损" not in text


def test_ticking_print_without_a_note_is_refused(session, factory, archives, people):
    from portal.core.errors import ValidationFailed

    request = factory.request(people["applicant"], issuing=archives["issuing"], status="in_review")
    task = request.tasks[0]
    with pytest.raises(ValidationFailed) as info:
        act(session, task, "verify", factory.staff(task.holding_archive, "clerk"), {"print_note": True})
    assert "note" in info.value.errors


@pytest.mark.parametrize(("typed", "shape"), [
    ("ZM-450100-2026-000001", "certificate"), ("zm-450100-2026-000001", "certificate"),
    ("ＺＭ－４５０１００－２０２６－０００００１", "certificate"),
    ("450100-2026-000123", "request"), (" 450100-2026-000123 ", "request"),
    ("", "unknown"), ("证明123", "unknown"), ("450100-26-1", "unknown")])
def test_what_a_typed_number_looks_like_is_read_from_its_characters(typed, shape):
    assert certificates.number_shape(typed) == shape


def test_a_serial_from_before_zm_is_still_found(session, issued):
    cert = issued.certificate
    cert.serial = f"{ISSUING}-{YEAR}-000001"  # as serials were issued before
    session.commit()
    assert certificates.lookup(session, cert.serial, cert.code) == cert
