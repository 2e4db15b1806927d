"""What the API answers, as pydantic models: the OpenAPI document's response schemas.

The endpoints build their JSON as they always did; these models describe it, and
tests/api/test_openapi_conformance.py checks every answer against them (extra keys are refused,
so a new key must be added here, and to docs/api.md)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from portal.requests.models import DELIVERIES, PURPOSES, RELATIONS, STATUSES

Status = Literal[STATUSES]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- errors ----------------------------------------------------------------------------------------

class Error(Answer):
    """Every error. Refused input adds the first problem's `field` and all of them in `errors`."""
    error: str = Field(description="what went wrong, for a person to read (Chinese; type errors also in English)")
    field: str = Field(None, description="the first refused field: a JSON path (`records[0].reference_code`), "
                                         "a form part, a parameter, or `body`")
    errors: dict[str, str] = Field(None, description="every refused field and its message")


class EventRef(Answer):
    at: datetime
    actor_role: str
    action: str
    to: Status


class RequestConflict(Error):
    """409 on a step: where the request stands now, and its latest step."""
    status: Status
    version: int
    latest: EventRef | None


class Person(Answer):
    """A member of staff as other staff see them."""
    name: str
    email: str


class ClaimConflict(Error):
    """409 on claim, release, reassign: who holds the request."""
    status: Status
    version: int
    claimed_by: Person | None


class StatusConflict(Error):
    """409 on revoke: the certificate's status."""
    status: str


# ---- tokens, search, own records ------------------------------------------------------------------

class TokenAnswer(Answer):
    token: str
    expires_at: datetime = Field(description="UTC; a token lasts 12 hours")


class HitArchive(Answer):
    code: str
    name: str


class Hit(Answer):
    reference_code: str
    archive_code: str
    archive_name: str
    category: str
    category_label: str
    title: str
    subject_name: str = Field(description="masked (张*三)")
    year: int | None
    place: str
    url: str = Field(description="the record's page (on its own node, for scope=network)")
    highlight: str = Field(description="HTML: the matched words in <mark>")
    node: str | None = Field(None, description="scope=network: the node holding the record (this node's name "
                                               "for its own)")
    archive: HitArchive | None = Field(None, description="scope=network: the holding archive")
    score: float | None = Field(None, description="scope=network: relevance in (0, 1], comparable across nodes")


class Facets(Answer):
    category: dict[str, int]
    archive: dict[str, int]
    node: dict[str, int] | None = Field(None, description="scope=network: hits per node")
    decade: dict[str, int] | None = Field(None, description="scope=network: hits per decade")


class SearchAnswer(Answer):
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: Facets
    took_ms: int
    backend: str = Field(description="`embedded` or `meilisearch`")
    scope: Literal["local", "network"] | None = Field(None, description="present for scope=network")
    unavailable: list[str] | None = Field(None, description="scope=network: the peers that could not be searched "
                                                            "(down, slow or a bad answer)")
    via: Literal["fan-out", "engine"] | None = Field(None, description="scope=network: signed fan-out to the peers, "
                                                                        "or Meilisearch's network feature")


class OwnRecord(Answer):
    archive_code: str
    reference_code: str
    title: str
    category: str
    year: int | None
    access_level: Literal["open", "restricted"]


class OwnRecords(Answer):
    records: list[OwnRecord]


# ---- requests ---------------------------------------------------------------------------------------

class Created(Answer):
    number: str
    status: Status
    url: str = Field(description="the request's page on the portal")


class RequestSummary(Answer):
    number: str
    status: Status
    issuing_archive: str
    due_date: date
    submitted_at: datetime | None


class RequestList(Answer):
    requests: list[RequestSummary]


class Event(Answer):
    at: datetime
    actor_role: str = Field(description="applicant, clerk, reviewer, admin or system")
    action: str
    from_: Status | None = Field(alias="from")
    to: Status
    note: str


class SubjectAnswer(Answer):
    name: str
    id_number: str | None = Field(description="masked")


class RecordItem(Answer):
    archive_code: str
    reference_code: str
    title: str
    node: str = Field(None, description="the peer node holding it, for another node's record")


