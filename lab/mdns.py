"""mDNS (DNS-SD) announcements for the devices whose vendor does it: Axis cameras.

An Axis camera publishes `_axis-video._tcp.local.` with the instance name "AXIS <model> - <MACHEX>"
and TXT `macaddress=<MACHEX>` (upper-case hex, no separators), plus `_http._tcp.local.` for its web
page. A Synology NAS publishes `_http._tcp.local.` as "<hostname>" with TXT vendor, model, serial,
version_major/minor/build, admin ports and mac_address (what DSM's Bonjour service sends). Other
vendors in the lab do not announce anything (they are found by WS-Discovery).

One Zeroconf instance per device, bound to the device's address. Zeroconf opens its sockets in its
constructor, so the constructor runs inside the device's namespace (SimHost.call). Created on that
helper thread, which has no event loop, it runs its own loop thread, so its coroutines are handed to
that loop; in loopback mode it shares the lab's loop.

Loopback mode works too: with `interfaces=[<127.x.y.z>]` zeroconf sets IP_MULTICAST_IF to that
address and joins 224.0.0.251 on `lo`; Linux then loops the multicast back to every listener that
joined on `lo`, without a multicast route and without the MULTICAST flag on `lo` (measured in a
fresh namespace whose `lo` looks like the host's). Nothing on the host is changed. Every instance
binds 0.0.0.0:5353 with SO_REUSEPORT, so any mDNS browser on the host's `lo` will see the lab.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

from zeroconf import IPVersion, ServiceInfo, Zeroconf
from zeroconf.asyncio import AsyncZeroconf

from lab.host import SimHost
from lab.site import OnvifDevice, Personality
from lab.state import LabState

AXIS_VIDEO = "_axis-video._tcp.local."
HTTP = "_http._tcp.local."
T = TypeVar("T")


def announces_mdns(device: OnvifDevice) -> bool:
    """Axis and Synology announce; a device on a routed subnet (hide_mac) is out of mDNS's reach."""
    return device.personality in (Personality.AXIS, Personality.SYNOLOGY) and not device.faults.hide_mac


def synology_txt(device: OnvifDevice) -> dict[str, str]:
    """DSM's _http._tcp TXT record; firmware "DSM 7.2-64570" -> major 7, minor 2, build 64570."""
    version, _, build = device.firmware.removeprefix("DSM ").partition("-")
    major, _, minor = version.partition(".")
    return {
        "vendor": "Synology",
        "model": device.model,
        "serial": device.serial,
        "version_major": major,
        "version_minor": minor or "0",
        "version_build": build,
        "admin_port": "5000",
        "secure_admin_port": "5001",
        "mac_address": device.mac,
    }


def mac_hex(mac: str) -> str:
    return mac.replace(":", "").upper()


def axis_instance_name(device: OnvifDevice) -> str:
    return f"AXIS {device.model} - {mac_hex(device.mac)}"


def service_infos(device: OnvifDevice, host: SimHost) -> list[ServiceInfo]:
    """What the device announces, addressed with the host's (possibly mapped) address and port."""
    if not announces_mdns(device):
        return []
    address, server = [socket.inet_aton(host.ip)], f"{device.name}.local."
    if device.personality is Personality.SYNOLOGY:
        txt = synology_txt(device)
        return [
            ServiceInfo(
                HTTP, f"{device.name}.{HTTP}", addresses=address, port=5000, properties=txt, server=server
            )
        ]
    instance = axis_instance_name(device)

    def info(kind: str, txt: dict[str, str]) -> ServiceInfo:
        return ServiceInfo(
            kind, f"{instance}.{kind}", addresses=address, port=host.ports.http, properties=txt, server=server
        )

    return [info(AXIS_VIDEO, {"macaddress": mac_hex(device.mac)}), info(HTTP, {"path": "/"})]


async def _on_zc_loop(zc: Zeroconf, coro: Coroutine[Any, Any, T]) -> T:
    """Await a coroutine on the loop the Zeroconf instance runs on (ours in loopback mode, its own
    thread's in namespace mode) without holding a worker thread while announcements are paced."""
    loop = zc.loop
    if loop is None or loop is asyncio.get_running_loop():
        return await coro
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


class MdnsAnnouncer:
    """A running Zeroconf responder for one device; `close()` says goodbye and stops it."""

    def __init__(self, zc: AsyncZeroconf, infos: list[ServiceInfo]) -> None:
        self._zc = zc
        self.infos = infos

    async def close(self) -> None:
        await _on_zc_loop(self._zc.zeroconf, self._zc.async_close())


async def start_mdns(state: LabState, name: str, host: SimHost) -> MdnsAnnouncer | None:
    """Announce the device if its vendor does; None when it announces nothing."""
    device = state.device(name)
    if device is None or not announces_mdns(device):
        return None
    infos = service_infos(device, host)
    # Zeroconf opens its sockets in the constructor: inside the device's namespace
    zc = AsyncZeroconf(zc=host.call(lambda: Zeroconf(interfaces=[host.ip], ip_version=IPVersion.V4Only)))

    async def register() -> None:
        # cooperating_responders: skip the 1.2 s uniqueness probe; the lab's names are unique
        announcing = [await zc.async_register_service(i, cooperating_responders=True) for i in infos]
        await asyncio.gather(*announcing)

    try:
        await _on_zc_loop(zc.zeroconf, register())
    except BaseException:
        await _on_zc_loop(zc.zeroconf, zc.async_close())
        raise
    return MdnsAnnouncer(zc, infos)
