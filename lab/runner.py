"""Run a whole simulated site in one process: network (namespaces or loopback addresses) + simulators.

Per device a SimHost, then its simulators, each imported lazily by module path:
    camera / recorder: onvif (HTTP), wsd (WS-Discovery on 3702), mdns (Axis only)
    switch:            snmp (UDP), ssh (switch CLI)
A simulator that is missing or fails to start is recorded as an error for that device and service;
the rest of the lab keeps running.

Fault `gone_after_discovery` needs nothing from the runner by default: lab/wsd.py keeps answering
probes while lab/onvif refuses every HTTP request of such a device ("answers discovery, then
nothing"), whenever the scan starts. With `gone_after_s` set, the runner also puts the device in
`state.gone` that many seconds after it started, which silences WS-Discovery as well (a camera that
crashes a while after booting).

Loopback mode maps each site address to 127.<base>.<third>.<fourth> (10.77.0.21 -> 127.23.0.21 with
base 23), so parallel test runs pick different bases and never collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ipaddress
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from lab.host import PortPlan, SimHost
from lab.netns import Endpoint, LabNames, LabNetwork, check_lab_id, is_root
from lab.site import LabSite, OnvifDevice, Switch
from lab.state import LabState

Mode = Literal["netns", "loopback"]
SCANNER_MAC = "02:a5:b1:00:00:fe"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class Closer(Protocol):
    async def close(self) -> None: ...


@dataclass(frozen=True)
class ServiceSpec:
    """Where a simulator lives and how it is called."""

    module: str
    function: str
    kwargs: Callable[[LabRunner], dict[str, Any]] = lambda runner: {}


SERVICES: dict[str, ServiceSpec] = {
    "onvif": ServiceSpec("lab.onvif", "start_onvif"),
    "wsd": ServiceSpec("lab.wsd", "start_wsd", lambda runner: {"multicast": runner.mode == "netns"}),
    "mdns": ServiceSpec("lab.mdns", "start_mdns"),
    "snmp": ServiceSpec("lab.snmp.agent", "start_snmp"),
    "nas-snmp": ServiceSpec("lab.snmp.nas", "start_nas_snmp"),
    "nas-web": ServiceSpec("lab.nas_web", "start_nas_web"),
    "ssh": ServiceSpec("lab.switch_cli.server", "start_ssh"),
}


def services_for(item: OnvifDevice | Switch) -> list[str]:
    if isinstance(item, Switch):
        return ["snmp", "ssh"]
    from lab.mdns import announces_mdns

    mdns = ["mdns"] if announces_mdns(item) else []
    if item.is_nas:
        return ["nas-snmp", "nas-web", *mdns]  # Surveillance Station: no ONVIF server, no WS-Discovery
    return ["onvif", "wsd", *mdns]


def _mdns_key(item: OnvifDevice | Switch) -> tuple[str, ...]:
    """What the mDNS announcement is made of besides MAC and IP (which rebuild the device anyway)."""
    return (item.model, item.personality) if isinstance(item, OnvifDevice) else ()


def loopback_address(ip: str, subnet: str, base: int) -> str:
    """10.77.0.21 -> 127.<base>.0.21: keeps the last two octets, so the site subnet must be /16 or smaller."""
    if not 1 <= base <= 254:
        raise ValueError(f"loopback base {base} must be 1..254")
    if ipaddress.ip_network(subnet).prefixlen < 16:
        raise ValueError(f"site subnet {subnet} is larger than /16: it cannot be mapped onto 127.{base}.x.y")
    octets = ip.split(".")
    return f"127.{base}.{octets[2]}.{octets[3]}"


# ---------------------------------------------------------------- status records


class ServiceStatus(BaseModel):
    up: bool
    error: str | None = None


class DeviceStatus(BaseModel):
    name: str
    role: str
    vendor: str
    model: str
    ip: str = Field(description="The address in the site file")
    address: str = Field(description="Where the lab serves it (mapped in loopback mode)")
    mac: str
    netns: str | None = None
    uplink: str | None = None  # "sw-core:5" or "cab-poe-1"
    services: dict[str, ServiceStatus] = {}
    gone: bool = False


class LabStatus(BaseModel):
    lab_id: str
    mode: Mode
    site: str
    title: str
    generation: int
    scanner_ip: str
    scanner_netns: str | None
    ports: dict[str, int]
    timings_s: dict[str, float]
    devices: list[DeviceStatus]


@dataclass
class _Running:
    host: SimHost
    services: dict[str, Closer] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class LabRunner:
    """Builds the network, starts every simulator, applies changes live, and stops it all."""

    def __init__(
        self,
        site: LabSite,
        mode: Mode = "loopback",
        lab_id: str = "lab",
        loopback_base: int = 23,
        ports: PortPlan | None = None,
        gone_after_s: float | None = None,
    ) -> None:
        if mode not in ("netns", "loopback"):
            raise ValueError(f"unknown lab mode {mode!r}")
        self.mode: Mode = mode
        self.lab_id = check_lab_id(lab_id)
        self.loopback_base = loopback_base
        self.ports = ports or (PortPlan.standard() if is_root() else PortPlan.unprivileged())
        self.gone_after_s = gone_after_s
        self.state = LabState(site)
        self.names = LabNames(self.lab_id)
        self.network = LabNetwork(self.lab_id) if mode == "netns" else None
        self.timings: dict[str, float] = {}
        self._running: dict[str, _Running] = {}
        self._index: dict[str, int] = {}  # device name -> namespace number
        self._gone_timers: dict[str, asyncio.TimerHandle] = {}
        self._lock = asyncio.Lock()
        if mode == "loopback":
            for _name, ip, _mac in site.hosts():
                loopback_address(ip, site.subnet, loopback_base)  # fail early on an unmappable site

    # ------------------------------------------------------------ addresses

    def address(self, ip: str) -> str:
        """Where the lab serves a site address."""
        if self.mode == "netns":
            return ip
        return loopback_address(ip, self.state.site.subnet, self.loopback_base)

    @property
    def scanner_address(self) -> str:
        return self.address(self.state.site.scanner_ip)

    def netns_of(self, name: str) -> str | None:
        return self.names.device(self._index[name]) if self.mode == "netns" and name in self._index else None

    def _items(self, site: LabSite) -> dict[str, OnvifDevice | Switch]:
        return {**{s.name: s for s in site.switches}, **{d.name: d for d in site.devices}}

    def _endpoint(self, item: OnvifDevice | Switch) -> Endpoint:
        if item.name not in self._index:
            self._index[item.name] = max(self._index.values(), default=0) + 1
        n = self._index[item.name]
        return Endpoint(self.names.device(n), f"p{n}", item.mac, f"{item.ip}/{item.prefix_length}")

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        async with self._lock:
            t0 = time.perf_counter()
            items = list(self._items(self.state.site).values())
            if self.network is not None:
                site = self.state.site
                prefix = ipaddress.ip_network(site.subnet).prefixlen
                await self.network.build(
                    f"{site.scanner_ip}/{prefix}", SCANNER_MAC, [self._endpoint(i) for i in items]
                )
            t1 = time.perf_counter()
            await self._start_items(items)
            self._refresh_gone_faults(self.state.site)  # the delay counts from "the lab is up"
            t2 = time.perf_counter()
            self.timings = {
                "network": round(t1 - t0, 3),
                "simulators": round(t2 - t1, 3),
                "total": round(t2 - t0, 3),
            }

    async def stop(self) -> None:
        async with self._lock:
            for timer in self._gone_timers.values():
                timer.cancel()
            self._gone_timers.clear()
            await asyncio.gather(*(self._stop_item(name) for name in list(self._running)))
            if self.network is not None:
                await asyncio.to_thread(self.network.teardown)

    async def _start_items(self, items: list[OnvifDevice | Switch]) -> None:
        limit = asyncio.Semaphore(32)

        async def one(item: OnvifDevice | Switch) -> None:
            async with limit:
                await self._start_item(item)

        await asyncio.gather(*(one(i) for i in items))

    async def _start_item(self, item: OnvifDevice | Switch) -> None:
        host = SimHost(item.name, self.address(item.ip), self.netns_of(item.name), self.ports)
        running = self._running[item.name] = _Running(host)
        for service in services_for(item):
            await self._start_service(running, item.name, service)

    async def _start_service(self, running: _Running, name: str, service: str) -> None:
        spec = SERVICES[service]
        try:
            module = importlib.import_module(spec.module)
        except Exception as exc:
            running.errors[service] = (
                f"simulator module {spec.module} is not available: {type(exc).__name__}: {exc}"
            )
            return
        start: Callable[..., Awaitable[Closer | None]] | None = getattr(module, spec.function, None)
        if start is None:
            running.errors[service] = f"simulator module {spec.module} has no {spec.function}()"
            return
        try:
            closer = await asyncio.wait_for(
                start(self.state, name, running.host, **spec.kwargs(self)), START_TIMEOUT_S
            )
        except Exception as exc:
            running.errors[service] = f"{spec.module}.{spec.function} failed: {type(exc).__name__}: {exc}"
            return
        running.errors.pop(service, None)
        if closer is not None:
            running.services[service] = closer

    async def _stop_item(self, name: str, only: str | None = None) -> None:
        running = self._running.get(name)
        if running is None:
            return
        for service, closer in list(running.services.items()):
            if only is not None and service != only:
                continue
            with contextlib.suppress(Exception):
                await asyncio.wait_for(closer.close(), STOP_TIMEOUT_S)
            running.services.pop(service, None)
        if only is None:
            del self._running[name]

    def _schedule_gone(self, name: str) -> None:
        if self.gone_after_s is None:
            return
        loop = asyncio.get_running_loop()
        if name not in self._gone_timers:
            self._gone_timers[name] = loop.call_later(self.gone_after_s, self.state.gone.add, name)

    # ------------------------------------------------------------ live changes

    async def apply(self, new: LabSite) -> dict[str, list[str]]:
        """Switch the running lab to `new`: restart what moved on the network, keep the rest.

        Simulators read the state on every request, so moves, firmware, settings and faults need
        nothing but `state.replace`. A device that was added, removed, or got another MAC or IP
        needs its namespace (netns mode) and its simulators rebuilt."""
        async with self._lock:
            old_items, new_items = self._items(self.state.site), self._items(new)
            removed = sorted(set(old_items) - set(new_items))
            added = sorted(set(new_items) - set(old_items))
            readdressed = sorted(
                n
                for n in set(old_items) & set(new_items)
                if (old_items[n].mac, old_items[n].ip) != (new_items[n].mac, new_items[n].ip)
            )
            renamed_mdns = sorted(
                n
                for n in set(old_items) & set(new_items)
                if n not in readdressed and _mdns_key(old_items[n]) != _mdns_key(new_items[n])
            )
            rebuild = removed + readdressed
            await asyncio.gather(*(self._stop_item(n) for n in rebuild))
            for n in rebuild:
                self._cancel_gone(n)
            if self.network is not None:
                await self.network.remove(
                    [self.names.device(self._index[n]) for n in rebuild if n in self._index]
                )
                for n in removed:
                    self._index.pop(n, None)
            self.state.replace(new)
            if self.network is not None:
                await self.network.add([self._endpoint(new_items[n]) for n in added + readdressed])
            await self._start_items([new_items[n] for n in added + readdressed])
            for n in renamed_mdns:
                await self._stop_item(n, only="mdns")
                if "mdns" in services_for(new_items[n]):
                    await self._start_service(self._running[n], n, "mdns")
            self._refresh_gone_faults(new)
            return {"added": added, "removed": removed, "readdressed": readdressed, "mdns": renamed_mdns}

    def _cancel_gone(self, name: str) -> None:
        timer = self._gone_timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        self.state.gone.discard(name)

    def _refresh_gone_faults(self, site: LabSite) -> None:
        for device in site.devices:
            if device.faults.gone_after_discovery:
                self._schedule_gone(device.name)
            elif device.name in self._gone_timers or device.name in self.state.gone:
                self._cancel_gone(device.name)

    # ------------------------------------------------------------ status

    def status(self) -> LabStatus:
        site = self.state.site
        devices: list[DeviceStatus] = []
        for name, item in self._items(site).items():
            running = self._running.get(name)
            services: dict[str, ServiceStatus] = {}
            for service in services_for(item):
                error = running.errors.get(service) if running else "not started"
                up = running is not None and service in running.services
                services[service] = ServiceStatus(up=up, error=error)
            if isinstance(item, Switch):
                role, uplink = "switch", None
            else:
                role = item.role
                uplink = item.uplink.switch + (f":{item.uplink.port}" if item.uplink.port else "")
            devices.append(
                DeviceStatus(
                    name=name,
                    role=role,
                    vendor=item.vendor,
                    model=item.model,
                    ip=item.ip,
                    address=self.address(item.ip),
                    mac=item.mac,
                    netns=self.netns_of(name),
                    uplink=uplink,
                    services=services,
                    gone=name in self.state.gone,
                )
            )
        return LabStatus(
            lab_id=self.lab_id,
            mode=self.mode,
            site=site.name,
            title=site.title,
            generation=self.state.generation,
            scanner_ip=self.scanner_address,
            scanner_netns=self.names.scanner if self.mode == "netns" else None,
            ports={
                "http": self.ports.http,
                "snmp": self.ports.snmp,
                "ssh": self.ports.ssh,
                "wsd": self.ports.wsd,
            },
            timings_s=self.timings,
            devices=devices,
        )
