"""The web front of a simulated NAS recorder (Synology DSM): what a TCP sweep and a web client meet.

DSM serves its login page behind nginx on the web port: `GET /` answers 200 with "Server: nginx"
and a page titled after the host; anything else is 404 (there is no ONVIF device service, so a
speculative ONVIF call gets a 404, as on a real DiskStation). Bodies are tiny and fixed.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from lab.host import SimHost
from lab.onvif.server import OnvifServer, base_url
from lab.state import LabState

SHUTDOWN_TIMEOUT_S = 0.5


async def start_nas_web(state: LabState, name: str, host: SimHost) -> OnvifServer:
    async def index(request: web.Request) -> web.StreamResponse:
        device = state.device(name)
        if device is None or name in state.gone:
            raise web.HTTPNotFound()
        page = f"<html><head><title>{device.name} - Synology DiskStation</title></head><body></body></html>"
        return web.Response(text=page, content_type="text/html", headers={"Server": "nginx"})

    async def not_found(request: web.Request) -> web.StreamResponse:
        return web.Response(status=404, text="Not Found", headers={"Server": "nginx"})

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get("/", index)
    app.router.add_route("*", "/{tail:.*}", not_found)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        sock = await asyncio.to_thread(host.tcp_listener, host.ports.http)
        await web.SockSite(runner, sock).start()
    except BaseException:
        await runner.cleanup()
        raise
    return OnvifServer(runner, name, base_url(host))
