"""Reading what API clients send for utilization requests, strictly: every wrong type, unknown
key or bad part is a BadInput naming its field, so the endpoints answer 400 and never 500.

Field names are JSON paths of the request document (`subject.id_number`, `search.year_from`,
`records[0].archive_code`), or the name of the multipart part (`death_proof`, `request`, `note`)."""
from __future__ import annotations

import json

from flask import request
from flask_babel import gettext as _

from portal.core.masking import same_name
from portal.requests import service
from portal.requests.applying import MAX_SEARCH_ARCHIVES
from portal.requests.models import FILE_KINDS

# The service names its fields after the web form; the API answers with the JSON path.
_SERVICE_FIELDS = {"subject_name": "subject.name", "subject_id_number": "subject.id_number",
                   "search_category": "search.category", "year_from": "search.year_from",
                   "year_to": "search.year_to", "search_place": "search.place",
                   "search_archives": "search.archives"}
_TOP_KEYS = ("records", "search", "subject", "relation", "purpose", "purpose_note", "issuing_archive", "delivery",
             "address", "consent")
_RECORD_KEYS = ("archive_code", "reference_code")
_SEARCH_KEYS = ("name", "category", "year_from", "year_to", "place", "archives")
_SUBJECT_KEYS = ("name", "id_number")
_ACTION_KEYS = ("note", "version")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_DOCUMENT_BYTES = 256 * 1024  # the `request` JSON document (the message says 256 KB); files are parts
MAX_KEY_CHARS = 80  # what the idempotency_key column holds


class BadInput(Exception):
    """One answer for the caller: a status and {field: message} (the first is the headline)."""

    def __init__(self, errors: dict, status: int = 400):
        super().__init__(errors)
        self.errors = errors
        self.status = status


