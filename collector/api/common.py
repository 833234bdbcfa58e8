"""Helpers every API view uses: JSON in and out, the idempotency header, the site in the URL. Ids,
search terms and flags are parsed in ``collector/http/params.py``, shared with the pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db import queries
from collector.db.models import Site
from collector.errors import ApiError, not_found
from collector.ingest import load_json, validation_error
from drivers.schema import storable

M = TypeVar("M", bound=BaseModel)


def is_storable(text: str) -> bool:
    try:
        storable(text)
    except ValueError:
        return False
    return True


def now() -> datetime:
    return datetime.now(UTC)


def respond(model: BaseModel | dict[str, Any], status: int = 200) -> web.Response:
    data = model.model_dump(mode="json", by_alias=True) if isinstance(model, BaseModel) else model
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


async def read_model(request: web.Request, model: type[M]) -> M:
    """The JSON body as ``model``, or 422 naming the field that failed (bounded like a snapshot)."""
    data = load_json(await request.read())
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, "invalid_body") from None


_TOKEN_CHARS = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII: what a header value can carry safely


def token_header(request: web.Request, name: str) -> str | None:
    """An opaque token header (Idempotency-Key): 1-200 visible ASCII characters, else 422."""
    value = request.headers.get(name, "").strip()
    if not value:
        return None
    if not _TOKEN_CHARS.fullmatch(value):
        raise ApiError(
            422,
            "invalid_header",
            f"{name} must be 1-200 visible ASCII characters (letters, digits, punctuation)",
            field=name,
        )
    return value


async def site_from_path(request: web.Request, session: AsyncSession) -> Site:
    slug = request.match_info["site"]
    if len(slug) > 200 or not is_storable(slug):  # no such site can exist; the database may not take it
        raise not_found("site")
    org_id = await queries.default_organization_id(session)
    site = None if org_id is None else await queries.site_by_slug(session, org_id, slug)
    if site is None:
        raise not_found(f"site {slug!r}")
    return site
