"""One simulated ONVIF device: an aiohttp SOAP 1.2 server on the device's own address.

The answer to a request is decided by `respond` (pure: device state and bytes in, status and bytes
out); the aiohttp handler around it only adds what needs the network or the clock:
- the device is looked up in the lab state on every request, so site changes apply live;
- a device that is gone (unplugged, removed, or `gone_after_discovery`) never answers: the request
  is held for a bounded time and the connection is then dropped, as a client of a dead camera sees;
- `slow_reply_s` delays every answer;
- the HTTP `Date` header comes from the device's own (possibly skewed) clock, like real firmware.

Fault behaviour, as cameras show it:
- wrong or missing credentials on a protected operation: HTTP 400/401 (per vendor) with
  `ter:NotAuthorized` "Sender not authorized"; `reject_credentials` makes every protected call fail so;
- unknown operation: HTTP 500 with `ter:ActionNotSupported`; malformed request: 400 `ter:WellFormed`;
- `invalid_xml`: answers to protected calls are cut off mid-document;
- `invalid_utf8`: GetDeviceInformation carries a byte sequence that is not UTF-8 inside <Model>.
- `services_broken`: GetServices and GetCapabilities crash the firmware's SOAP handler (HTTP 500 with
  an HTML page), while every other operation answers (the class of home-assistant/core#73861:
  the service list is what fails, not the device).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from lab.host import SimHost
from lab.onvif import device_service, media_service, recorder_service, vendor
from lab.onvif.auth import token_is_valid
from lab.onvif.context import SERVICE_PATHS, Ctx, Handler
from lab.onvif.soap import (
    ACTION_NOT_SUPPORTED,
    WELL_FORMED,
    BadXml,
    SoapFault,
    envelope,
    not_authorized,
    parse_request,
)
from lab.site import OnvifDevice
from lab.state import LabState

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024
GONE_HOLD_S = 30.0  # how long a request to a dead device hangs before the connection drops
SHUTDOWN_TIMEOUT_S = 0.5

OPERATIONS: dict[str, dict[str, Handler]] = {
    "device": device_service.OPERATIONS,
    "media": media_service.OPERATIONS,
    "recording": recorder_service.RECORDING_OPERATIONS,
    "search": recorder_service.SEARCH_OPERATIONS,
}
SOAP_CONTENT_TYPE = "application/soap+xml"
BROKEN_SERVICE_LIST = frozenset({"GetServices", "GetCapabilities"})
SERVER_ERROR_PAGE = b"<html><head><title>500</title></head><body>500 Internal Server Error</body></html>"
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def device_clock(device: OnvifDevice) -> dt.datetime:
    """The device's idea of now: true UTC shifted by its clock fault."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=device.faults.clock_offset_s)


def base_url(host: SimHost) -> str:
    port = host.ports.http
    return f"http://{host.ip}" if port == 80 else f"http://{host.ip}:{port}"


def respond(ctx: Ctx, service: str, data: bytes) -> tuple[int, bytes]:
    """The device's answer to one SOAP request on one service path: (HTTP status, body)."""
    try:
        req = parse_request(data)
    except BadXml:
        return _fault(WELL_FORMED)
    device = ctx.device
    style = vendor.style(device)
    protected = req.operation not in style.pre_auth
    if protected:
        token = req.token
        if (
            token is None
            or device.faults.reject_credentials
            or not token_is_valid(token, device.credential, ctx.now)
        ):
            return _fault(not_authorized(style.unauthorized_status))
    if device.faults.services_broken and req.operation in BROKEN_SERVICE_LIST:
        return 500, SERVER_ERROR_PAGE
    handlers = OPERATIONS[service] if service in ctx.services() else {}
    handler = handlers.get(req.operation)
    unimplemented = {*style.unsupported, *device.faults.unsupported_operations}
    if handler is None or req.operation in unimplemented:
        return _fault(ACTION_NOT_SUPPORTED)
    result = handler(ctx, req)
    if isinstance(result, SoapFault):
        return _fault(result)
    payload = envelope(result).encode()
    if req.operation == "GetDeviceInformation" and device.faults.invalid_utf8:
        payload = payload.replace(b"</tds:Model>", b"\xc3\x28\xff</tds:Model>", 1)
    if protected and device.faults.invalid_xml:
        payload = payload[: len(payload) * 2 // 3]
    return 200, payload


def _fault(fault: SoapFault) -> tuple[int, bytes]:
    return fault.status, fault.xml().encode()


class OnvifServer:
    """A running device web server; `close()` stops it and drops open connections."""

    def __init__(self, runner: web.AppRunner, name: str, url: str) -> None:
        self._runner = runner
        self.name = name
        self.url = url

    async def close(self) -> None:
        await self._runner.cleanup()


class _DeviceApp:
    def __init__(self, state: LabState, name: str, host: SimHost) -> None:
        self.state = state
        self.name = name
        self.host = host

    def _live_device(self) -> OnvifDevice | None:
        if self.name in self.state.gone:
            return None
        device = self.state.device(self.name)
        if device is None or device.faults.gone_after_discovery:
            return None
        return device

    def handler_for(self, service: str) -> _Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self.handle(request, service)

        return handle

    @web.middleware
    async def silent_when_gone(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        """Before routing, so a dead device answers no path and no method at all."""
        if self._live_device() is None:
            return await _hang_up(request)
        return await handler(request)

    async def handle(self, request: web.Request, service: str) -> web.StreamResponse:
        device = self._live_device()
        if device is None:
            return await _hang_up(request)
        data = await request.read()  # bounded by client_max_size: larger bodies get 413
        if device.faults.slow_reply_s > 0:
            await asyncio.sleep(device.faults.slow_reply_s)
        now = device_clock(device)
        ctx = Ctx(self.state.site, device, now, base_url(self.host), self.host.ports.http)
        status, body = respond(ctx, service, data)
        headers = {
            "Server": vendor.style(device).server_header,
            "Date": email.utils.format_datetime(now, usegmt=True),
        }
        return web.Response(
            status=status, body=body, content_type=SOAP_CONTENT_TYPE, charset="utf-8", headers=headers
        )


async def _hang_up(request: web.Request) -> web.StreamResponse:
    """Say nothing for a while, then drop the connection: what a client of a dead device sees."""
    await asyncio.sleep(GONE_HOLD_S)
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError  # aiohttp ends a cancelled handler quietly, without a 500 or a log line


async def start_onvif(state: LabState, name: str, host: SimHost) -> OnvifServer:
    """Serve device `name` of the lab on host.ip:host.ports.http until `close()`."""
    device_app = _DeviceApp(state, name, host)
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[device_app.silent_when_gone])
    for service, path in SERVICE_PATHS.items():
        app.router.add_post(path, device_app.handler_for(service))
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        sock = await asyncio.to_thread(host.tcp_listener, host.ports.http)
        await web.SockSite(runner, sock).start()
    except BaseException:
        await runner.cleanup()
        raise
    log.debug("onvif %s listening on %s", name, base_url(host))
    return OnvifServer(runner, name, base_url(host))
