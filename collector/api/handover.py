"""The handover PDF as a job over the API: start it, poll its state, fetch the file."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from collector.api.guard import ctx_of
from collector.db.deliverable_tables import HandoverRender
from collector.http.deliverables import handover_file, start_handover
from collector.http.params import int_param
from collector.keys import sessions_key
from collector.services import handover


def state_of(request: web.Request, slug: str, row: HandoverRender, prefix: str) -> dict[str, Any]:
    base = f"{prefix}/sites/{slug}/handover-jobs/{row.id}"
    return {
        "id": row.id, "site_id": slug, "version": row.version, "status": row.status,
        "requested_by": row.requested_by, "created_at": row.created_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "attempts": row.attempts, "error": row.error, "size_bytes": row.size_bytes, "sha256": row.sha256,
        "status_url": base, "file_url": f"{base}/file" if row.status == "done" else None,
    }  # fmt: skip


async def start_job(request: web.Request) -> web.Response:
    row = await start_handover(request, ctx_of(request), request.query.get("version"))
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
    return await handover_file(request, ctx_of(request))
