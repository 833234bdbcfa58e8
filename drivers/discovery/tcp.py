"""TCP connect sweep: which hosts have which ports open, where ARP cannot tell (loopback, routed subnets).

A fixed number of workers pull addresses from one iterator, so memory stays flat whatever the
scope; every connect has its own timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from drivers.base import Candidate

DEFAULT_PORTS = (80, 443, 554, 8080)


async def _is_open(ip: str, port: int, timeout_s: float) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            _reader, writer = await asyncio.open_connection(ip, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(timeout_s):
            await writer.wait_closed()
    return True


async def tcp_sweep(
    ips: Iterable[str], ports: Iterable[int] = DEFAULT_PORTS, concurrency: int = 256, timeout_s: float = 1.0
) -> dict[str, set[int]]:
    """ip -> open ports, for every host with at least one open port."""
    port_list = tuple(dict.fromkeys(ports))
    work = ((ip, port) for ip in ips for port in port_list)
    found: dict[str, set[int]] = {}

    async def worker() -> None:
        for ip, port in work:  # a shared generator: each item goes to exactly one worker
            if await _is_open(ip, port, timeout_s):
                found.setdefault(ip, set()).add(port)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return found


def to_candidates(open_ports: dict[str, set[int]]) -> list[Candidate]:
    return [Candidate(ip=ip, sources={"tcp"}, open_ports=ports) for ip, ports in sorted(open_ports.items())]
