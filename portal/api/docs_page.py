"""The readable page of the OpenAPI document (GET /api/v1/docs): the document turned into what
templates/api/docs.html lists: per tag, each operation with its parameters, bodies and answers;
then every schema, field by field. Types link to their schemas. No JavaScript, nothing from a CDN."""
from __future__ import annotations

from typing import Any

Part = tuple[str, str | None]  # text, and the anchor it links to


def anchor(name: str) -> str:
    return f"schema-{name}"


def type_parts(schema: dict | None) -> list[Part]:
    """A schema as a short type: `string`, `integer | null`, `array of Task`, `one of: a, b`."""
    if not schema:
        return [("any", None)]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return [(name, "#" + anchor(name))]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts: list[Part] = []
            for i, option in enumerate(schema[key]):
                if i:
                    parts.append((" | ", None))
                parts.extend(type_parts(option))
            return parts
    if "enum" in schema:
        shown = [str(v) if v != "" else '""' for v in schema["enum"]]
        return [("one of: " + ", ".join(shown), None)]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        return [(" | ".join(kind), None)]
    if kind == "array":
        return [("array of ", None), *type_parts(schema.get("items"))]
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return [("object of ", None), *type_parts(schema["additionalProperties"])]
    if schema.get("format") == "binary":
        return [("file", None)]
    if "format" in schema:
        return [(f"{kind} ({schema['format']})", None)]
    return [(kind, None)]


_LIMITS = (("maxLength", "≤ {} characters"), ("minLength", "≥ {} characters"), ("maxItems", "≤ {} items"),
           ("minimum", "≥ {}"), ("maximum", "≤ {}"), ("pattern", "matches {}"))


def constraints(schema: dict) -> list[str]:
    found = []
    for source in (schema, *schema.get("anyOf", ())):
        for key, text in _LIMITS:
            if key in source:
                found.append(text.format(source[key]))
    return found


def rows(schema: dict) -> list[dict[str, Any]]:
    """One row per property of an object schema."""
    required = set(schema.get("required", ()))
    return [{"name": name, "type": type_parts(prop), "required": name in required,
             "description": prop.get("description", ""), "constraints": constraints(prop)}
            for name, prop in schema.get("properties", {}).items()]


def _operation(base: str, path: str, method: str, op: dict) -> dict:
    bodies = []
    for media_type, content in op.get("requestBody", {}).get("content", {}).items():
        schema = content.get("schema", {})
        inline = "$ref" not in schema and "properties" in schema
        bodies.append({"media_type": media_type, "type": type_parts(schema), "rows": rows(schema) if inline else []})
    responses = []
    for status, answer in op.get("responses", {}).items():
        for media_type, content in (answer.get("content") or {"": {}}).items():
            shown = type_parts(content.get("schema")) if media_type else []
            responses.append({"status": status, "description": answer.get("description", ""),
                              "media_type": media_type, "type": shown})
    return {
        "id": op["operationId"], "method": method.upper(), "path": base + path, "summary": op.get("summary", ""),
        "description": op.get("description", ""), "auth": bool(op.get("security")),
        "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                        "type": type_parts(p.get("schema")), "constraints": constraints(p.get("schema", {})),
                        "description": p.get("description") or p.get("schema", {}).get("description", "")}
                       for p in op.get("parameters", ())],
        "bodies": bodies, "body_required": op.get("requestBody", {}).get("required", False),
        "responses": responses,
    }


def _base(op: dict, base: str) -> str:
    """The operation's own server (the peer API's: a node's base URL), else the document's."""
    servers = op.get("servers")
    return servers[0]["url"].rstrip("/") if servers else base


def page_context(doc: dict) -> dict:
    base = doc["servers"][0]["url"]
    groups = []
    for tag in doc["tags"]:
        operations = [_operation(_base(op, base), path, method, op) for path, methods in doc["paths"].items()
                      for method, op in methods.items() if tag["name"] in op.get("tags", ())]
        groups.append({"name": tag["name"], "description": tag.get("description", ""), "operations": operations})
    schemas = [{"name": name, "anchor": anchor(name), "description": schema.get("description", ""),
                "rows": rows(schema), "type": [] if "properties" in schema else type_parts(schema)}
               for name, schema in doc["components"]["schemas"].items()]
    return {"info": doc["info"], "base": base, "groups": groups, "schemas": schemas,
            "security": doc["components"]["securitySchemes"]}
