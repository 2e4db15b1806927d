"""Applying (利用申请): checking what a citizen asks for, their proofs and uploads, and creating
the request with its number and promised date, once, however often the form is sent."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.archives.models import Archive
from portal.accounts.models import lock_account
from portal.policy import audience_for, can_see, may_apply, may_apply_at_counter
from portal.catalog.models import Record
from portal.catalog.service import find_records
from portal.core.categories import CATEGORIES
from portal.core.errors import ValidationFailed
from portal.core.idnumber import InvalidIdNumber, normalize_id_number
from portal.core.masking import mask_name, same_name
from portal.core.personal_data import cipher
from portal.core.sequences import next_value
from portal.core.clock import utcnow
from portal.core import workdays
from portal.core import clock
from portal.federation.records import mirror_records
from portal.requests import drafts
from portal.requests.notifications import notify_applicant
from portal.requests.timeline import record_event
from portal.requests.models import holding_archives
from portal.requests.labels import FILE_LABELS
from portal.requests.models import (DELIVERIES, OPEN_STATUSES, PURPOSES, RELATIONS, RequestFile, RequestRecord,
                                    RequestSearchArchive, UtilizationRequest)
from portal.core.uploads import MAX_FILES, CheckedUpload, UploadRejected, check_upload, store_with

MAX_RECORDS = 20
MAX_SEARCH_ARCHIVES = 50  # archives one "please search for me" may name, or a clerk may choose
# Which proofs each relation needs (see required_proofs for the applicant's own ID card).
REQUIRED_PROOFS: dict[str, tuple[str, ...]] = {
    "self": (),
    "relative": ("relationship_proof",),
    "heir": ("death_proof", "relationship_proof"),
    "agent": ("power_of_attorney", "principal_id"),
    "lawyer": ("practice_certificate", "firm_letter"),
    "institution": ("official_letter",),
}


@dataclass
class SearchSpec:
    """"Please search for me": what to look for and where."""
    category: str = ""
    year_from: int | str | None = None
    year_to: int | str | None = None
    place: str = ""
    archives: list[str] = field(default_factory=list)


@dataclass
class Application:
    relation: str = ""
    subject_name: str = ""  # another person's; empty when the relation is "self"
    subject_id_number: str = ""
    records: list[tuple[str, str]] = field(default_factory=list)  # (archive code, reference code)
    record_nodes: dict[tuple[str, str], str] = field(default_factory=dict)  # a peer's record: its node, if known
    search: SearchSpec | None = None
    purpose: str = ""
    purpose_note: str = ""
    issuing_archive: str = ""
    delivery: str = ""
    address: str = ""
    consent: bool = False


@dataclass(frozen=True)
class Upload:
    kind: str
    filename: str
    stream: IO[bytes]


class ApplicationInvalid(ValidationFailed):
    """What is wrong, per field; `kept` are the files that were fine, stored as drafts so the
    corrected form does not ask for them again."""

    def __init__(self, errors: dict, kept: list[RequestFile] | None = None):
        super().__init__(errors)
        self.kept = kept or []



def draft_files(session: Session, owner, ids) -> list[RequestFile]:
    ids = [i for i in ids if i]
    if not ids:
        return []
    return list(session.scalars(select(RequestFile).where(
        RequestFile.public_id.in_(ids), RequestFile.owner_id == owner.id, RequestFile.request_id.is_(None)
    ).order_by(RequestFile.id)))



def required_proofs(relation: str | None, applicant) -> tuple[str, ...]:
    """The proofs a request needs: the relation's, and, while the applicant's identity is unverified
    (self-asserted at registration), a copy of their own ID card, which the clerk checks when
    accepting (accepting verifies the account: the `accept` step)."""
    kinds = REQUIRED_PROOFS.get(relation or "", ())
    return kinds if applicant is None or applicant.is_verified else ("applicant_id", *kinds)


# ---- applying -----------------------------------------------------------------------------------

def submit(session: Session, applicant, application: Application, uploads: list[Upload] = (), *,
           idempotency_key: str | None = None, kept_file_ids=(), keep_drafts: bool = False, channel: str = "web",
           registered_by=None) -> tuple[UtilizationRequest, bool]:
    """Create the request and commit; returns (request, created). The same idempotency key
    returns the request it created before, so retries and double clicks make one request.
    Raises ApplicationInvalid with every problem at once. `registered_by`: the clerk who registered
    a walk-in at the counter (channel "counter"): the timeline's first step is theirs."""
    key = (idempotency_key or "").strip()[:80] or None
    if key and (existing := _by_key(session, applicant, key)):
        return existing, False
    if (refused := refusal(applicant, channel)) is not None:
        raise ApplicationInvalid({"form": refused})

    errors: dict[str, str] = {}
    values = _check_fields(session, applicant, application, errors)
    kept = draft_files(session, applicant, kept_file_ids)
    checked = check_uploads(uploads, errors)
    if len(kept) + len(checked) > MAX_FILES:
        errors["files"] = _l("每份申请最多上传 %(n)d 个文件", n=MAX_FILES)
    present_kinds = {f.kind for f in kept} | {kind for kind, _ in checked}
    for kind in required_proofs(application.relation, applicant):
        if kind not in present_kinds and kind not in errors:
            errors[kind] = _l("请上传%(proof)s", proof=_l(FILE_LABELS[kind]))
    lock_account(session, applicant)  # counted and used by one submission at a time (until commit)
    open_count = session.scalar(select(func.count()).select_from(UtilizationRequest).where(
        UtilizationRequest.applicant_id == applicant.id, UtilizationRequest.status.in_(OPEN_STATUSES)))
    if open_count >= current_app.config["MAX_OPEN_REQUESTS"]:
        errors["form"] = _l("您已有 %(n)d 份正在办理的申请，请等其中一些办结或撤回后再提交",
                            n=open_count)
    if errors:
        if keep_drafts and checked and len(kept) + len(checked) <= MAX_FILES:
            kept += _save_drafts(session, applicant, checked, errors)  # commits
        else:
            session.rollback()  # releases the account's lock
        raise ApplicationInvalid(errors, kept)

    folder = current_app.config["UPLOAD_FOLDER"]
    try:
        request = _create(session, applicant, values, key)
        request.channel = channel
        for draft in kept:
            draft.request = request
        for kind, upload in checked:
            session.add(file_row(applicant, kind, upload, store_with(session, upload.data, folder), request=request))
        session.flush()
        notify_applicant(session, request, record_event(session, request, "submit", registered_by or applicant,
                                                        "clerk" if registered_by else "applicant", None))
        _purge_old_drafts(session, applicant)
        session.commit()
    except IntegrityError:
        # The same idempotency key committed first in a concurrent request: answer with that one
        # (this one's files go with the rollback, see store_with).
        session.rollback()
        if key and (existing := _by_key(session, applicant, key)):
            return existing, False
        raise
    except BaseException:
        session.rollback()
        raise
    return request, True


