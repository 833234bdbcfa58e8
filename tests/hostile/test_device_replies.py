"""Issue #14, class 2, per read path: every reply from a device is bounded while it is read.

Real sockets to the hostile hosts of lab/hostile.py (loopback), through the agent's own ONVIF session
(drivers/onvif/transport.py), WS-Discovery collector (drivers/discovery/wsd.py) and the shared
bounded reader (drivers/bounded.py)."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib

import pytest

from drivers import bounded
from drivers.cli.transport import OutputBudget, OutputTooLarge
from drivers.discovery import wsd
from drivers.errors import DeviceTimeout, ProtocolError
from drivers.onvif.transport import MAX_REPLY_BYTES, LiveSession
from lab.hostile import HostileHost, Mode, gzip_bomb, probe_matches

PORT = 18190


@pytest.fixture
async def host(request: pytest.FixtureRequest):
    mode, last_octet = request.param
    if mode is Mode.GZIP_BOMB:
        await asyncio.to_thread(gzip_bomb)  # built before the clock starts (~5 s of one core)
    h = HostileHost(f"127.66.3.{last_octet}", mode, PORT)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.mark.parametrize(
    "host",
    [(Mode.ENDLESS, 1), (Mode.GZIP_BOMB, 2), (Mode.HUGE, 3), (Mode.GARBAGE, 4)],
    ids=["endless-chunked", "gzip-bomb-2MB-to-2GiB", "200MB-reply", "garbage"],
    indirect=True,
)
async def test_an_onvif_reply_is_refused_while_it_is_read(host: HostileHost):
    session = LiveSession(host.ip, PORT, "admin", "secret-pass", timeout_s=20)
    started = time.monotonic()
    try:
        with pytest.raises(ProtocolError) as info:
            await session.call("devicemgmt", "GetSystemDateAndTime", auth=False)
    finally:
        await session.close()
    elapsed = time.monotonic() - started
    if host.mode is Mode.GARBAGE:
        assert "XML" in str(info.value) or "unreadable" in str(info.value)
    else:
        assert "refused while reading" in str(info.value), info.value
    # refused at 4 MB, not after 200 MB / 2 GiB: generous, the machine is shared (a safety bound)
    assert elapsed < 30, f"{host.mode}: {elapsed:.1f} s"


@pytest.mark.parametrize("host", [(Mode.SLOW, 5)], ids=["one-byte-a-second"], indirect=True)
async def test_a_dripping_reply_ends_at_the_call_timeout(host: HostileHost):
    session = LiveSession(host.ip, PORT, "admin", "secret-pass", timeout_s=2)
    try:
        with pytest.raises(DeviceTimeout):
            await session.call("devicemgmt", "GetSystemDateAndTime", auth=False)
    finally:
        await session.close()


# ---------------------------------------------------------------- the bounded reader itself


async def _chunks(data: bytes, size: int = 65536):
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.mark.parametrize(
    ("encoding", "body", "refused"),
    [
        ("gzip", gzip.compress(bytes(50 * 1024 * 1024)), True),  # 50 KB → 50 MB
        ("deflate", zlib.compress(bytes(50 * 1024 * 1024)), True),
        ("deflate", zlib.compress(bytes(50 * 1024 * 1024))[2:-4], True),  # raw deflate, no header
        ("gzip", gzip.compress(b"<ok/>" * 1000), False),
        (None, b"x" * (MAX_REPLY_BYTES + 1), True),
        ("identity", b"<ok/>", False),
    ],
    ids=["gzip-bomb", "deflate-bomb", "raw-deflate-bomb", "small-gzip", "too-long-plain", "plain"],
)
async def test_the_bounded_reader_stops_at_the_limit_compressed_or_not(encoding, body, refused):
    read = bounded.read_bounded(
        _chunks(body), encoding=encoding, raw_limit=MAX_REPLY_BYTES, limit=MAX_REPLY_BYTES
    )
    if refused:
        with pytest.raises(bounded.TooLarge):
            await read
    else:
        assert len(await read) <= MAX_REPLY_BYTES


async def test_the_bounded_reader_refuses_unknown_and_broken_encodings():
    with pytest.raises(bounded.BadEncoding):
        await bounded.read_bounded(_chunks(b"x"), encoding="br", raw_limit=10, limit=10)
    with pytest.raises(bounded.BadEncoding):
        await bounded.read_bounded(_chunks(b"not gzip"), encoding="gzip", raw_limit=100, limit=100)
    with pytest.raises(bounded.BadEncoding):  # truncated
        await bounded.read_bounded(
            _chunks(gzip.compress(b"abc" * 1000)[:-10]), encoding="gzip", raw_limit=10**6, limit=10**6
        )


# ---------------------------------------------------------------- WS-Discovery and SSH output


async def test_a_host_inventing_wsd_endpoints_adds_at_most_a_few_candidates():
    collector = wsd._Collector(sent_ids={"urn:uuid:probe"})
    for _ in range(200):  # 200 datagrams x 32 new endpoints each, with long scopes
        collector.datagram_received(
            probe_matches("127.66.3.9", PORT, "urn:uuid:probe", count=32, long_scopes=True),
            ("127.66.3.9", 3702),
        )
    assert len(collector.found) == wsd.MAX_ENDPOINTS_PER_HOST
    assert all(len(c.wsd_scopes) <= wsd.MAX_ITEMS for c in collector.found.values())


def test_ssh_output_is_refused_once_it_passes_the_budget():
    budget = OutputBudget(limit=1_000_000)
    endless = budget.wrap(lambda: "x" * 65536)  # a channel that always has more to say
    with pytest.raises(OutputTooLarge):
        for _ in range(10_000):
            endless()
    assert budget.used <= 1_000_000 + 65536
    budget.reset()
    assert endless() and budget.used == 65536


async def test_hostile_hosts_refuse_non_loopback_addresses():
    with pytest.raises(ValueError, match="loopback"):
        await HostileHost("10.0.0.5", Mode.GARBAGE, PORT).start()
    await asyncio.sleep(0)
