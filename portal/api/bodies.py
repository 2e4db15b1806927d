"""Reading what API clients send into the models of portal.api.schemas, strictly: a JSON object
body, a form (urlencoded or multipart, with file parts), query parameters, the request document.
Every problem is a BadInput or a pydantic ValidationError naming its field (portal.api.errors
answers both), so the endpoints answer 400 or 415 and never 500.

Forms and query strings carry text only: a field the model types as an integer is read from its
digits, a list from the repeated field; the model then checks the rest as it does for JSON."""
from __future__ import annotations

import json
import types
import typing
from typing import TypeVar

from flask import request
from flask_babel import gettext as _

from portal.api.errors import BadInput
from portal.api.fields import Strict
from portal.requests.applying import Upload
from portal.requests.models import FILE_KINDS

M = TypeVar("M", bound=Strict)
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_DOCUMENT_BYTES = 256 * 1024  # the `request` JSON document (the message says 256 KB); files are parts
MAX_KEY_CHARS = 80  # what the idempotency_key column holds
_MAX_DIGITS = 9  # a form's or query's integer: what a person types, never a number that overflows


def load_json(data: bytes | str, field: str) -> dict:
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


# ---- text fields: forms and query strings ----------------------------------------------------------

def _shape(annotation) -> str:
    """"int", "bool", "list" or "text": how a field of this type is read from a form or a query string."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _shape(typing.get_args(annotation)[0])
    if origin is list:
        return "list"
    if origin in (typing.Union, types.UnionType):
        shapes = {_shape(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        return next(iter(shapes)) if len(shapes) == 1 else "text"
    return {int: "int", bool: "bool"}.get(annotation, "text")


def _fields_by_name(model: type[Strict]) -> dict[str, str]:
    """The name a client sends (the alias, if any) → the shape of the field."""
    return {field.alias or name: _shape(field.annotation) for name, field in model.model_fields.items()}


def _integer(value: str):
    """Digits as an integer; anything else stays text, for the model to call it "not an integer"."""
    raw = value.strip()
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= _MAX_DIGITS:
        return int(raw)
    return value


def _boolean(value: str):
    """true/false (and 1/0) as a boolean; anything else stays text, for the model to refuse."""
    return {"true": True, "1": True, "false": False, "0": False, "": False}.get(value.strip().lower(), value)


def text_values(model: type[Strict], values) -> dict:
    """A MultiDict of text (a form, query arguments) as the model's input."""
    shapes = _fields_by_name(model)
    data = {}
    for name in values:
        shape = shapes.get(name, "text")
        if shape == "list":
            data[name] = values.getlist(name)
        elif shape == "int":
            data[name] = _integer(values.get(name))
        elif shape == "bool":
            data[name] = _boolean(values.get(name))
        else:
            data[name] = values.get(name)
    return data


def read_query(model: type[M]) -> M:
    return model.model_validate(text_values(model, request.args))


# ---- bodies --------------------------------------------------------------------------------------

def _form(model: type[Strict], no_files_message: str) -> dict:
    parts = model.file_parts
    for name in request.form:
        if name in parts:
            raise BadInput({name: _("字段 %(field)s 应为文件 (%(field)s must be a file part)", field=name)})
    uploads = []
    for name, part in request.files.items(multi=True):
        if not parts:
            raise BadInput({name: no_files_message})
        if name not in parts:
            unknown = getattr(model, "unknown_part", None)
            raise BadInput({name: unknown(name) if unknown else _("未知字段 %(field)s (unknown field %(field)s)",
                                                                  field=name)})
        uploads.append(Upload(parts[name], part.filename or "", part.stream))
    data = text_values(model, request.form)
    if uploads:
        data[model.file_field] = uploads
    return data


def read_input(model: type[M], *, no_files_message: str = "") -> M:
    """A body for `model`: a JSON object, a form (file parts only where the model takes files;
    `no_files_message` for a part where it does not) or nothing at all (all defaults)."""
    if request.mimetype in FORM_TYPES:
        return model.model_validate(_form(model, no_files_message))
    data = request.get_data(cache=False)
    if not data.strip():
        return model.model_validate({})
    if request.mimetype != "application/json":
        raise unsupported_type()
    return model.model_validate(load_json(data, "body"))


def read_action(bodies: dict[str, type[Strict]], action: str, no_files_message: str) -> Strict:
    """The one place an action's body is read into its model (portal.api.schemas.*_ACTION_BODIES);
    the action dispatcher portal.actions takes the same fields."""
    return read_input(bodies[action], no_files_message=no_files_message)


# ---- the request document ------------------------------------------------------------------------

def read_submission() -> tuple[dict, list[Upload]]:
    """The request document (not yet checked) and the proofs, from a multipart body or a JSON body."""
    if request.mimetype == "application/json":
        return load_json(request.get_data(cache=False), "request"), []
    if request.mimetype not in FORM_TYPES:
        raise unsupported_type()
    for name in request.form:
        if name in FILE_KINDS:
            raise BadInput({name: _("字段 %(field)s 应为文件 (%(field)s must be a file part)", field=name)})
        if name != "request":
            raise BadInput({name: _("未知字段 %(field)s (unknown field %(field)s)", field=name)})
    uploads = []
    for name, part in request.files.items(multi=True):
        if name == "request":
            continue
        if name not in FILE_KINDS:
            raise BadInput({name: _("未知的材料类型：%(kind)s", kind=name)})
        uploads.append(Upload(name, part.filename or "", part.stream))
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