def _by_key(session: Session, applicant, key: str) -> UtilizationRequest | None:
    return session.scalar(select(UtilizationRequest).where(
        UtilizationRequest.applicant_id == applicant.id, UtilizationRequest.idempotency_key == key))


def _check_fields(session: Session, applicant, app: Application, errors: dict) -> dict:
    """Validated values for a new request; problems go into `errors`, keyed by form field."""
    values: dict = {}
    relation = app.relation if app.relation in RELATIONS else None
    if relation is None:
        errors["relation"] = _l("请选择您与档案当事人的关系")
    if relation == "self" or relation is None:
        values["subject_name"], subject_hash = applicant.real_name, applicant.id_number_hash
        values["subject_id_enc"] = applicant.id_number_enc
    else:
        name = (app.subject_name or "").strip()
        subject_hash = None
        if not name:
            errors["subject_name"] = _l("请填写档案当事人的姓名")
        elif len(name) > 50:
            errors["subject_name"] = _l("姓名不能超过 50 个字")
        try:
            number = normalize_id_number(app.subject_id_number or "")
        except InvalidIdNumber as exc:
            errors["subject_id_number"] = exc.args[0]
        else:
            subject_hash = cipher().lookup_hash(number)
            if subject_hash == applicant.id_number_hash:
                errors["subject_id_number"] = _l("这是您本人的身份证号码；为本人申请请选择“本人”")
            values["subject_id_enc"] = cipher().encrypt(number)
        values["subject_name"] = name
    values["subject_id_hash"] = subject_hash

    if app.purpose not in PURPOSES:
        errors["purpose"] = _l("请选择利用目的")
    note = (app.purpose_note or "").strip()
    if app.purpose == "other" and not note:
        errors["purpose_note"] = _l("请说明利用目的")
    elif len(note) > 200:
        errors["purpose_note"] = _l("不能超过 200 字")
    values.update(relation=relation, purpose=app.purpose, purpose_note=note)

    values["issuing_archive"] = session.scalar(select(Archive).where(Archive.code == (app.issuing_archive or ""),
                                                                      Archive.node.is_(None)))  # this node's own
    if values["issuing_archive"] is None:
        errors["issuing_archive"] = _l("请选择出证档案馆")
    if app.delivery not in DELIVERIES:
        errors["delivery"] = _l("请选择领取方式")
    address = (app.address or "").strip()
    if app.delivery == "post" and not address:
        errors["address"] = _l("邮寄需要填写收件地址")
    elif len(address) > 200:
        errors["address"] = _l("地址不能超过 200 字")
    values.update(delivery=app.delivery, address=address if app.delivery == "post" else "")
    if app.consent is not True:
        errors["consent"] = _l("需要您同意处理申请中的个人信息，档案馆才能办理")

    if app.records and app.search is not None:
        errors["records"] = _l("请选择具体档案，或者请档案馆代为查找，二者选一")
    elif app.records:
        values["kind"], values["records"] = "records", _check_records(
            session, applicant, app.records, relation, values["subject_name"], errors, app.record_nodes)
    elif app.search is not None:
        values["kind"], values["search"] = "search", _check_search(session, app.search, errors)
    else:
        errors["records"] = _l("请先把要申请的档案加入申请清单，或者选择“请档案馆代为查找”")
    return values