class Reader:
    """Type checks of a JSON document, collecting one message per field path. Missing and null
    values read as empty: whether a value is required is the service's rule, which names it."""

    def __init__(self):
        self.errors: dict[str, str] = {}

    def fail(self, path: str, message) -> None:
        self.errors.setdefault(path, str(message))

    def obj(self, value, path: str, allowed: tuple[str, ...]) -> dict | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(path, _("字段 %(field)s 应为对象 (%(field)s must be an object)", field=path))
            return None
        for key in value:
            if key not in allowed:
                name = f"{path}.{key}" if path else key
                self.fail(name, _("未知字段 %(field)s (unknown field %(field)s)", field=name))
        return value

    def array(self, value, path: str) -> list | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self.fail(path, _("字段 %(field)s 应为数组 (%(field)s must be an array)", field=path))
            return None
        return value

    def string(self, value, path: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(path, _("字段 %(field)s 应为字符串 (%(field)s must be a string)", field=path))
            return ""
        if not clean_text(value):
            self.fail(path, _("字段 %(field)s 含有无效字符 (%(field)s contains invalid characters)", field=path))
            return ""
        return value

    def integer(self, value, path: str) -> int | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):  # true is an int to Python, not to JSON
            self.fail(path, _("字段 %(field)s 应为整数 (%(field)s must be an integer)", field=path))
            return None
        return value

    def form_integer(self, text: str | None, path: str) -> int | None:
        """A whole number typed into a form or query field (None when empty)."""
        raw = (text or "").strip()
        if not raw:
            return None
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            return int(raw)
        self.fail(path, _("字段 %(field)s 应为整数 (%(field)s must be an integer)", field=path))
        return None

    def boolean(self, value, path: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(path, _("字段 %(field)s 应为 true 或 false (%(field)s must be true or false)", field=path))
            return False
        return value


def clean_text(value: str) -> bool:
    """No NUL (PostgreSQL refuses it in text) and no lone surrogates (not encodable as UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_application(doc: dict, applicant) -> service.Application:
    """The service's Application from the request document; BadInput lists every type error."""
    r = Reader()
    r.obj(doc, "", _TOP_KEYS)
    relation = r.string(doc.get("relation"), "relation")
    app = service.Application(
        relation=relation, purpose=r.string(doc.get("purpose"), "purpose"),
        purpose_note=r.string(doc.get("purpose_note"), "purpose_note"),
        issuing_archive=r.string(doc.get("issuing_archive"), "issuing_archive"),
        delivery=r.string(doc.get("delivery"), "delivery"), address=r.string(doc.get("address"), "address"),
        consent=r.boolean(doc.get("consent"), "consent"))

    subject = r.obj(doc.get("subject"), "subject", _SUBJECT_KEYS)
    if subject is not None:
        if relation == "self" and any(subject.values()):
            # Silently dropping another person's details would apply for the wrong person.
            r.fail("subject", _("为本人申请时不填 subject (leave subject out when relation is self)"))
        app.subject_name = r.string(subject.get("name"), "subject.name")
        app.subject_id_number = r.string(subject.get("id_number"), "subject.id_number")

    records = r.array(doc.get("records"), "records") or []
    for i, item in enumerate(records):
        path = f"records[{i}]"
        if not isinstance(item, dict):
            r.fail(path, _("字段 %(field)s 应为对象 (%(field)s must be an object)", field=path))
            continue
        r.obj(item, path, _RECORD_KEYS)
        codes = []
        for key in _RECORD_KEYS:
            value = r.string(item.get(key), f"{path}.{key}")
            if not value.strip() and f"{path}.{key}" not in r.errors:
                r.fail(f"{path}.{key}", _("缺少字段 %(field)s (%(field)s is required)", field=f"{path}.{key}"))
            codes.append(value)
        app.records.append((codes[0], codes[1]))

    search = r.obj(doc.get("search"), "search", _SEARCH_KEYS)
    if search is not None:
        archives = r.array(search.get("archives"), "search.archives") or []
        if len(archives) > MAX_SEARCH_ARCHIVES:
            r.fail("search.archives", _("search.archives 最多 %(n)d 个档案馆 (search.archives lists at most "
                                        "%(n)d archives)", n=MAX_SEARCH_ARCHIVES))
            archives = []
        app.search = service.SearchSpec(
            category=r.string(search.get("category"), "search.category"),
            year_from=r.integer(search.get("year_from"), "search.year_from"),
            year_to=r.integer(search.get("year_to"), "search.year_to"),
            place=r.string(search.get("place"), "search.place"),
            archives=[r.string(code, f"search.archives[{i}]") for i, code in enumerate(archives)])
        # The service searches for the subject: the applicant (self) or subject.name. A different
        # search.name would be a second person, which one request cannot be about.
        name = r.string(search.get("name"), "search.name").strip()
        subject_name = applicant.real_name if relation == "self" else app.subject_name.strip()
        if name and subject_name and not same_name(name, subject_name):
            r.fail("search.name", _("search.name 应与档案当事人的姓名一致 (search.name must be the subject's "
                                    "name)"))
    if r.errors:
        raise BadInput(r.errors)
    return app


def load_json(data: bytes | str, field: str):
    invalid = BadInput({field: _("%(field)s 应为 JSON 对象 (%(field)s must be a JSON object)", field=field)})
    if len(data) > MAX_DOCUMENT_BYTES:
        raise BadInput({field: _("%(field)s 不能超过 256 KB (%(field)s must be at most 256 KB)", field=field)})
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise invalid from None
    if not isinstance(value, dict):
        raise invalid
    return value


def unsupported_type() -> BadInput:
    return BadInput({"body": _("请用 multipart/form-data 或 application/json 提交 (send multipart/form-data or "
                               "application/json)")}, 415)


def _file_parts(allowed: dict[str, str], skip: tuple[str, ...] = ()) -> list[service.Upload]:
    """Uploads from the multipart file parts; `allowed` maps a part name to the proof kind."""
    uploads = []
    for name, part in request.files.items(multi=True):
        if name in skip:
            continue
        if name not in allowed:
            raise BadInput({name: _("未知的材料类型：%(kind)s", kind=name)})
        uploads.append(service.Upload(allowed[name], part.filename or "", part.stream))
    return uploads


def check_form_fields(allowed: tuple[str, ...], file_names) -> None:
    for name in request.form:
        if name in file_names:
            raise BadInput({name: _("字段 %(field)s 应为文件 (%(field)s must be a file part)", field=name)})
        if name not in allowed:
            raise BadInput({name: _("未知字段 %(field)s (unknown field %(field)s)", field=name)})


def read_submission() -> tuple[dict, list[service.Upload]]:
    """The request document and the proofs, from a multipart body or a JSON body."""
    if request.mimetype == "application/json":
        return load_json(request.get_data(cache=False), "request"), []
    if request.mimetype not in FORM_TYPES:
        raise unsupported_type()
    check_form_fields(("request",), FILE_KINDS)
    uploads = _file_parts({kind: kind for kind in FILE_KINDS}, skip=("request",))
    if "request" in request.form:
        doc = load_json(request.form["request"], "request")
    elif "request" in request.files:  # sent as a file: curl -F 'request=@application.json'
        doc = load_json(request.files["request"].stream.read(MAX_DOCUMENT_BYTES + 1), "request")
    else:
        raise BadInput({"request": _("%(field)s 应为 JSON 对象 (%(field)s must be a JSON object)",
                                     field="request")})
    return doc, uploads


def read_idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise BadInput({"Idempotency-Key": _("Idempotency-Key 应为不超过 80 个可打印字符 (Idempotency-Key must "
                                             "be at most 80 printable characters)")})
    return key


def map_fields(errors: dict) -> dict:
    return {_SERVICE_FIELDS.get(field, field): message for field, message in errors.items()}


def read_action(action: str) -> tuple[str, int | None, list[service.Upload]]:
    """The note, the expected version and (resubmit only) the files of an action call."""
    if request.mimetype in FORM_TYPES:
        kinds = {kind: kind for kind in FILE_KINDS} | {"files": "supplement"}  # "files", as the web form
        check_form_fields(_ACTION_KEYS, kinds)
        if action != "resubmit" and request.files:
            name = next(iter(request.files))
            raise BadInput({name: _("只有 resubmit 可以附带文件 (only resubmit takes files)")})
        uploads = _file_parts(kinds)
        r = Reader()
        note = r.string(request.form.get("note"), "note")
        version = r.form_integer(request.form.get("version"), "version")
        if r.errors:
            raise BadInput(r.errors)
        return note, version, uploads
    data = request.get_data(cache=False)
    if not data.strip():
        return "", None, []
    if request.mimetype != "application/json":
        raise unsupported_type()
    doc = load_json(data, "body")
    r = Reader()
    r.obj(doc, "", _ACTION_KEYS)
    note, version = r.string(doc.get("note"), "note"), r.integer(doc.get("version"), "version")
    if r.errors:
        raise BadInput(r.errors)
    return note, version, []

