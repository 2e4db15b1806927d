"""What API clients send, as pydantic models: the token request, the request document, the query
parameters of the queue and of search, and the bodies of the actions on requests and tasks.

Each model is the check (portal.api.fields: strict types, unknown keys refused) and the OpenAPI
schema of its input at once. How a body is read (JSON, a form, file parts) is portal.api.bodies.

The action bodies (REQUEST_ACTION_BODIES, TASK_ACTION_BODIES) keep the field names of the action
dispatcher's input models (portal.actions.inputs): `note`, `version`, `reason`, `archives`, `to`,
`files`, and `copy` (as an alias: a field cannot be named `copy` on a pydantic model)."""
from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar

from flask_babel import gettext as _
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator
from pydantic.json_schema import SkipJsonSchema

from portal.actions.inputs import NOTE_CHARS
from portal.actions.inputs import REVOKE_REASON_CHARS as REASON_CHARS
from portal.api.errors import BadInput, problem
from portal.api.fields import Flag, Integer, RequiredText, Strict, Text, UploadPart, codes, text
from portal.core.categories import CATEGORIES
from portal.core.masking import same_name
from portal.requests import service
from portal.requests.applying import MAX_RECORDS, MAX_SEARCH_ARCHIVES
from portal.requests.labels import REJECT_REASONS
from portal.requests.models import DELIVERIES, FILE_KINDS, PURPOSES, RELATIONS
from portal.review.queue import TABS

# What the actions accept: NOTE_CHARS and REASON_CHARS come from portal.actions.inputs.
Version = Annotated[Integer, Field(description="the version of the request or task you saw; "
                                               "a newer one answers 409 (optimistic locking)")]


# ---- tokens ---------------------------------------------------------------------------------------

class TokenRequest(Strict):
    """POST /tokens: the portal log-in. Other keys are ignored, as they always were."""
    model_config = ConfigDict(extra="ignore")

    email: RequiredText
    password: RequiredText


# ---- search and the queue: query parameters -------------------------------------------------------

class SearchParams(Strict):
    """GET /search. The catalog (portal.catalog.search.parse_query) checks the values; other
    parameters (such as `lang`) are ignored."""
    model_config = ConfigDict(extra="ignore")

    q: text(max_chars=200) = Field(None, description="words; a person's full name finds their open records")
    category: text(choices=CATEGORIES) = None
    archive: Text = Field(None, description="an archive code")
    year_from: Integer = None
    year_to: Integer = None
    page: Integer = Field(None, description="1-based (default 1)", json_schema_extra={"minimum": 1})
    per_page: Integer = Field(None, description="default 20", json_schema_extra={"minimum": 1, "maximum": 100})
    scope: text(choices=("local", "network"), unknown=lambda s: _("未知的检索范围：%(s)s", s=s[:20])) = Field(
        None, description="`local` (default): this node's archives; `network`: this node and its peers, "
                          "merged by score (page * per_page at most 100)")

    def as_args(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump().items() if v not in (None, "")}


MAX_LIMIT = 100
MAX_FIND_CHARS = 100
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Submission dates the filters can turn into a time range without leaving datetime's years.
_FIRST_DAY, _LAST_DAY = date(1000, 1, 1), date(9998, 12, 31)


def _day(value: str | None, info: ValidationInfo) -> date | None:
    if not value:
        return None
    day = None
    if _ISO_DAY.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
    if day is None or not _FIRST_DAY <= day <= _LAST_DAY:
        raise problem(_("%(field)s 应为 YYYY-MM-DD 格式的日期 (%(field)s must be a date as YYYY-MM-DD)",
                        field=info.field_name))
    return day


