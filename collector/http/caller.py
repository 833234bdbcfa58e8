"""Who is calling, as both guards leave it on the request: ``IDENTITY`` (set by ``api/guard.py`` from
a bearer token, by ``web/guard.py`` from the browser session) and the client address (behind the
configured trusted proxies), read once per request."""

from __future__ import annotations

from aiohttp import web

from collector.auth import Identity
from collector.keys import config_key
from collector.throttle import client_address

IDENTITY = web.RequestKey("asbuilt_identity", Identity)
CLIENT = web.RequestKey("asbuilt_client", str)


def client_of(request: web.Request) -> str:
    if CLIENT not in request:
        request[CLIENT] = client_address(request, request.app[config_key].trusted_networks)
    return request[CLIENT]
