"""Helpers every view uses: JSON in and out, path and query parameters, the site in the URL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db import queries
from collector.db.models import Site
from collector.errors import ApiError, not_found
from collector.ingest import field_path

M = TypeVar("M", bound=BaseModel)


def now() -> datetime:
    return datetime.now(UTC)


def respond(model: BaseModel | dict[str, Any], status: int = 200) -> web.Response:
    data = model.model_dump(mode="json", by_alias=True) if isinstance(model, BaseModel) else model
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


async def read_model(request: web.Request, model: type[M]) -> M:
    """The JSON body as ``model``, or 422 naming the field that failed."""
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(422, "invalid_json", f"the body is not valid JSON: {exc}", field="$") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": field_path(e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        first = errors[0]
        raise ApiError(
            422, "invalid_body", f"{first['field']}: {first['message']}", field=first["field"], errors=errors
        ) from None


def int_param(value: str | None, name: str, *, default: int | None = None, minimum: int = 1) -> int:
    if value is None or value == "":
        if default is None:
            raise ApiError(422, "missing_parameter", f"the parameter {name!r} is required", field=name)
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(
            422, "invalid_parameter", f"{name} must be an integer, got {value!r}", field=name
        ) from None
    if number < minimum:
        raise ApiError(422, "invalid_parameter", f"{name} must be at least {minimum}", field=name)
    return number


async def site_from_path(request: web.Request, session: AsyncSession) -> Site:
    slug = request.match_info["site"]
    org_id = await queries.default_organization_id(session)
    site = None if org_id is None else await queries.site_by_slug(session, org_id, slug)
    if site is None:
        raise not_found(f"site {slug!r}")
    return site