class SearchAnswerSpec(Answer):
    name: str
    category: str
    year_from: int | None
    year_to: int | None
    place: str
    archives: list[str]


class FileInfo(Answer):
    kind: str
    name: str
    content_type: str
    size: int


class CertificateInfo(Answer):
    serial: str
    code: str = Field(description="the verification code printed on the certificate")
    kind: Literal["found", "not_found"]
    status: Literal["valid", "revoked"]
    issued_at: datetime
    sha256: str
    revoked_at: datetime | None
    revoke_reason: str | None
    url: str = Field(description="the PDF (GET /api/v1/requests/{number}/certificate)")


class CopyInfo(Answer):
    name: str
    content_type: str
    size: int


class Task(Answer):
    task_id: str
    holding_archive: str
    node: str = Field(None, description="the peer node of the holding archive, for a task sent to another node")
    status: Literal["open", "answered", "cancelled"]
    result: Literal["verified", "not_found"] | None
    note: str
    due_date: date
    version: int
    claimed_by: Person | None
    answered_by: Person | None
    answered_at: datetime | None
    copy_: CopyInfo | None = Field(alias="copy")
    allowed_actions: list[str]


class Applicant(Answer):
    name: str
    id_number: str | None = Field(description="not masked")
    email: str
    phone: str


class RequestDetail(Answer):
    """One request. `claimed_by`, `tasks` and `applicant` are for staff only."""
    number: str
    status: Status
    version: int
    kind: Literal["records", "search"]
    relation: Literal[RELATIONS]
    purpose: Literal[PURPOSES]
    purpose_note: str
    subject: SubjectAnswer
    records: list[RecordItem]
    search: SearchAnswerSpec | None
    issuing_archive: str
    holding_archives: list[str]
    delivery: Literal[DELIVERIES]
    address: str
    submitted_at: datetime | None
    due_date: date
    events: list[Event]
    files: list[FileInfo]
    allowed_actions: list[str]
    certificate: CertificateInfo | None
    claimed_by: Person | None = Field(None, description="staff: who at the issuing archive handles it")
    tasks: list[Task] = Field(None, description="staff: the verification tasks they may see")
    applicant: Applicant = Field(None, description="staff of the issuing archive and admins")


class StepAnswer(Answer):
    number: str
    status: Status
    version: int
    certificate: CertificateInfo = Field(None, description="issue: the certificate")


class ClaimAnswer(Answer):
    number: str
    status: Status
    version: int
    claimed_by: Person | None


# ---- staff: the queue and tasks --------------------------------------------------------------------

class QueueItem(Answer):
    kind: Literal["request", "task"]
    number: str
    task_id: str = Field(None, description="tasks only")
    status: str = Field(description="the request's status, or the task's")
    issuing_archive: str
    issuing_node: str = Field(None, description="a task another node sent: that node's name")
    holding_archive: str = Field(None, description="tasks only")
    due_date: date
    submitted_at: datetime | None
    claimed_by: Person | None


class Queue(Answer):
    items: list[QueueItem]
    counts: dict[str, int]
    next: str | None = Field(description="pass as `after` for the next page; null on the last")


class RequestRef(Answer):
    number: str
    status: Status


class TaskAnswer(Answer):
    task_id: str
    status: Literal["open", "answered", "cancelled"]
    result: Literal["verified", "not_found"] | None
    version: int
    holding_archive: str
    claimed_by: Person | None
    request: RequestRef


class TaskConflict(Error, TaskAnswer):
    """409 on a task: why, and the task as it is now."""


# ---- certificates -----------------------------------------------------------------------------------

class CertificateCheck(Answer):
    valid: bool
    status: Literal["valid", "revoked"]
    kind: Literal["found", "not_found"]
    serial: str
    issued_at: datetime
    issuing_archive: str
    holding_archives: list[str]
    sha256: str
    revoked_at: datetime | None
    node: str | None = Field(description="the node of the network that answered: this one, or the one that issued "
                                         "the certificate (its name is in the serial, ZM-NODE-…); null on a "
                                         "portal that is not part of a network")
