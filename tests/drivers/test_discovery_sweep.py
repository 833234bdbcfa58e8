"""Sweeps without raw sockets: scope limits, the kernel neighbour table parser, and a TCP connect
sweep over real sockets on loopback (127.24.2.0/24, where ARP does not exist)."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import pytest

from drivers.discovery.arp import arp_sweep
from drivers.discovery.neigh import parse_proc_net_arp
from drivers.discovery.scope import ScopeTooLarge, chunks, hosts, sweep_network
from drivers.discovery.tcp import tcp_sweep, to_candidates

FIXTURE = Path(__file__).parent.parent / "fixtures" / "discovery" / "proc_net_arp.txt"


def test_proc_net_arp_keeps_complete_entries_in_scope_only() -> None:
    text = FIXTURE.read_text()
    got = parse_proc_net_arp(text, ipaddress.IPv4Network("10.77.0.0/24"), "asb0")
    assert [(c.ip, c.mac) for c in got] == [
        ("10.77.0.21", "ac:cc:8e:5a:01:01"),
        ("10.77.0.31", "c0:56:e3:44:10:01"),
        ("10.77.0.41", "3c:ef:8c:9b:30:01"),  # flags 0x6: complete and permanent
    ]
    assert all(c.sources == {"neigh"} for c in got)
    assert [c.ip for c in parse_proc_net_arp(text)] == [
        "10.77.0.21",
        "10.77.0.31",
        "10.77.0.41",
        "192.168.5.1",
    ]


def test_scope_larger_than_the_limit_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ScopeTooLarge, match="65536"):
        sweep_network("10.0.0.0/15")
    assert sweep_network("10.0.0.0/16").num_addresses == 65536
    with pytest.raises(ScopeTooLarge):
        sweep_network("10.0.0.0/24", max_addresses=128)


async def test_arp_sweep_refuses_before_sending_anything() -> None:
    with pytest.raises(ScopeTooLarge):
        await arp_sweep("10.0.0.0/8", None, 0.1)


def test_a_slash_16_is_walked_lazily_in_blocks() -> None:
    network = sweep_network("10.1.0.0/16")
    walk = hosts(network)
    assert next(walk) == "10.1.0.1"  # a generator: nothing materialised
    assert sum(1 for _ in chunks(network, 22)) == 64


async def test_tcp_sweep_finds_open_ports_on_loopback() -> None:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    servers = [
        await asyncio.start_server(accept, "127.24.2.10", 0),
        await asyncio.start_server(accept, "127.24.2.11", 0),
    ]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    try:
        targets = (f"127.24.2.{n}" for n in range(1, 31))  # a generator, as for a /16
        found = await tcp_sweep(targets, ports, concurrency=16, timeout_s=0.5)
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()
    assert found == {"127.24.2.10": {ports[0]}, "127.24.2.11": {ports[1]}}
    assert [c.open_ports for c in to_candidates(found)] == [{ports[0]}, {ports[1]}]
