"""The OpenAPI 3.1 document of /api/v1, generated from the route declarations (portal.api.routing)
and their pydantic models (portal.api.schemas, portal.api.responses): JSON Schema 2020-12 is
OpenAPI 3.1's own, so pydantic's schemas go into `components/schemas` as they are.

An `/actions/<action>` route becomes one path per action (`/requests/{number}/actions/withdraw`,
…), each with its own body and answers: what a client, or schemathesis, needs to call it right."""
from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from portal.api.fields import FILE_SCHEMA
from portal.api.responses import Error
from portal.api.routing import Action, Content, Operation, Routes

REF = "#/components/schemas/{model}"
BASE = "/api/v1"
PATH_PARAMS = {
    "number": {"type": "string", "maxLength": 32, "description": "the request number "
                                                                   "({issuing archive code}-{year}-{6 digits})"},
    "task_id": {"type": "string", "maxLength": 32, "description": "a verification task's id"},
    "serial": {"type": "string", "maxLength": 64, "description": "the certificate's serial "
                                                                   "(ZM-{NODE}-{issuing archive code}-{year}-{6 digits}; "
                                                                   "older: without the node, or without ZM)"},
}
INFO = {
    "title": "档案利用服务平台 API (Archive-Utilization Portal API)",
    "version": "1",
    "description": (
        "Search the open catalog, apply for the use of livelihood records, follow a request, and, for "
        "archive staff, work the approval queue and the verification tasks of the network "
        "(跨馆查询、就地出证: query anywhere, issue locally). Answers are UTF-8 JSON; every error is JSON "
        "`{\"error\": …}`, and refused input adds `field` and `errors`. Get a bearer token from "
        "`POST /tokens` with your portal email and password; it lasts 12 hours. The guide with examples: "
        "docs/api.md."),
}


def _openapi_path(rule: str) -> str:
    return rule.replace("<", "{").replace(">", "}")


def _expand(op: Operation):
    """(path, action or None) for each documented operation of a route."""
    path = _openapi_path(op.rule)
    if not op.actions:
        return [(path, None)]
    return [(path.replace("{action}", name), action) for name, action in op.actions.items()]


def _answers(op: Operation, action: Action | None) -> dict[int, Any]:
    """status → response model, Content or None (Error) for everything the operation may answer."""
    answers: dict[int, Any] = {op.status: action.ok if action else op.ok}
    if op.auth:
        answers[401] = None
    if op.query is not None or op.body is not None or action is not None:
        answers[400] = None
    if op.body is not None or action is not None:
        answers[415] = None
    if op.form or (action is not None and action.body.file_parts):
        answers[413] = None
    answers.update(op.errors)
    if action is not None:
        answers[409] = action.conflict
        answers.update(action.errors)
    return answers


def _models(ops: list[Operation]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {Error.__name__: Error}

    def add(model):
        if isinstance(model, type) and issubclass(model, BaseModel):
            found.setdefault(model.__qualname__, model)

    for op in ops:
        add(op.body)
        for _path, action in _expand(op):
            if action is not None:
                add(action.body)
            for model in _answers(op, action).values():
                add(model)
    return list(found.values())


def _untitle(schema: Any) -> Any:
    """pydantic's `title`s repeat the names; the document is easier to read without them."""
    if isinstance(schema, dict):
        if isinstance(schema.get("title"), str):
            del schema["title"]
        if "default" in schema and schema["default"] is None:
            del schema["default"]
        for key, value in schema.items():
            if key in ("properties", "$defs", "patternProperties"):
                for sub in value.values():
                    _untitle(sub)
            elif isinstance(value, (dict, list)) and key not in ("enum", "examples", "default", "const", "required"):
                _untitle(value)
    elif isinstance(schema, list):
        for item in schema:
            _untitle(item)
    return schema


def _not_null(schema: dict) -> dict:
    """A form field's schema: forms have no null."""
    options = schema.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **(rest[0] if len(rest) == 1 else
                                                                          {"anyOf": rest})}
    return schema


def form_schema(model: type[BaseModel], component: dict) -> dict:
    """multipart/form-data for `model`: its fields as text parts, its file parts as files."""
    properties = {name: _not_null(copy.deepcopy(schema)) for name, schema in component.get("properties", {}).items()}
    for part in getattr(model, "file_parts", {}):
        properties[part] = ({"type": "array", "items": FILE_SCHEMA} if len(model.file_parts) > 1
                            else dict(FILE_SCHEMA))
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if component.get("required"):
        schema["required"] = list(component["required"])
    return schema