def _limit(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_LIMIT:
        raise problem(_("每页条数应在 1 至 %(n)s 之间", n=MAX_LIMIT))
    return value


Day = Annotated[Text, AfterValidator(_day), WithJsonSchema({"anyOf": [{"type": "string", "format": "date"},
                                                                      {"type": "null"}]})]


class QueueQuery(Strict):
    """GET /queue. Any other parameter is refused."""
    model_config = ConfigDict(str_strip_whitespace=True)

    tab: text(choices=TABS) = Field(None, description="default to_accept")
    archive: Text = Field(None, description="admins: whose queue (default: every archive's); staff: their own")
    after: Text = Field(None, description="the `next` of the previous page")
    limit: Annotated[Integer, AfterValidator(_limit)] = Field(
        None, description="items per page (default 25)", json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT})
    category: text(choices=CATEGORIES, unknown=lambda c: _("未知的档案类别：%(c)s", c=c[:40])) = None
    relation: text(choices=RELATIONS) = None
    other_archive: Text = Field(None, description="an archive code: the other side of the request or task")
    date_from: Day = Field(None, description="submitted on or after (China time)")
    date_to: Day = Field(None, description="submitted on or before (China time)")
    find: text(max_chars=MAX_FIND_CHARS, too_long=lambda n: _("检索词不能超过 %(n)s 个字", n=n)) = Field(
        None, description="a request number, or part of the applicant's or the subject's name")


class CertificateQuery(Strict):
    """GET /certificates/<serial>: the code printed on the certificate. A wrong code, or text no
    code could be, answers as a serial that does not exist."""
    model_config = ConfigDict(extra="ignore")

    code: str = Field("", description="the verification code (any case; spaces and dashes are ignored)")


# ---- the request document: POST /requests ---------------------------------------------------------

class RecordRef(Strict):
    archive_code: RequiredText
    reference_code: RequiredText
    node: Text = Field(None, description="the peer node holding the record, for another node's record "
                                         "(as network search names it); optional, archive codes are unique")


class SubjectDoc(Strict):
    name: Text = None
    id_number: Text = Field(None, description="a resident ID number (checksum-checked)")


def _at_most_archives(value: list | None) -> list | None:
    if value is not None and len(value) > MAX_SEARCH_ARCHIVES:
        raise problem(_("search.archives 最多 %(n)d 个档案馆 (search.archives lists at most %(n)d archives)",
                        n=MAX_SEARCH_ARCHIVES))
    return value


class SearchDoc(Strict):
    """"Please search for me": only `category` is required; `name`, if given, must be the subject's."""
    name: Text = None
    category: text(choices=CATEGORIES) = None
    year_from: Integer = None
    year_to: Integer = None
    place: text(max_chars=200) = None
    archives: Annotated[list[Text] | None, AfterValidator(_at_most_archives),
                        WithJsonSchema({"anyOf": [{"type": "array", "items": {"type": "string"},
                                                   "maxItems": MAX_SEARCH_ARCHIVES}, {"type": "null"}]})] = None


class ApplicationDoc(Strict):
    """The request document: `records` or `search`, whose records (`relation`, `subject`), why,
    where the certificate comes from, how it reaches you, and consent."""
    records: list[RecordRef] | None = Field(None, json_schema_extra={"maxItems": MAX_RECORDS})
    search: SearchDoc | None = None
    relation: text(choices=RELATIONS) = None
    subject: SubjectDoc | None = Field(None, description="whose records, when they are not yours; "
                                                         "leave it out for relation self")
    purpose: text(choices=PURPOSES) = None
    purpose_note: text(max_chars=200) = Field(None, description="required for purpose other")
    issuing_archive: Text = Field(None, description="the code of the archive that issues the certificate")
    delivery: text(choices=DELIVERIES) = None
    address: text(max_chars=200) = Field(None, description="for delivery post")
    consent: Flag = Field(None, description="must be true: consent to the processing of the personal data")

    @field_validator("subject")
    @classmethod
    def _no_subject_for_self(cls, subject: SubjectDoc | None, info: ValidationInfo):
        # Silently dropping another person's details would apply for the wrong person.
        if subject is not None and info.data.get("relation") == "self" and (subject.name or subject.id_number):
            raise problem(_("为本人申请时不填 subject (leave subject out when relation is self)"))
        return subject

    def application(self, applicant) -> service.Application:
        """The service's Application; the search is for the applicant (self) or the subject."""
        subject = self.subject or SubjectDoc()
        app = service.Application(
            relation=self.relation, purpose=self.purpose, purpose_note=self.purpose_note,
            issuing_archive=self.issuing_archive, delivery=self.delivery, address=self.address,
            consent=self.consent, subject_name=subject.name, subject_id_number=subject.id_number,
            records=[(r.archive_code, r.reference_code) for r in self.records or ()],
            record_nodes={(r.archive_code, r.reference_code): r.node for r in self.records or () if r.node})
        if self.search is not None:
            s = self.search
            app.search = service.SearchSpec(category=s.category, year_from=s.year_from, year_to=s.year_to,
                                            place=s.place, archives=list(s.archives or ()))
            # A different search.name would be a second person, which one request cannot be about.
            subject_name = applicant.real_name if self.relation == "self" else subject.name.strip()
            if s.name.strip() and subject_name and not same_name(s.name, subject_name):
                raise BadInput({"search.name": _("search.name 应与档案当事人的姓名一致 (search.name must be the "
                                                 "subject's name)")})
        return app