def refusal(applicant, channel: str = "web"):
    """Why this account may not apply (portal.policy.may_apply, at the counter
    may_apply_at_counter), in words; None when it may."""
    if may_apply(applicant) or (channel == "counter" and may_apply_at_counter(applicant)):
        return None
    if applicant.role == "citizen" and applicant.id_number_hash and applicant.email_confirmed_at is None:
        return _l("请先打开确认邮件中的链接确认邮箱，再提交申请")
    return _l("利用申请需要用实名注册的个人账号提交")


def _check_records(session, applicant, wanted, relation, subject_name, errors, nodes=None) -> list[Record]:
    unique = list(dict.fromkeys((str(a).strip(), str(r).strip()) for a, r in wanted))
    if len(unique) > MAX_RECORDS:
        errors["records"] = _l("一份申请最多包含 %(n)d 条档案", n=MAX_RECORDS)
        return []
    found = find_records(session, unique)
    # Another node's records: their public facts, fetched from that node now (portal.federation.records).
    if remote := [key for key in unique if key not in found or found[key].archive.node is not None]:
        fetched = mirror_records(session, remote, nodes)
        found.update({key: fetched.get(key) for key in remote})
    records = []
    for code, reference in unique:
        record = found.get((code, reference))
        if record is None or not can_see(record, audience_for(applicant, record)):
            errors["records"] = _l("档案 %(ref)s 不存在，或者不能在网上申请", ref=f"{code}/{reference}")
            return []
        # The record must be about the person the request names, as far as the applicant can see:
        # its subject's masked name (王*英) against the named person's. Whether the hidden full name
        # and ID number match is for the clerk at acceptance (portal.review.service.subject_check):
        # answering it here would let anyone find a person's ID number by trying (issue 11).
        if (record.subject_name and subject_name and "subject_id_number" not in errors
                and not same_name(mask_name(subject_name), mask_name(record.subject_name))):
            errors["records"] = (_l("档案 %(ref)s 的当事人不是您本人；为他人申请请选择您与当事人的关系",
                                    ref=reference) if relation == "self" else
                                 _l("档案 %(ref)s 的当事人与您填写的当事人不一致", ref=reference))
            return []
        records.append(record)
    return records


def _year(value, field_name: str, errors: dict) -> int | None:
    if value in (None, ""):
        return None
    try:
        year = int(str(value).strip())
    except ValueError:
        year = -1
    if not 1900 <= year <= clock.china_today().year:
        errors[field_name] = _l("年份应在 1900 到 %(now)d 之间", now=clock.china_today().year)
        return None
    return year