class _Builder:
    def __init__(self, groups: list[Routes]):
        self.groups = groups
        self.ops = [op for group in groups for op in group.operations]
        mapping, top = models_json_schema([(m, "validation") for m in _models(self.ops)], ref_template=REF)
        self.refs = {model: schema for (model, _mode), schema in mapping.items()}
        self.schemas = _untitle(top.get("$defs", {}))

    def component(self, model: type[BaseModel]) -> dict:
        return self.schemas[self.refs[model]["$ref"].rsplit("/", 1)[1]]

    def response(self, status: int, answer: Any) -> dict:
        if isinstance(answer, Content):
            return {"description": answer.description or HTTPStatus(status).phrase,
                    "content": {answer.media_type: {"schema": answer.schema}}}
        model = answer or Error
        summary = (answer.__doc__ or "").strip().split("\n")[0] if answer not in (None, Error) else ""
        return {"description": summary or HTTPStatus(status).phrase,
                "content": {"application/json": {"schema": dict(self.refs[model])}}}

    def body(self, op: Operation, model: type[BaseModel] | None, form: bool) -> dict | None:
        if op.multipart is not None:
            content = {"application/json": {"schema": dict(self.refs[model])},
                       "multipart/form-data": {"schema": op.multipart}}
            return {"required": True, "content": content}
        if model is None:
            return None
        content = {"application/json": {"schema": dict(self.refs[model])}}
        if form:
            content["multipart/form-data"] = {"schema": form_schema(model, self.component(model))}
        return {"required": op.body_required, "content": content}

    def operation(self, op: Operation, path: str, action: Action | None) -> dict:
        name = path.rsplit("/", 1)[1] if action else None
        out: dict[str, Any] = {
            "tags": [op.tag],
            "operationId": f"{op.endpoint}_{name}" if action else op.endpoint,
            "summary": action.summary if action else op.summary,
        }
        description = action.description if action else op.description
        if description:
            out["description"] = description
        parameters = [{"name": p, "in": "path", "required": True,
                       "schema": dict(PATH_PARAMS.get(p, {"type": "string"}))} for p in _path_params(path)]
        for header, spec in op.headers.items():
            spec = dict(spec)
            parameters.append({"name": header, "in": "header", "required": False,
                               "description": spec.pop("description", ""), "schema": spec})
        if op.query is not None:
            query = _untitle(op.query.model_json_schema(ref_template=REF))
            for pname, schema in query.get("properties", {}).items():
                description = schema.pop("description", "")
                parameter = {"name": pname, "in": "query", "required": pname in query.get("required", ()),
                             "schema": _not_null(schema)}
                if description:
                    parameter["description"] = description
                parameters.append(parameter)
        if parameters:
            out["parameters"] = parameters
        body = self.body(op, action.body if action else op.body, op.form or action is not None)
        if body is not None:
            out["requestBody"] = body
        out["responses"] = {str(status): self.response(status, answer)
                            for status, answer in sorted(_answers(op, action).items())}
        for status, headers in op.response_headers.items():
            out["responses"][str(status)]["headers"] = {k: {"schema": {"type": "string"}, "description": v}
                                                        for k, v in headers.items()}
        if op.auth:
            out["security"] = [{"bearerAuth": []}]
            out["responses"]["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"},
                                                                       "description": "Bearer"}}
        return out

    def document(self) -> dict:
        paths: dict[str, dict] = {}
        for op in self.ops:
            for path, action in _expand(op):
                paths.setdefault(path, {})[op.method.lower()] = self.operation(op, path, action)
        return {
            "openapi": "3.1.0",
            "info": INFO,
            "servers": [{"url": BASE}],
            "tags": [{"name": g.tag, "description": g.description} for g in self.groups if g.operations],
            "paths": paths,
            "components": {
                "schemas": dict(sorted(self.schemas.items())),
                "securitySchemes": {"bearerAuth": {
                    "type": "http", "scheme": "bearer",
                    "description": "a token from POST /tokens (12 hours); the API never reads the log-in cookie"}},
            },
        }


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def document(groups: list[Routes]) -> dict:
    """The OpenAPI 3.1 document of these routes."""
    return _Builder(groups).document()
