"""Hosts on the local segment without raw sockets: make the kernel resolve them, then read its table.

No CAP_NET_RAW needed. One empty UDP datagram to port 9 (discard) per address makes the kernel
send an ARP request; answered entries then appear in /proc/net/arp with the ATF_COM flag.
Addresses are poked in blocks so the neighbour table (gc_thresh3, 1024 entries by default) is
never flooded with INCOMPLETE entries from a large scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Iterable
from pathlib import Path

from drivers.base import Candidate
from drivers.normalize import canonical_mac

PROC_NET_ARP = Path("/proc/net/arp")
ATF_COM = 0x2  # entry complete: the neighbour answered
DISCARD_PORT = 9
BLOCK = 512


def parse_proc_net_arp(
    text: str, network: ipaddress.IPv4Network | None = None, interface: str | None = None
) -> list[Candidate]:
    """/proc/net/arp content → candidates with IP and MAC, complete entries only.

    Example line:: ``10.77.0.21  0x1  0x2  ac:cc:8e:5a:01:01  *  eth0``
    """
    found: dict[str, Candidate] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 6:
            continue
        ip, _hw_type, flags, mac, _mask, device = fields[:6]
        try:
            complete = int(flags, 16) & ATF_COM
            address = ipaddress.IPv4Address(ip)
            mac = canonical_mac(mac)
        except ValueError:
            continue
        if not complete or mac == "00:00:00:00:00:00":
            continue
        if (network is not None and address not in network) or (
            interface is not None and device != interface
        ):
            continue
        found[ip] = Candidate(ip=ip, mac=mac, sources={"neigh"})
    return [found[ip] for ip in sorted(found, key=ipaddress.IPv4Address)]


def poke(addresses: Iterable[str], interface: str | None = None) -> int:
    """Send one empty UDP datagram per address (non-blocking, errors ignored); returns how many."""
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        if interface:
            with contextlib.suppress(
                OSError
            ):  # needs CAP_NET_RAW on some kernels; routing picks it otherwise
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        for address in addresses:
            with contextlib.suppress(OSError):
                sock.sendto(b"", (address, DISCARD_PORT))
                sent += 1
    return sent


async def neighbour_sweep(
    network: ipaddress.IPv4Network, interface: str | None, wait_s: float, hosts: Iterable[str]
) -> list[Candidate]:
    """Poke every host in blocks, wait for the answers after each block, read the table once more."""
    found: dict[str, Candidate] = {}
    block: list[str] = []

    async def flush() -> None:
        await asyncio.to_thread(poke, list(block), interface)
        block.clear()
        await asyncio.sleep(wait_s)
        text = await asyncio.to_thread(PROC_NET_ARP.read_text)
        for candidate in parse_proc_net_arp(text, network, interface):
            found[candidate.ip] = candidate

    for host in hosts:
        block.append(host)
        if len(block) >= BLOCK:
            await flush()
    if block:
        await flush()
    return [found[ip] for ip in sorted(found, key=ipaddress.IPv4Address)]
