"""The API's error answers, and the one handler for refused input.

Every error is JSON `{"error": message}`; refused input adds the first problem's `field` and all
of them in `errors` (`{field: message}`), status 400 (415 for a body of the wrong type, 403 when
a parameter asks for what the caller may not see). Routes raise BadInput, pydantic raises
ValidationError, services raise ValidationFailed: `input_error` answers all three alike.

pydantic's errors become the portal's own messages in `translate`, one per error type; a
validator that has a message of its own raises `problem(message)`."""
from __future__ import annotations

from flask import current_app, jsonify
from flask_babel import gettext as _
from pydantic import ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from portal.core.errors import ValidationFailed


class BadInput(Exception):
    """One answer for the caller: a status and {field: message} (the first is the headline)."""

    def __init__(self, errors: dict, status: int = 400):
        super().__init__(errors)
        self.errors = errors
        self.status = status


def api_error(message, http_status: int, /, **extra):
    """The API's error answer: JSON {"error": …, **extra} with `http_status`, a response callers may
    add headers to (`extra` may hold a "status" of its own: a 409 says where the request now stands)."""
    response = jsonify({"error": str(message), **extra})
    response.status_code = http_status
    return response


def invalid(errors: dict, http_status: int = 400, /, **extra):
    """A refused body or parameter: the first problem in "error" and "field", all of them in "errors"."""
    errors = {k: str(v) for k, v in errors.items()}
    field, message = next(iter(errors.items()))
    return api_error(message, http_status, field=field, errors=errors, **extra)


def problem(message) -> PydanticCustomError:
    """What a validator raises when it has its own words for the problem (already translated)."""
    return PydanticCustomError("portal", "{message}", {"message": str(message)})


def field_path(loc: tuple) -> str:
    """A pydantic location as the API names fields: `records[0].reference_code`, `search.year_from`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


# One message per kind of problem, in the words the API has always used. Anything else (a kind a
# future model brings) still names its field.
_MESSAGES = {
    "extra_forbidden": lambda f: _("未知字段 %(field)s (unknown field %(field)s)", field=f),
    "missing": lambda f: _("缺少字段 %(field)s (%(field)s is required)", field=f),
    "string_type": lambda f: _("字段 %(field)s 应为字符串 (%(field)s must be a string)", field=f),
    "int_type": lambda f: _("字段 %(field)s 应为整数 (%(field)s must be an integer)", field=f),
    "bool_type": lambda f: _("字段 %(field)s 应为 true 或 false (%(field)s must be true or false)", field=f),
    "model_type": lambda f: _("字段 %(field)s 应为对象 (%(field)s must be an object)", field=f),
    "list_type": lambda f: _("字段 %(field)s 应为数组 (%(field)s must be an array)", field=f),
    "text_invalid": lambda f: _("字段 %(field)s 含有无效字符 (%(field)s contains invalid characters)", field=f),
    "file_expected": lambda f: _("字段 %(field)s 应为文件 (%(field)s must be a file part)", field=f),
}
_SAME_AS = {"int_parsing": "int_type", "int_from_float": "int_type", "bool_parsing": "bool_type",
            "model_attributes_type": "model_type", "dict_type": "model_type", "string_unicode": "text_invalid"}


def translate(error: ErrorDetails) -> str:
    """The portal's message for one of pydantic's errors."""
    if error["type"] == "portal":
        return error["ctx"]["message"]
    field = field_path(error["loc"])
    message = _MESSAGES.get(_SAME_AS.get(error["type"], error["type"]))
    if message is None:
        return _("字段 %(field)s 的值无效 (%(field)s is not valid)", field=field)
    return message(field)


def errors_of(exc: ValidationError) -> dict[str, str]:
    """{field: message}, the first problem of each field, in pydantic's order."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        errors.setdefault(field_path(error["loc"]), translate(error))
    return errors


def input_error(exc: Exception):
    """The one answer to refused input, whoever refused it."""
    if isinstance(exc, BadInput):
        return invalid(exc.errors, exc.status)
    if isinstance(exc, ValidationError):
        return invalid(errors_of(exc))
    return invalid(exc.errors)  # ValidationFailed: a service's rule, in its own words


def password_needed(_exc: Exception):
    """An action that needs a password typed recently (issuing, revoking), with an older token."""
    response = api_error(_("请重新获取令牌：签发或撤销证明需要在 %(minutes)s 分钟内输入过密码 (get a new token: issuing "
                           "or revoking a certificate needs a recently typed password)",
                           minutes=current_app.config["REAUTH_MINUTES"]), 401)
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token", error_description="password too old"'
    return response


def register_error_handlers(bp) -> None:
    from portal.accounts.sessions import PasswordNeeded

    for exc_class in (BadInput, ValidationError, ValidationFailed):
        bp.register_error_handler(exc_class, input_error)
    bp.register_error_handler(PasswordNeeded, password_needed)
