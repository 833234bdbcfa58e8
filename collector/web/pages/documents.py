"""A site's deliverables on the pages: the downloads (same bytes and audit as the API's) and the
wiring diagram page (the SVG shown in a scrollable, zoomable frame)."""

from __future__ import annotations

from aiohttp import web

from collector.db import queries
from collector.errors import not_found
from collector.http.deliverables import site_export
from collector.http.params import int_param
from collector.keys import sessions_key
from collector.services import exports as export_service
from collector.services import sites as site_service
from collector.services.exports import Format
from collector.web.guard import ctx
from collector.web.render import render


async def export_download(request: web.Request) -> web.Response:
    fmt = export_service.parse_format(request.match_info["format"])
    return await site_export(request, ctx(request), fmt, "web")


async def diagram_svg(request: web.Request) -> web.Response:
    return await site_export(request, ctx(request), Format.SVG, "web")


async def diagram_page(request: web.Request) -> web.Response:
    version = request.query.get("version")
    async with request.app[sessions_key]() as db, db.begin():
        site, customer = await site_service.find_site(
            db, ctx(request), request.match_info["site"], view="diagram"
        )
        assert site.id is not None
        number = int_param(version, "version") if version is not None else site.latest_version
        if number and await queries.version_meta(db, site.id, number) is None:
            raise not_found(f"version {number} of site {site.slug!r}")
    return await render(
        request, "pages/sites/diagram.html", area="sites", site=site, customer=customer, version=number
    )
