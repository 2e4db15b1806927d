"""Declaring API routes: one decorator says the URL, who may call it, what it takes and what it
answers; that one declaration registers the Flask view and describes the operation in the
OpenAPI document (portal.api.openapi).

    routes = Routes("requests", "利用申请 (utilization requests)")

    @routes.get("/requests/<number>", summary="…", ok=RequestDetail, errors={404: Error})
    def request_detail(number): …

`auth=True` (the default) wraps the view in token_required and documents the bearer token and the
401; `query`, `body` (JSON; `form=True`: also form/multipart, with the model's file parts) add the
400 (and 415); `actions` turns `/…/actions/<action>` into one documented operation per action,
each with its own body and answers. Each module keeps its own Routes; portal.api.views puts them
on the blueprint, so no module imports the blueprint and none imports another through it."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Blueprint
from pydantic import BaseModel

from portal.api.auth import token_required


@dataclass(frozen=True)
class Content:
    """An answer that is not JSON (a PDF, an HTML page)."""
    media_type: str
    schema: dict = field(default_factory=lambda: {"type": "string"})
    description: str = ""


@dataclass(frozen=True)
class Action:
    """One action of an `/actions/<action>` route: its body, its 200 and 409 answers."""
    body: type[BaseModel]
    ok: type[BaseModel]
    conflict: type[BaseModel]
    summary: str
    description: str = ""
    errors: dict[int, Any] = field(default_factory=dict)


@dataclass
class Operation:
    method: str
    rule: str  # Flask's, under /api/v1
    view: Callable
    tag: str
    summary: str
    description: str = ""
    auth: bool = True
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    form: bool = False
    body_required: bool = False
    multipart: dict | None = None  # a multipart/form-data schema of its own (default: from `body`)
    ok: Any = None  # a response model, a Content, or None
    status: int = 200
    errors: dict[int, Any] = field(default_factory=dict)  # other answers: status → model (None: Error)
    path: dict[str, dict] = field(default_factory=dict)  # path parameter → schema
    headers: dict[str, dict] = field(default_factory=dict)  # request header → schema (+ description)
    response_headers: dict[str, dict] = field(default_factory=dict)
    actions: dict[str, Action] | None = None

    @property
    def endpoint(self) -> str:
        return self.view.__name__


class Routes:
    """The routes of one API module (one OpenAPI tag)."""

    def __init__(self, tag: str, description: str = ""):
        self.tag = tag
        self.description = description
        self.operations: list[Operation] = []

    def route(self, method: str, rule: str, *, summary: str, auth: bool = True,
              errors: dict[int, Any] | tuple[int, ...] = (), **declared):
        def decorator(view):
            wrapped = token_required(view) if auth else view
            self.operations.append(Operation(
                method=method, rule=rule, view=wrapped, tag=self.tag, summary=summary, auth=auth,
                errors=errors if isinstance(errors, dict) else dict.fromkeys(errors),
                description=declared.pop("description", None) or inspect.cleandoc(view.__doc__ or ""),
                **declared))
            return wrapped
        return decorator

    def get(self, rule: str, **declared):
        return self.route("GET", rule, **declared)

    def post(self, rule: str, **declared):
        return self.route("POST", rule, **declared)

    def delete(self, rule: str, **declared):
        return self.route("DELETE", rule, **declared)

    def register(self, bp: Blueprint) -> None:
        for op in self.operations:
            bp.add_url_rule(op.rule, op.endpoint, op.view, methods=[op.method])
