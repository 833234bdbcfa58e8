"""The handover PDF as a job over the API: start it, poll its state, fetch the file."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from collector.api.common import int_param
from collector.api.exports import attachment
from collector.api.guard import ctx_of
from collector.db.deliverable_tables import HandoverRender
from collector.jobs.queue import jobs_key
from collector.keys import config_key, sessions_key
from collector.services import handover
from collector.services.context import Ctx


def state_of(request: web.Request, slug: str, row: HandoverRender, prefix: str) -> dict[str, Any]:
    base = f"{prefix}/sites/{slug}/handover-jobs/{row.id}"
    return {
        "id": row.id, "site_id": slug, "version": row.version, "status": row.status,
        "requested_by": row.requested_by, "created_at": row.created_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "attempts": row.attempts, "error": row.error, "size_bytes": row.size_bytes, "sha256": row.sha256,
        "status_url": base, "file_url": f"{base}/file" if row.status == "done" else None,
    }  # fmt: skip


async def start(request: web.Request, ctx: Ctx, version: str | None) -> HandoverRender:
    """Write the row (audited) and commit, then queue the job: a worker never meets a missing row."""
    async with request.app[sessions_key]() as db, db.begin():
        row = await handover.request_render(
            db, ctx, request.match_info["site"], int_param(version, "version") if version else None
        )
    assert row.id is not None
    await request.app[jobs_key].defer(handover.TASK, {"render": row.id}, key=f"handover-{row.id}")
    return row


async def start_job(request: web.Request) -> web.Response:
    row = await start(request, ctx_of(request), request.query.get("version"))
    body = state_of(request, request.match_info["site"], row, "/api/v1")
    return web.json_response(body, status=202, headers={"Location": body["status_url"]})


async def job_state(request: web.Request) -> web.Response:
    render_id = int_param(request.match_info["render"], "render")
    async with request.app[sessions_key]() as db:
        site, row = await handover.find_render(db, ctx_of(request), request.match_info["site"], render_id)
    return web.json_response(
        state_of(request, site.slug, row, "/api/v1"), headers={"Cache-Control": "no-store"}
    )


async def job_file(request: web.Request) -> web.Response:
    return await download(request, ctx_of(request))


async def download(request: web.Request, ctx: Ctx) -> web.Response:
    render_id = int_param(request.match_info["render"], "render")
    async with request.app[sessions_key]() as db, db.begin():
        export = await handover.render_file(
            db, ctx, request.app[config_key].data_dir, request.match_info["site"], render_id
        )
    return attachment(export)
