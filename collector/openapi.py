"""The OpenAPI 3.1 document, generated from the routes table and the pydantic body models."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from collector.api.schemas import ErrorBody

if TYPE_CHECKING:
    from collector.routes import Route

_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)}")
_STATUS_TEXT = {
    200: "OK", 201: "Created", 400: "Bad request", 401: "Missing, unknown or revoked bearer token",
    403: "Not permitted", 404: "Not found", 409: "Conflict", 413: "Body too large",
    415: "Unsupported Content-Encoding", 422: "Validation failed: error.field names the field",
    503: "Busy: retry after the Retry-After header's seconds",
}  # fmt: skip


def build_openapi(routes: Iterable[Route]) -> dict[str, Any]:
    routes = list(routes)
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for r in routes:
        if r.body is not None:
            wanted.append((r.body, "validation"))
        if r.response is not None:
            wanted.append((r.response, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template=_REF)

    paths: dict[str, dict[str, Any]] = {}
    for r in routes:
        op: dict[str, Any] = {"operationId": r.name, "summary": r.summary, "parameters": _parameters(r)}
        if r.action != "public":
            op["security"] = [{"bearer": []}]
            op["description"] = f"Needs permission `{r.action}` ({_who(r.action)}); scoped to the caller."
        if r.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(r.body, "validation")]}},
            }
        ok: dict[str, Any] = {"description": _STATUS_TEXT.get(r.status, "OK")}
        if r.response is not None:
            ok["content"] = {r.media_type: {"schema": refs[(r.response, "serialization")]}}
        elif r.media_type != "application/json":  # a file: each of its types, as bytes
            binary = {"schema": {"type": "string", "format": "binary"}}
            ok["content"] = {media: binary for media in r.media_type.split(",")}
        responses: dict[str, Any] = {str(r.status): ok}
        error_schema = {"application/json": {"schema": refs[(ErrorBody, "serialization")]}}
        for status in r.errors:
            responses[str(status)] = {
                "description": _STATUS_TEXT.get(status, "Error"),
                "content": error_schema,
            }
        op["responses"] = responses
        paths.setdefault(r.path, {})[r.method.lower()] = op

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "asbuilt collector",
            "version": "1",
            "description": "Snapshots in, versions, baselines and diffs out. Errors are "
            "{error: {status, code, message, field?, errors?}, request_id}.",
        },
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "version": {"type": "integer"},
    "agent_id": {"type": "integer"},
    "format": {"type": "string", "enum": ["pdf", "xlsx", "csv", "json"]},
}


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _PATH_SCHEMAS.get(name, {"type": "string"}),
        }
        for name in _PATH_PARAM.findall(route.path)
    ]
    params += [
        {"name": p.name, "in": p.where, "required": p.required, "description": p.description,
         "schema": {"type": p.type}}
        for p in route.params
    ]  # fmt: skip
    return params


def _who(action: str) -> str:
    """Who holds a permission, from the one table in collector.auth."""
    from collector.auth import ROLE_ACTIONS, Action

    if action == Action.PUSH_SNAPSHOT:
        return "an enrolled agent"
    roles = [role.value for role, actions in ROLE_ACTIONS.items() if action in actions]
    return ", ".join(roles) + (", a customer's admin" if action == Action.READ_AUDIT else "")
