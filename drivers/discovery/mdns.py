"""mDNS / DNS-SD browse: a supplementary source, mainly for Axis cameras (`_axis-video._tcp`, with the
MAC in TXT `macaddress`). ONVIF itself is discovered by WS-Discovery, not mDNS.

Bounded: the browse lasts `window_s`, each resolution has its own timeout, and at most
MAX_SERVICES instances are resolved however chatty the network is.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Sequence
from typing import Any

from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf, AsyncZeroconfServiceTypes

from drivers.base import Candidate
from drivers.normalize import canonical_mac

log = logging.getLogger(__name__)

DEFAULT_TYPES = ("_axis-video._tcp.local.", "_rtsp._tcp.local.", "_http._tcp.local.")
MAX_SERVICES = 4096
RESOLVE_TIMEOUT_MS = 1500


def _short_type(service_type: str) -> str:
    """``_axis-video._tcp.local.`` → ``_axis-video._tcp``, the form Candidate.mdns_services uses."""
    return service_type.removesuffix(".").removesuffix(".local")


def candidate_from_service(
    service_type: str, name: str, addresses: Sequence[str], properties: dict[str, str | None]
) -> list[Candidate]:
    """One resolved service → a candidate per IPv4 address it names. Pure.

    Example:: ("_axis-video._tcp.local.", "AXIS P3245-LVE - ACCC8E5A0101._axis-video._tcp.local.",
    ["10.77.0.21"], {"macaddress": "ACCC8E5A0101"}) → Candidate(ip="10.77.0.21", mac="ac:cc:8e:5a:01:01", ...)
    """
    mac = None
    raw = properties.get("macaddress")
    if raw:
        with contextlib.suppress(ValueError):
            mac = canonical_mac(raw)
    instance = name.removesuffix("." + service_type) if name.endswith("." + service_type) else name
    txt = {k: v for k, v in properties.items() if v is not None and len(k) <= 64 and len(v) <= 256}
    out = []
    for address in addresses:
        with contextlib.suppress(ValueError):
            if isinstance(ipaddress.ip_address(address), ipaddress.IPv4Address):
                out.append(
                    Candidate(
                        ip=address,
                        mac=mac,
                        sources={"mdns"},
                        mdns_services=[_short_type(service_type)],
                        mdns_txt=txt,
                        mdns_name=instance,
                    )
                )
    return out


def _zeroconf(interfaces: list[str] | None) -> AsyncZeroconf:
    return AsyncZeroconf(
        interfaces=interfaces if interfaces else InterfaceChoice.All, ip_version=IPVersion.V4Only
    )


async def browse(
    interfaces: list[str] | None, window_s: float = 2.0, service_types: Sequence[str] = DEFAULT_TYPES
) -> list[Candidate]:
    """Browse `service_types` for `window_s` seconds on the given interface addresses (None: all)
    and return one merged Candidate per address."""
    azc = _zeroconf(interfaces)
    seen: set[tuple[str, str]] = set()
    pending: set[asyncio.Task[list[Candidate]]] = set()

    async def resolve(service_type: str, name: str) -> list[Candidate]:
        info = AsyncServiceInfo(service_type, name)
        try:
            if not await info.async_request(azc.zeroconf, RESOLVE_TIMEOUT_MS):
                return []
        except Exception as exc:  # zeroconf stopped (window over) or a malformed answer: skip it
            log.debug("mdns: resolve %s failed: %s", name, exc)
            return []
        return candidate_from_service(service_type, name, info.parsed_addresses(), info.decoded_properties)

    def on_change(zeroconf: Any, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if (
            state_change is ServiceStateChange.Removed
            or (service_type, name) in seen
            or len(seen) >= MAX_SERVICES
        ):
            return
        seen.add((service_type, name))
        pending.add(asyncio.ensure_future(resolve(service_type, name)))

    browser = AsyncServiceBrowser(azc.zeroconf, list(service_types), handlers=[on_change])
    try:
        await asyncio.sleep(window_s)
        results = await asyncio.gather(*pending, return_exceptions=True)
    finally:
        await browser.async_cancel()
        await azc.async_close()
    merged: dict[str, Candidate] = {}
    for result in results:
        if isinstance(result, BaseException):
            log.debug("mdns: resolve failed: %s", result)
            continue
        for candidate in result:
            merged[candidate.ip] = (
                merged[candidate.ip].merge(candidate) if candidate.ip in merged else candidate
            )
    return [merged[ip] for ip in sorted(merged, key=ipaddress.IPv4Address)]


async def service_types(interfaces: list[str] | None, window_s: float = 2.0) -> list[str]:
    """Every service type announced on the link (`_services._dns-sd._udp` enumeration)."""
    azc = _zeroconf(interfaces)
    try:
        found = await AsyncZeroconfServiceTypes.async_find(aiozc=azc, timeout=window_s)
    finally:
        await azc.async_close()
    return sorted(_short_type(t) for t in found)
