"""The handover PDF on the pages: start the job (a form), a status page htmx polls until the file
is ready, the download; and the sealed PDF with the passwords, rendered for its one request."""

from __future__ import annotations

from aiohttp import web

from collector.http.deliverables import attachment, handover_file, sources_of, start_handover
from collector.http.params import int_param
from collector.keys import sessions_key
from collector.services import exports as export_service
from collector.services import handover
from collector.services.exports import Format
from collector.web.guard import ctx, form_with_csrf
from collector.web.render import redirect, render, url


async def start_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    row = await start_handover(request, ctx(request), form.get("version"))
    assert row.id is not None
    return redirect(url(request, "web-handover", site=request.match_info["site"], render=str(row.id)))


async def status_page(request: web.Request) -> web.Response:
    render_id = int_param(request.match_info["render"], "render")
    async with request.app[sessions_key]() as db:
        site, row = await handover.find_render(db, ctx(request), request.match_info["site"], render_id)
    response = await render(request, "pages/sites/handover.html", area="sites", site=site, job=row)
    response.headers["Cache-Control"] = "no-store"
    return response


async def file_download(request: web.Request) -> web.Response:
    return await handover_file(request, ctx(request))


async def sealed_submit(request: web.Request) -> web.Response:
    """The PDF with the credentials annex: every value revealed is audited; never stored or cached."""
    form = await form_with_csrf(request)
    version = form.get("version")
    export = await export_service.export_site(
        request.app[sessions_key], ctx(request), sources_of(request.app), request.match_info["site"],
        Format.PDF, version=int_param(version, "version") if version else None, credentials=True, via="web",
    )  # fmt: skip
    return attachment(export)
