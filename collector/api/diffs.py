"""Diffs between any two versions, and between a version and the approved baseline."""

from __future__ import annotations

from aiohttp import web

from collector.api.common import respond
from collector.api.guard import ctx_of
from collector.errors import ApiError, not_found
from collector.http.params import int_param
from collector.keys import config_key, sessions_key, snapshot_cache_key
from collector.services import sites as site_service
from collector.services.diffs import stored_diff


async def diff_versions(request: web.Request) -> web.Response:
    first = int_param(request.query.get("from"), "from")
    second = int_param(request.query.get("to"), "to")
    async with request.app[sessions_key]() as db, db.begin():
        site, _ = await site_service.find_site(
            db, ctx_of(request), request.match_info["site"], view="api:diff"
        )
        body = await stored_diff(
            db, request.app[snapshot_cache_key], request.app[config_key].removed_after_scans,
            site, first, second, "versions",
        )  # fmt: skip
    return respond(body)


async def diff_baseline(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        site, _ = await site_service.find_site(
            db, ctx_of(request), request.match_info["site"], view="api:diff"
        )
        if site.baseline_version is None:
            raise ApiError(409, "no_baseline", f"site {site.slug!r} has no approved baseline yet")
        if not site.latest_version:
            raise not_found(f"versions of site {site.slug!r}")
        version = int_param(request.query.get("version"), "version", default=site.latest_version)
        body = await stored_diff(
            db, request.app[snapshot_cache_key], request.app[config_key].removed_after_scans,
            site, site.baseline_version, version, "baseline",
        )  # fmt: skip
    return respond(body)
