"""The deliverables over the API: the handover PDF, XLSX, CSV, JSON and the wiring diagram."""

from __future__ import annotations

from aiohttp import web

from collector.api.guard import ctx_of
from collector.http.deliverables import site_export
from collector.services import exports as export_service
from collector.services.exports import Format


async def export(request: web.Request) -> web.Response:
    fmt = export_service.parse_format(request.match_info["format"])
    return await site_export(request, ctx_of(request), fmt, "api")


async def diagram(request: web.Request) -> web.Response:
    return await site_export(request, ctx_of(request), Format.SVG, "api")
