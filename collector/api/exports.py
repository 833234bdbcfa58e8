"""The deliverables over the API: the handover PDF, XLSX, CSV, JSON and the wiring diagram."""

from __future__ import annotations

from aiohttp import web

from collector.api.common import int_param
from collector.api.guard import ctx_of
from collector.errors import ApiError
from collector.keys import attachment_store_key, config_key, sessions_key, snapshot_cache_key, vault_keys_key
from collector.services import exports as export_service
from collector.services.context import Ctx
from collector.services.exports import Export, Format


def sources_of(app: web.Application) -> export_service.Sources:
    return export_service.Sources(
        cache=app[snapshot_cache_key],
        removed_after=app[config_key].removed_after_scans,
        keys=app[vault_keys_key],
        store=app[attachment_store_key],
    )


def flag_param(value: str | None, name: str) -> bool:
    if value in (None, "", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ApiError(422, "invalid_parameter", f"{name} must be 1 or 0", field=name)


def attachment(export: Export) -> web.Response:
    return web.Response(body=export.body, content_type=export.media_type, headers=export.headers)


async def download(request: web.Request, ctx: Ctx, fmt: Format, via: str) -> web.Response:
    """One deliverable of ``?version=N`` (default latest); ``?credentials=1`` adds the passwords annex."""
    version = request.query.get("version")
    export = await export_service.export_site(
        request.app[sessions_key],
        ctx,
        sources_of(request.app),
        request.match_info["site"],
        fmt,
        version=int_param(version, "version") if version is not None else None,
        credentials=flag_param(request.query.get("credentials"), "credentials"),
        via=via,
    )
    return attachment(export)


async def export(request: web.Request) -> web.Response:
    fmt = export_service.parse_format(request.match_info["format"])
    return await download(request, ctx_of(request), fmt, "api")


async def diagram(request: web.Request) -> web.Response:
    return await download(request, ctx_of(request), Format.SVG, "api")
