"""ARP sweep of a local subnet: scapy when we may send raw frames, the kernel's table otherwise.

scapy needs CAP_NET_RAW (root is not required: `AmbientCapabilities=CAP_NET_RAW` in the unit is
enough). Without it the sweep falls back to drivers/discovery/neigh.py and says so, because the
fallback is slower and only sees what the kernel resolved.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass
from typing import Literal

from drivers.base import Candidate
from drivers.discovery.neigh import neighbour_sweep
from drivers.discovery.scope import MAX_SWEEP_ADDRESSES, chunks, hosts, sweep_network
from drivers.normalize import canonical_mac

log = logging.getLogger(__name__)

CHUNK_PREFIX = 22  # 1024 addresses per srp() call keeps scapy's answered/unanswered lists small


@dataclass(frozen=True)
class ArpResult:
    candidates: list[Candidate]
    method: Literal["scapy", "neigh"]
    warning: str | None = None


def _scapy_sweep(
    network: str, interface: str | None, timeout_s: float, retries: int
) -> list[tuple[str, str]]:
    """One srp() over a block: (ip, mac) of every host that answered. Blocking: run in a thread.

    `retries` re-sends the requests nobody answered: replies get lost on a busy host or link
    (measured: 2 of 16 hosts missed once with 1 s and no retry on a loaded 2-core machine).
    """
    # Submodules only: `import scapy.all` takes ~1 s and loads every layer.
    from scapy.layers.l2 import ARP, Ether
    from scapy.sendrecv import srp

    answered, _ = srp(
        Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=network),
        iface=interface,
        timeout=timeout_s,
        retry=retries,
        verbose=0,
    )
    return [(received.psrc, received.hwsrc) for _sent, received in answered]


async def arp_sweep(
    cidr: str,
    interface: str | None,
    timeout_s: float,
    *,
    retries: int = 1,
    max_addresses: int = MAX_SWEEP_ADDRESSES,
) -> ArpResult:
    """Which hosts answer ARP on `cidr` (a subnet the agent is attached to through `interface`).

    Raises ScopeTooLarge for scopes above `max_addresses`. The result names the method that ran.
    Takes about timeout_s × (1 + retries) per /22 block when some addresses stay silent.
    """
    network = sweep_network(cidr, max_addresses)
    found: dict[str, Candidate] = {}
    try:
        for block in chunks(network, CHUNK_PREFIX):
            for ip, mac in await asyncio.to_thread(_scapy_sweep, str(block), interface, timeout_s, retries):
                if ipaddress.IPv4Address(ip) in network:
                    found[ip] = Candidate(ip=ip, mac=canonical_mac(mac), sources={"arp"})
    except PermissionError:
        warning = (
            "no CAP_NET_RAW: ARP sweep fell back to the kernel neighbour table (UDP poke + /proc/net/arp); "
            "grant AmbientCapabilities=CAP_NET_RAW for a full sweep"
        )
        log.warning("%s: %s", cidr, warning)
        candidates = await neighbour_sweep(network, interface, timeout_s, hosts(network))
        return ArpResult(candidates=candidates, method="neigh", warning=warning)
    return ArpResult(
        candidates=[found[ip] for ip in sorted(found, key=ipaddress.IPv4Address)], method="scapy"
    )
