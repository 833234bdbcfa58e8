"""The HTTP Server header as a vendor hint (#8 class 2): read with one bounded HEAD from a real
socket on loopback, before the first login, so a camera whose MAC and discovery say nothing still
gets its own vendor's login first. A silent, flooding or non-HTTP port costs one short timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from agent.collect import Collector
from agent.config import ScanConfig
from agent.credentials import CredentialBook, parse_credentials
from agent.identify import plan_for
from drivers.base import Candidate, Ports
from drivers.discovery.http_banner import HEAD_LIMIT, parse_server_header, server_header
from tests.agent import fakes
from tests.agent.fakes import Behaviour, fake_drivers

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def web() -> AsyncIterator[Callable[[Handler], Awaitable[int]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> int:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def replying(head: bytes) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(head)
        await writer.drain()
        writer.close()

    return handle


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(5)
    writer.close()


async def flooding(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nX-Filler: ")
    try:
        for _ in range(2000):  # bounded: 2000 × 1 KiB at most
            writer.write(b"a" * 1024)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()


def test_the_parser_reads_the_server_header_and_nothing_else() -> None:
    head = b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/html\r\nserver:  App-webs/\r\n\r\n<html>"
    assert parse_server_header(head) == "App-webs/"
    assert parse_server_header(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n") is None
    assert parse_server_header(b"SSH-2.0-OpenSSH_8.0\r\n") is None  # not HTTP at all
    assert parse_server_header(b"HTTP/1.1 200 OK\r\nServer: Webs\x00\x07\r\n\r\n") == "Webs"
    assert len(parse_server_header(b"HTTP/1.1 200 OK\r\nServer: " + b"x" * 5000) or "") == 120


async def test_a_real_web_port_gives_its_server_header(web: Callable[[Handler], Awaitable[int]]) -> None:
    port = await web(replying(b"HTTP/1.1 401 Unauthorized\r\nServer: App-webs/\r\nContent-Length: 0\r\n\r\n"))
    assert await server_header("127.0.0.1", port) == "App-webs/"


@pytest.mark.parametrize("handler", [silent, flooding, replying(b"\x16\x03\x01 not http\r\n\r\n")])
async def test_a_silent_flooding_or_foreign_port_costs_one_short_timeout(
    web: Callable[[Handler], Awaitable[int]], handler: Handler
) -> None:
    port = await web(handler)
    started = time.perf_counter()
    assert await server_header("127.0.0.1", port, timeout_s=0.3) is None
    assert time.perf_counter() - started < 1.0


async def test_a_closed_port_is_none_at_once() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    assert await server_header("127.0.0.1", port, timeout_s=0.3) is None
    assert HEAD_LIMIT <= 8192  # the most a reply head may cost


CREDS = [
    {"name": "dahua-admin", "username": "admin", "password": "dahua-pw", "vendors": ["Dahua"]},
    {"name": "hik-admin", "username": "admin", "password": "hik-pw", "vendors": ["Hikvision"]},
]


@pytest.mark.parametrize("probe", [True, False])
async def test_the_server_header_orders_the_logins_before_the_first_try(
    web: Callable[[Handler], Awaitable[int]], monkeypatch: pytest.MonkeyPatch, probe: bool
) -> None:
    monkeypatch.setattr(fakes, "BEHAVIOUR", Behaviour())
    port = await web(replying(b"HTTP/1.1 401 Unauthorized\r\nServer: App-webs/\r\n\r\n"))
    ports = Ports(http=port, snmp=1161, ssh=2222)
    fakes.BEHAVIOUR.passwords["127.0.0.1"] = "hik-pw"
    config = ScanConfig.model_validate({"scopes": ["127.0.0.1/32"], "ports": ports.model_dump()})
    book = CredentialBook(parse_credentials(CREDS), max_failures=3)
    collector = Collector(config, book, fake_drivers(), server_header=server_header if probe else None)
    # A WS-Discovery camera with a locally administered MAC: no OUI, no scopes, no mDNS.
    camera = Candidate(
        ip="127.0.0.1", mac="02:00:00:00:00:01", sources={"wsd"}, wsd_endpoint="urn:uuid:1", open_ports={port}
    )
    (result,) = await collector.collect_all([plan_for(camera, fake_drivers(), ports)])
    tried = [call[2] for call in fakes.BEHAVIOUR.calls if call[0] == "onvif"]
    if probe:
        assert tried == ["hik-admin"]  # its own vendor's login first, the other never spent
        assert result.plan.candidate.http_server == "App-webs/"
    else:
        assert tried == ["dahua-admin", "hik-admin"]  # without the hint: file order
    assert [r.credential for r in result.reports] == ["hik-admin"]
