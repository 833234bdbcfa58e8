"""The deliverables as HTTP, for the API and the pages alike (same bytes, same audit, only ``via``
differs): a site's export or diagram, a fleet spreadsheet, the handover PDF job (start it, fetch its
file), and the public URL of a share link."""

from __future__ import annotations

from aiohttp import web

from collector.db.deliverable_tables import HandoverRender
from collector.http.params import flag_param, int_param
from collector.jobs.queue import jobs_key
from collector.keys import attachment_store_key, config_key, sessions_key, snapshot_cache_key, vault_keys_key
from collector.services import exports as export_service
from collector.services import fleet as fleet_service
from collector.services import handover
from collector.services.context import Ctx
from collector.services.exports import Export, Format


def sources_of(app: web.Application) -> export_service.Sources:
    return export_service.Sources(
        cache=app[snapshot_cache_key],
        removed_after=app[config_key].removed_after_scans,
        keys=app[vault_keys_key],
        store=app[attachment_store_key],
    )


def attachment(export: Export) -> web.Response:
    return web.Response(body=export.body, content_type=export.media_type, headers=export.headers)


async def site_export(request: web.Request, ctx: Ctx, fmt: Format, via: str) -> web.Response:
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


async def fleet_export(request: web.Request, ctx: Ctx, via: str) -> web.Response:
    customer_id = fleet_service.parse_customer_id(request.match_info["customer"])
    fmt = fleet_service.parse_fleet_format(request.match_info["format"])
    text = request.query.get("report")
    report = fleet_service.parse_report(text) if text else None
    export = await fleet_service.export_fleet(
        request.app[sessions_key], ctx, request.app[snapshot_cache_key], customer_id, fmt,
        report, via=via,
    )  # fmt: skip
    return web.Response(body=export.body, content_type=export.media_type, headers=export.headers)


async def start_handover(request: web.Request, ctx: Ctx, version: str | None) -> HandoverRender:
    """Write the row (audited) and commit, then queue the job: a worker never meets a missing row."""
    async with request.app[sessions_key]() as db, db.begin():
        row = await handover.request_render(
            db, ctx, request.match_info["site"], int_param(version, "version") if version else None
        )
    assert row.id is not None
    await request.app[jobs_key].defer(handover.TASK, {"render": row.id}, key=f"handover-{row.id}")
    return row


async def handover_file(request: web.Request, ctx: Ctx) -> web.Response:
    render_id = int_param(request.match_info["render"], "render")
    async with request.app[sessions_key]() as db, db.begin():
        export = await handover.render_file(
            db, ctx, request.app[config_key].data_dir, request.match_info["site"], render_id
        )
    return attachment(export)


def share_url(request: web.Request, token: str) -> str:
    """The share page's absolute URL: under ``public_url`` when configured, else this request's host."""
    base = request.app[config_key].public_url
    path = str(request.app.router["web-share"].url_for(token=token))
    return (base.rstrip("/") if base else f"{request.scheme}://{request.host}") + path
