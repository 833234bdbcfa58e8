"""The approved baseline of a site: read it with its history, approve a version (If-Match aware)."""

from __future__ import annotations

import re

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.api.common import read_model, respond
from collector.api.guard import ctx_of
from collector.api.schemas import BaselinePublic, BaselineRequest, BaselineState
from collector.db import queries
from collector.db.models import Site
from collector.errors import ApiError
from collector.keys import sessions_key
from collector.services import sites as site_service

_ETAG = re.compile(r'^\s*(?:W/)?"r(\d{1,12})"\s*$')


def if_match_revision(request: web.Request) -> int | None:
    """The site revision an If-Match header names ("r3"), None when absent; 412 when unreadable."""
    value = request.headers.get("If-Match")
    if value is None:
        return None
    match = _ETAG.match(value)
    if match is None:
        raise ApiError(412, "precondition_failed", 'If-Match must be an ETag of this API, like "r3"',
                       field="If-Match")  # fmt: skip
    return int(match.group(1))


async def _state(db: AsyncSession, site: Site) -> BaselineState:
    assert site.id is not None
    history = [
        BaselinePublic.model_validate(b.model_dump()) for b in await queries.baseline_history(db, site.id)
    ]
    return BaselineState(site_id=site.slug, current=history[0] if history else None, history=history)


async def get_baseline(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        site, _ = await site_service.find_site(
            db, ctx_of(request), request.match_info["site"], view="api:baseline"
        )
        state = await _state(db, site)
    response = respond(state)
    response.headers["ETag"] = site_service.site_etag(site)
    return response


async def approve_baseline(request: web.Request) -> web.Response:
    body = await read_model(request, BaselineRequest)
    base = if_match_revision(request)
    base = body.base_revision if base is None else base
    async with request.app[sessions_key]() as db, db.begin():
        site, _ = await site_service.approve_baseline(
            db, ctx_of(request), request.match_info["site"], body.version, body.note, base_revision=base
        )
        state = await _state(db, site)
    response = respond(state, status=201)
    response.headers["ETag"] = site_service.site_etag(site)
    return response