def _check_search(session, spec: SearchSpec, errors: dict) -> dict:
    if spec.category not in CATEGORIES:
        errors["search_category"] = _l("请选择要查找的档案类别")
    year_from = _year(spec.year_from, "year_from", errors)
    year_to = _year(spec.year_to, "year_to", errors)
    if year_from and year_to and year_from > year_to:
        errors["year_to"] = _l("结束年份不能早于起始年份")
    place = (spec.place or "").strip()
    if len(place) > 200:
        errors["search_place"] = _l("地点不能超过 200 字")
    codes = list(dict.fromkeys(c for c in spec.archives if c))
    archives = list(session.scalars(select(Archive).where(Archive.code.in_(codes)))) if codes else []
    if len(archives) != len(codes):
        errors["search_archives"] = _l("请从列表中选择档案馆")
    return {"category": spec.category, "year_from": year_from, "year_to": year_to, "place": place,
            "archives": archives}


def check_uploads(uploads, errors: dict) -> list[tuple[str, CheckedUpload]]:
    checked = []
    for upload in uploads:
        if upload.kind not in FILE_LABELS:
            errors["files"] = _l("未知的材料类型：%(kind)s", kind=upload.kind)
            continue
        try:
            checked.append((upload.kind, check_upload(upload.filename, upload.stream)))
        except UploadRejected as exc:
            errors[upload.kind] = f"{errors[upload.kind]}；{exc.message}" if upload.kind in errors else exc.message
    return checked


def file_row(owner, kind: str, upload: CheckedUpload, stored_name: str, **kw) -> RequestFile:
    return RequestFile(public_id=secrets.token_urlsafe(16), owner_id=owner.id, kind=kind,
                       original_name=upload.original_name, stored_name=stored_name,
                       content_type=upload.content_type, size=upload.size, sha256=upload.sha256, **kw)


def _save_drafts(session: Session, owner, checked, errors: dict) -> list[RequestFile]:
    """Keep the good files as drafts, as far as the owner's draft quota allows; a file beyond it is
    named under its field, to be chosen again (the form keeps everything else)."""
    folder = current_app.config["UPLOAD_FOLDER"]
    fits, refused = drafts.within_quota(session, owner, checked)
    for kind, upload in refused:
        message = _l("“%(name)s”未能暂存：您暂存的文件已达 %(mb)s MB 的上限，提交时请重新选择这个文件",
                     name=upload.original_name, mb=f"{drafts.quota_bytes() / 1024 / 1024:g}")
        errors[kind] = f"{errors[kind]}；{message}" if kind in errors else message
    rows = [file_row(owner, kind, upload, store_with(session, upload.data, folder)) for kind, upload in fits]
    session.add_all(rows)
    session.commit()
    return rows


def _purge_old_drafts(session: Session, owner) -> None:
    """The owner's drafts of forms never completed, once past their lifetime (the files after commit)."""
    drafts.purge_drafts(session, owner=owner, commit=False)


def _create(session: Session, applicant, values: dict, key: str | None) -> UtilizationRequest:
    issuing: Archive = values["issuing_archive"]
    today = clock.china_today()
    number = f"{issuing.code}-{today.year}-{next_value(session, f'request:{issuing.code}', today.year):06d}"
    search = values.get("search") or {}
    request = UtilizationRequest(
        number=number, applicant=applicant, issuing_archive=issuing, status="submitted", kind=values["kind"],
        relation=values["relation"], purpose=values["purpose"], purpose_note=values["purpose_note"],
        subject_name=values["subject_name"], subject_id_enc=values["subject_id_enc"],
        subject_id_hash=values["subject_id_hash"], delivery=values["delivery"], address=values["address"],
        consent_at=utcnow(), idempotency_key=key, search_category=search.get("category", ""),
        search_year_from=search.get("year_from"), search_year_to=search.get("year_to"),
        search_place=search.get("place", ""),
    )
    for position, record in enumerate(values.get("records", [])):
        request.items.append(RequestRecord(record=record, position=position))
    # "Please search for me" without archives named: the issuing archive searches its own holdings.
    for archive in search.get("archives") or ([issuing] if values["kind"] == "search" else []):
        request.search_archives.append(RequestSearchArchive(archive=archive))
    request.due_date = due_date(request, today)
    session.add(request)
    return request


def due_date(request: UtilizationRequest, start: date) -> date:
    """The promised completion date (承诺时限): more working days when other archives must verify."""
    cross = any(archive.id != request.issuing_archive.id for archive in holding_archives(request))
    days = current_app.config["DUE_WORKING_DAYS_CROSS_ARCHIVE" if cross else "DUE_WORKING_DAYS"]
    return workdays.load_calendar(current_app.config["HOLIDAYS_FILE"]).add_working_days(start, days)