# ---- action bodies: POST /requests/<number>/actions/<action>, /tasks/<task_id>/actions/<action> ------

class ClaimBody(Strict):
    """claim, release: "I'm handling this", or giving it back."""
    version: Version = None


class NoteBody(ClaimBody):
    """A step with a note for the applicant (required for ask_supplement and not_found)."""
    note: text(max_chars=NOTE_CHARS) = None


class RejectBody(NoteBody):
    """reject: the note and a reason from the list are required; the applicant reads "<label>：<note>".
    (Both are read as optional here so that one answer names every missing one.)"""
    model_config = ConfigDict(json_schema_extra={"required": ["note", "reason"]})

    reason: text(choices=REJECT_REASONS) = Field(None, description="the label is stored in Chinese, whatever "
                                                                   "the caller's language")


class AcceptBody(NoteBody):
    """accept; for "please search for me", `archives` (codes) replaces the archives that search."""
    archives: codes(max_items=MAX_SEARCH_ARCHIVES) = None
    identity_checked: bool = Field(False, description="required (true) when the applicant's identity is unverified: "
                                                      "the clerk checked the uploaded ID card; accepting then "
                                                      "verifies the account")


class ReassignBody(ClaimBody):
    """reassign (admins): hand the claim to a member of staff, named by email."""
    to: RequiredText


class ResubmitBody(NoteBody):
    """resubmit: a note, files (parts named after a proof kind; `files` means `supplement`), or both."""
    file_parts: ClassVar[dict[str, str]] = {kind: kind for kind in FILE_KINDS} | {"files": "supplement"}
    file_field: ClassVar[str] = "files"

    files: SkipJsonSchema[list[UploadPart]] = []  # documented as file parts (portal.api.openapi.form_schema)

    @classmethod
    def unknown_part(cls, name: str) -> str:
        return _("未知的材料类型：%(kind)s", kind=name)


def _one_copy(value: Any) -> Any:
    if isinstance(value, list):
        if len(value) > 1:
            raise problem(_("只能附带一个复制件文件 (send one copy file only)"))
        return value[0] if value else None
    return value


class TaskAnswerBody(NoteBody):
    """verify: the certified copy as the file part `copy` (PDF, JPEG or PNG, checked by content), a note,
    and whether the note is printed on the certificate."""
    file_parts: ClassVar[dict[str, str]] = {"copy": "certified_copy"}
    file_field: ClassVar[str] = "copy"

    copy_file: SkipJsonSchema[Annotated[UploadPart | None, BeforeValidator(_one_copy)]] = Field(None, alias="copy")
    print_note: bool = Field(False, description="print the note on the certificate (then a note is required); "
                                                "otherwise the certificate states only the verified facts")


class RevokeBody(Strict):
    """Why the certificate no longer stands (required): the applicant reads it."""
    reason: text(max_chars=REASON_CHARS) = None


# One place that says which body each action takes: portal.api.bodies.read_action reads it.
REQUEST_ACTION_BODIES: dict[str, type[Strict]] = {
    "withdraw": NoteBody, "resubmit": ResubmitBody, "accept": AcceptBody, "ask_supplement": NoteBody,
    "reject": RejectBody, "approve": NoteBody, "issue": NoteBody,
    "claim": ClaimBody, "release": ClaimBody, "reassign": ReassignBody,
}
TASK_ACTION_BODIES: dict[str, type[Strict]] = {
    "verify": TaskAnswerBody, "not_found": NoteBody, "claim": ClaimBody, "release": ClaimBody,
    "reassign": ReassignBody,
}
