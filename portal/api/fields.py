"""The value types of API inputs, each one declaration for both the check and the OpenAPI schema.

Models built on `Strict` refuse unknown keys and check JSON types strictly (`"1985"` is not an
integer, `1` is not a string, `true` is not a number). Text may not hold a NUL (PostgreSQL refuses
it) or a lone surrogate (not UTF-8). Missing and null values read as empty unless a field says it
is required: most rules about values (a required note, a known archive) are the services', which
say so in their own words; the schema still documents them (`enum`, `maxLength`)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from portal.api.errors import problem
from portal.core.storable import clean_json, clean_text  # noqa: F401  (the API's modules import them from here)
from portal.requests.applying import Upload


class Strict(BaseModel):
    """An input: unknown keys refused, JSON types checked strictly."""
    model_config = ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True, frozen=True,
                              validate_default=True)

    # Multipart file parts this input takes: part name → upload kind, all read into `file_field`.
    file_parts: ClassVar[dict[str, str]] = {}
    file_field: ClassVar[str | None] = None

    def inputs(self) -> dict:
        """The values under the names clients send (aliases): what portal.actions.act takes."""
        return {(field.alias or name): getattr(self, name) for name, field in type(self).model_fields.items()}


def _schema(required: bool, base: dict) -> dict:
    return base if required else {"anyOf": [base, {"type": "null"}]}


def text(*, required: bool = False, max_chars: int | None = None, too_long=None,
         choices: Iterable[str] | None = None, unknown=None) -> Any:
    """A string. `required`: missing, null or blank is "缺少字段". `max_chars` and `choices` (the
    values besides "") are documented, and checked here when a message is given: `too_long(n)`,
    `unknown(value)`; without one the service checks them, in its own words."""
    options = tuple(choices) if choices is not None else None

    def check(value: str | None) -> str:
        if value is None:
            value = ""
        if not clean_text(value):
            raise PydanticCustomError("text_invalid", "invalid characters")
        if required and not value.strip():
            raise PydanticCustomError("missing", "required")
        if too_long is not None and len(value) > max_chars:
            raise problem(too_long(max_chars))
        if options is not None and unknown is not None and value.strip() and value.strip() not in options:
            raise problem(unknown(value.strip()))
        return value

    base: dict = {"type": "string"}
    if required:
        base["minLength"] = 1
    if max_chars is not None:
        base["maxLength"] = max_chars
    if options is not None:
        base["enum"] = list(options) if required else ["", *options]
    return Annotated[str | None, AfterValidator(check), WithJsonSchema(_schema(required, base))]


Text = text()
RequiredText = text(required=True)


def _flag(value: bool | None) -> bool:
    return bool(value)


Flag = Annotated[bool | None, AfterValidator(_flag)]  # null and missing read as false
Integer = int | None


def _strings(value):
    """A list whose items must all be strings: the problem is the list's (`archives`), not an item's."""
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                raise PydanticCustomError("string_type", "string expected")
    return value


def codes(*, max_items: int | None = None) -> Any:
    """A list of codes (archive codes): an array of strings, or null."""
    base: dict = {"type": "array", "items": {"type": "string"}}
    if max_items is not None:
        base["maxItems"] = max_items
    return Annotated[list[Text] | None, BeforeValidator(_strings), WithJsonSchema(_schema(False, base))]


def _upload(value):
    if not isinstance(value, Upload):
        raise PydanticCustomError("file_expected", "a file part is expected")
    return value


# A multipart file part (read into portal.requests.applying.Upload by portal.api.bodies).
FILE_SCHEMA = {"type": "string", "format": "binary"}
UploadPart = Annotated[Upload, PlainValidator(_upload), WithJsonSchema(FILE_SCHEMA)]
