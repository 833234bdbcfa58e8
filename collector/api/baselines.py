"""The approved baseline of a site: read it with its history, approve a version."""

from __future__ import annotations

from aiohttp import web

from collector.api.common import now, read_model, respond, site_from_path
from collector.api.schemas import BaselinePublic, BaselineRequest, BaselineState
from collector.auth import Action, authenticate, ensure
from collector.db import queries
from collector.errors import not_found
from collector.keys import sessions_key


async def get_baseline(request: web.Request) -> web.Response:
    identity = await authenticate(request)
    async with request.app[sessions_key]() as session:
        site = await site_from_path(request, session)
        ensure(identity, Action.READ_SITE, site.id)
        assert site.id is not None
        history = [
            BaselinePublic.model_validate(b.model_dump())
            for b in await queries.baseline_history(session, site.id)
        ]
    return respond(BaselineState(site_id=site.slug, current=history[0] if history else None, history=history))


async def approve_baseline(request: web.Request) -> web.Response:
    body = await read_model(request, BaselineRequest)
    identity = await authenticate(request)
    async with request.app[sessions_key]() as session, session.begin():
        site = await site_from_path(request, session)
        ensure(identity, Action.APPROVE_BASELINE, site.id)
        assert site.id is not None
        note, approver = body.note, identity.name
        approved = await queries.approve_baseline(session, site, body.version, approver, note, now())
        if approved is None:
            raise not_found(f"version {body.version} of site {site.slug!r}")
        history = [
            BaselinePublic.model_validate(b.model_dump())
            for b in await queries.baseline_history(session, site.id)
        ]
    return respond(BaselineState(site_id=site.slug, current=history[0], history=history), status=201)
