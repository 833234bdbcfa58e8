"""Hostile devices: hosts that look like ONVIF cameras to discovery, then try to exhaust the agent.

Used by the safety tests (tests/hostile) and nowhere else. Each host answers WS-Discovery probes as a
camera would (unicast, on its own loopback address), so the agent's pipeline finds it, identifies it
as ONVIF and calls it; its HTTP server then answers every SOAP call in its hostile mode:

- ``endless``: a chunked reply that never ends (XML-looking bytes, as fast as the socket takes them);
- ``gzip-bomb``: 2 MB of gzip that inflates to 2 GiB (``Content-Encoding: gzip``);
- ``huge``: a 200 MB reply with an honest Content-Length;
- ``garbage``: random bytes with status 200 and an XML content type;
- ``slow``: headers, then one byte a second (the call timeout must end it);
- ``wsd-flood``: a discovery reply of 40 datagrams, each with 32 matches of new endpoints and long
  scopes (a host inventing endpoints), and HTTP in ``garbage`` mode.

Every loop is bounded (a server never sends for more than MAX_SEND_S or MAX_SEND_BYTES), and stops
when the agent hangs up. Loopback addresses or the caller's own namespaces only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import uuid
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiohttp import web
from defusedxml import ElementTree

log = logging.getLogger(__name__)

MAX_SEND_S = 120.0
MAX_SEND_BYTES = 64 * 1024**3
HUGE_BYTES = 200 * 1024 * 1024
BOMB_INFLATED_BYTES = 2 * 1024**3
CHUNK = 64 * 1024
WSD_PORT = 3702
FLOOD_DATAGRAMS = 40
FLOOD_MATCHES = 32


class Mode(StrEnum):
    ENDLESS = "endless"
    GZIP_BOMB = "gzip-bomb"
    HUGE = "huge"
    GARBAGE = "garbage"
    SLOW = "slow"
    WSD_FLOOD = "wsd-flood"


_bomb: bytes | None = None


def gzip_bomb() -> bytes:
    """2 GiB of zeros as ~2 MB of gzip (built once per process: ~5 s of one core)."""
    global _bomb
    if _bomb is None:
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        zeros = bytes(16 * 1024 * 1024)
        parts = [packer.compress(zeros) for _ in range(BOMB_INFLATED_BYTES // len(zeros))]
        _bomb = b"".join([*parts, packer.flush()])
    return _bomb


# ---------------------------------------------------------------- HTTP (what the ONVIF calls get)


async def _stream(request: web.Request, response: web.StreamResponse, chunk: bytes, total: int) -> None:
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_SEND_S
    sent = 0
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while sent < total and loop.time() < deadline:
            await response.write(chunk)
            sent += len(chunk)


def http_handler(mode: Mode) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        if mode is Mode.ENDLESS:
            response = web.StreamResponse(headers={"Content-Type": "application/soap+xml"})
            response.enable_chunked_encoding()
            await _stream(
                request, response, b"<s:Envelope>" + b"<x>endless</x>" * (CHUNK // 14), MAX_SEND_BYTES
            )
            return response
        if mode is Mode.HUGE:
            body = b"<x>" + b"h" * (CHUNK - 7) + b"</x>\n"
            response = web.StreamResponse(headers={"Content-Type": "application/soap+xml"})
            response.content_length = HUGE_BYTES
            await _stream(request, response, body, HUGE_BYTES)
            return response
        if mode is Mode.GZIP_BOMB:
            return web.Response(
                body=gzip_bomb(),
                headers={"Content-Type": "application/soap+xml", "Content-Encoding": "gzip"},
            )
        if mode is Mode.SLOW:
            response = web.StreamResponse(headers={"Content-Type": "application/soap+xml"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                for _ in range(int(MAX_SEND_S)):
                    await response.write(b"<")
                    await asyncio.sleep(1.0)
            return response
        return web.Response(body=os.urandom(CHUNK), headers={"Content-Type": "application/soap+xml"})

    return handle


# ---------------------------------------------------------------- WS-Discovery (how it is found)

_MATCH = (
    "<d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:{uuid}</a:Address></a:EndpointReference>"
    "<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>{scopes}</d:Scopes>"
    "<d:XAddrs>http://{ip}:{port}/onvif/device_service</d:XAddrs>"
    "<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch>"
)
_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"'
    ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
    "<s:Header><a:MessageID>urn:uuid:{message_id}</a:MessageID>"
    "<a:RelatesTo>{relates_to}</a:RelatesTo>"
    "<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header>"
    "<s:Body><d:ProbeMatches>{matches}</d:ProbeMatches></s:Body></s:Envelope>"
)


def probe_matches(ip: str, port: int, relates_to: str, *, count: int = 1, long_scopes: bool = False) -> bytes:
    scopes = "onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/Hostile"
    if long_scopes:
        scopes = " ".join(f"onvif://www.onvif.org/x/{uuid.uuid4().hex * 2}" for _ in range(12))
    matches = "".join(_MATCH.format(uuid=uuid.uuid4(), scopes=scopes, ip=ip, port=port) for _ in range(count))
    return _ENVELOPE.format(message_id=uuid.uuid4(), relates_to=relates_to, matches=matches).encode()


def _message_id(data: bytes) -> str | None:
    try:
        root = ElementTree.fromstring(data)
    except Exception:  # a probe we cannot read gets no answer, as from a real camera
        return None
    return next((e.text for e in root.iter() if e.tag.endswith("MessageID") and e.text), None)


@dataclass
class _WsdResponder(asyncio.DatagramProtocol):
    ip: str
    http_port: int
    mode: Mode
    transport: asyncio.DatagramTransport | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        relates_to = _message_id(data)
        if relates_to is None or self.transport is None:
            return
        if self.mode is Mode.WSD_FLOOD:
            task = asyncio.ensure_future(self._flood(relates_to, addr))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            return
        self.transport.sendto(probe_matches(self.ip, self.http_port, relates_to), addr)

    async def _flood(self, relates_to: str, addr: tuple[str | Any, int]) -> None:
        for _ in range(FLOOD_DATAGRAMS):
            if self.transport is None or self.transport.is_closing():
                return
            datagram = probe_matches(
                self.ip, self.http_port, relates_to, count=FLOOD_MATCHES, long_scopes=True
            )
            self.transport.sendto(datagram, addr)  # ~50 KB: under the 64 KB a datagram can carry
            await asyncio.sleep(0.005)


# ---------------------------------------------------------------- one hostile host


@dataclass
class HostileHost:
    ip: str
    mode: Mode
    http_port: int
    runner: web.AppRunner | None = None
    wsd: _WsdResponder | None = None

    async def start(self) -> None:
        if not ipaddress.ip_address(self.ip).is_loopback:
            raise ValueError(f"hostile hosts run on loopback addresses only, not {self.ip}")
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", http_handler(self.mode))
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.ip, self.http_port, reuse_address=True).start()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.ip, WSD_PORT))
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_datagram_endpoint(
            lambda: _WsdResponder(self.ip, self.http_port, self.mode), sock=sock
        )
        self.wsd = protocol

    async def stop(self) -> None:
        if self.wsd is not None and self.wsd.transport is not None:
            self.wsd.transport.close()
            for task in list(self.wsd.tasks):
                task.cancel()
        if self.runner is not None:
            await self.runner.cleanup()


def hostile_plan(network: str, per_mode: int, modes: tuple[Mode, ...] = tuple(Mode)) -> dict[str, Mode]:
    """Addresses of a loopback /24 (or smaller) given a mode each, ``per_mode`` hosts per mode, spread
    over the range so that quiet addresses sit between them."""
    net = ipaddress.ip_network(network)
    if not net.is_loopback:
        raise ValueError(f"hostile sites are built on loopback only, not {network}")
    hosts = list(net.hosts())
    wanted = per_mode * len(modes)
    if wanted > len(hosts):
        raise ValueError(f"{wanted} hostile hosts do not fit in {network}")
    step = max(1, len(hosts) // wanted)
    return {str(hosts[i * step]): modes[i % len(modes)] for i in range(wanted)}


async def run_site(plan: dict[str, Mode], http_port: int, ready: asyncio.Event | None = None) -> None:
    """Start every host of ``plan`` and serve until cancelled."""
    if any(mode is Mode.GZIP_BOMB for mode in plan.values()):
        await asyncio.to_thread(gzip_bomb)
    hosts = [HostileHost(ip, mode, http_port) for ip, mode in plan.items()]
    try:
        for host in hosts:
            await host.start()
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        for host in hosts:
            await host.stop()


def main() -> None:  # python -m lab.hostile 127.66.0.0/24 8080  (serves until killed)
    import sys

    network, port = sys.argv[1], int(sys.argv[2])
    per_mode = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    plan = hostile_plan(network, per_mode)
    ready = asyncio.Event()

    async def serve() -> None:
        task = asyncio.ensure_future(run_site(plan, port, ready))
        await ready.wait()
        print(f"ready {len(plan)}", flush=True)
        await task

    asyncio.run(serve())


if __name__ == "__main__":
    main()
