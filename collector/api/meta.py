"""GET /api/v1/openapi.json."""

from __future__ import annotations

from aiohttp import web

from collector.keys import openapi_key


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[openapi_key])
