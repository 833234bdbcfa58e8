"""TCP connect sweep: which hosts have which ports open, where ARP cannot tell (loopback, routed subnets).

A fixed number of workers pull addresses from one iterator, so memory stays flat whatever the
scope; every connect has its own timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterable

from drivers.base import Candidate

DEFAULT_PORTS = (80, 443, 554, 8080)


async def _is_open(ip: str, port: int, timeout_s: float) -> bool:
    """One non-blocking connect on a bare socket: no stream objects, so a /16 of refused ports costs
    tens of microseconds each, not a transport's set-up and tear-down."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        async with asyncio.timeout(timeout_s):
            await loop.sock_connect(sock, (ip, port))
    except (OSError, TimeoutError):
        return False
    finally:
        with contextlib.suppress(OSError):
            sock.close()
    return True


async def tcp_sweep(
    ips: Iterable[str],
    ports: Iterable[int] = DEFAULT_PORTS,
    concurrency: int = 256,
    timeout_s: float = 1.0,
    on_host: Callable[[str, set[int]], object] | None = None,
) -> dict[str, set[int]]:
    """ip -> open ports, for every host with at least one open port. `concurrency` bounds the
    connects in flight; a host's ports are tried together, and `on_host` hears of a host with open
    ports as soon as all of its ports are known (streaming)."""
    port_list = tuple(dict.fromkeys(ports))
    hosts = iter(ips)
    found: dict[str, set[int]] = {}

    async def worker() -> None:
        for ip in hosts:  # a shared iterator: each host goes to exactly one worker
            results = await asyncio.gather(*(_is_open(ip, port, timeout_s) for port in port_list))
            open_ports = {port for port, is_open in zip(port_list, results, strict=True) if is_open}
            if open_ports:
                found[ip] = open_ports
                if on_host is not None:
                    on_host(ip, open_ports)

    workers = max(1, concurrency // max(1, len(port_list)))
    await asyncio.gather(*(worker() for _ in range(workers)))
    return found


def to_candidates(open_ports: dict[str, set[int]]) -> list[Candidate]:
    return [Candidate(ip=ip, sources={"tcp"}, open_ports=ports) for ip, ports in sorted(open_ports.items())]
