"""Diffs between any two versions, and between a version and the approved baseline."""

from __future__ import annotations

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.api.common import int_param, respond, site_from_path
from collector.api.schemas import DiffResponse, VersionRef
from collector.auth import Action, authenticate, ensure
from collector.db import queries
from collector.db.models import Site
from collector.diff import diff_snapshots
from collector.errors import ApiError, not_found
from collector.ingest import current_absent_scans, load_snapshot
from collector.keys import config_key, sessions_key, snapshot_cache_key


async def diff_versions(request: web.Request) -> web.Response:
    first = int_param(request.query.get("from"), "from")
    second = int_param(request.query.get("to"), "to")
    identity = await authenticate(request)
    async with request.app[sessions_key]() as session:
        site = await site_from_path(request, session)
        ensure(identity, Action.READ_SITE, site.id)
        body = await stored_diff(request, session, site, first, second, "versions")
    return respond(body)


async def diff_baseline(request: web.Request) -> web.Response:
    identity = await authenticate(request)
    async with request.app[sessions_key]() as session:
        site = await site_from_path(request, session)
        ensure(identity, Action.READ_SITE, site.id)
        if site.baseline_version is None:
            raise ApiError(409, "no_baseline", f"site {site.slug!r} has no approved baseline yet")
        if not site.latest_version:
            raise not_found(f"versions of site {site.slug!r}")
        version = int_param(request.query.get("version"), "version", default=site.latest_version)
        body = await stored_diff(request, session, site, site.baseline_version, version, "baseline")
    return respond(body)


async def stored_diff(
    request: web.Request, session: AsyncSession, site: Site, first: int, second: int, against: str
) -> DiffResponse:
    assert site.id is not None
    old_row = await queries.version_meta(session, site.id, first)
    new_row = await queries.version_state(session, site.id, second)
    if old_row is None:
        raise not_found(f"version {first} of site {site.slug!r}")
    if new_row is None:
        raise not_found(f"version {second} of site {site.slug!r}")
    cache = request.app[snapshot_cache_key]
    old = await load_snapshot(session, cache, site.id, first, old_row.content_hash)
    new = await load_snapshot(session, cache, site.id, second, new_row.content_hash)
    diff = diff_snapshots(
        old,
        new,
        absent_scans=current_absent_scans(new_row.absent_streaks, new_row.seen_count),
        removed_after=request.app[config_key].removed_after_scans,
        old_hash=old_row.content_hash,
        new_hash=new_row.content_hash,
    )
    return DiffResponse(
        site_id=site.slug,
        from_=VersionRef(version=first, content_hash=old_row.content_hash),
        to=VersionRef(version=second, content_hash=new_row.content_hash),
        against=against,
        counts=diff.counts(),
        diff=diff,
    )
