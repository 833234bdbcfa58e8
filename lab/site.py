"""The simulated customer site: what is installed where, as a typed model loaded from a YAML file.

A site file says which cameras, recorders and PoE switches exist, their identities and credentials,
which switch port feeds which device, and how each one misbehaves (faults). Everything the
simulators serve (ONVIF answers, SNMP tables, CLI output, WS-Discovery, mDNS) is derived from this
one model, so the ground truth and what is served cannot disagree.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from drivers.normalize import canonical_mac

SITES_DIR = Path(__file__).with_name("sites")


class LabModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Personality(StrEnum):
    """Vendor dialect a device speaks: scopes, model strings, quirks, OUI, mDNS."""

    AXIS = "axis"
    HIKVISION = "hikvision"
    DAHUA = "dahua"
    HANWHA = "hanwha"
    HIKVISION_NVR = "hikvision-nvr"
    DAHUA_NVR = "dahua-nvr"
    UNIVIEW = "uniview"  # an OEM-style firmware: minimal ONVIF (optional calls unimplemented), no EPR
    SYNOLOGY = "synology"  # a NAS running Surveillance Station: no ONVIF server, SNMP + mDNS only


# Personalities that are a NAS/VMS recorder rather than an ONVIF device.
NAS_PERSONALITIES = frozenset({Personality.SYNOLOGY})


class Dialect(StrEnum):
    """Switch CLI dialect, named after the netmiko platform that speaks it."""

    CISCO_IOS = "cisco_ios"
    HP_PROCURVE = "hp_procurve"


class Faults(LabModel):
    """Misbehaviour, selectable per device (all off by default)."""

    clock_offset_s: float = Field(default=0.0, description="Device clock minus true time")
    reject_credentials: bool = Field(default=False, description="Refuses the configured password")
    invalid_xml: bool = Field(default=False, description="Answers authenticated calls with broken XML")
    invalid_utf8: bool = Field(default=False, description="GetDeviceInformation carries invalid UTF-8")
    slow_reply_s: float = Field(default=0.0, ge=0, description="Delay before every answer")
    gone_after_discovery: bool = Field(default=False, description="Answers discovery, then nothing")
    wsd_disabled: bool = Field(default=False, description="Installer turned WS-Discovery off")
    snmp_timeout: bool = Field(default=False, description="Switch: SNMP agent never answers")
    services_broken: bool = Field(
        default=False,
        description="GetServices answers Service entries without XAddr/Version (a firmware bug that made "
        "ONVIF stacks fail with 'bad argument type: NoneType'); GetCapabilities is broken the same way",
    )
    wsd_drop_ratio: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of WS-Discovery ProbeMatches not sent (UDP loss)"
    )
    unsupported_operations: list[str] = Field(
        default_factory=list, description="Optional ONVIF operations answered with ActionNotSupported"
    )
    hide_mac: bool = Field(
        default=False, description="GetNetworkInterfaces carries no HwAddress (and the MAC is not routed)"
    )


class Credential(LabModel):
    username: str
    password: str


class StreamProfile(LabModel):
    token: str
    name: str
    encoding: Literal["H264", "H265", "JPEG"] = "H264"
    width: int = 1920
    height: int = 1080
    frame_rate: float = 25.0
    bitrate_kbps: int = 4096
    gov_length: int = 50
    quality: float = 5.0
    profile: str | None = "Main"


def _default_profiles() -> list[StreamProfile]:
    return [
        StreamProfile(token="profile_1", name="mainStream"),
        StreamProfile(
            token="profile_2", name="subStream", width=640, height=360, frame_rate=15, bitrate_kbps=512
        ),
    ]


class Uplink(LabModel):
    """Where a device is plugged in: a switch (managed or unmanaged) and, for a managed one, a port."""

    switch: str
    port: int | None = Field(default=None, ge=1, description="1-based port number on a managed switch")


class OnvifDevice(LabModel):
    """A camera or a recorder: it speaks ONVIF and WS-Discovery (and mDNS where the vendor does)."""

    name: str = Field(description="Device name, also its ONVIF name scope and host name")
    role: Literal["camera", "recorder"]
    personality: Personality
    vendor: str
    model: str
    serial: str
    firmware: str
    hardware_id: str = "1.0"
    mac: str
    ip: str
    prefix_length: int = 24
    placement: str = Field(default="", description="Where it is mounted, for the ONVIF location scope")
    credential: Credential
    extra_users: list[tuple[str, str]] = Field(
        default_factory=lambda: [("operator", "Operator")], description="(name, level) besides the admin"
    )
    profiles: list[StreamProfile] = Field(default_factory=_default_profiles)
    uplink: Uplink
    poe_class: int | None = Field(default=3, description="PoE class the device requests; None: not PoE")
    power_w: float = Field(default=4.5, description="Power drawn when PoE powered")
    channels: list[str] = Field(default_factory=list, description="Recorder: camera name per channel")
    channel_count: int = Field(default=0, description="Recorder: channels it has (>= len(channels))")
    recording_days: int = 30
    dhcp: bool = False
    endpoint_clone_of: str | None = Field(
        default=None, description="Cloned firmware image: uses this MAC's WS-Discovery endpoint reference"
    )
    snmp_community: str | None = Field(default=None, description="NAS recorder: its SNMP v2c community")
    faults: Faults = Field(default_factory=Faults)

    @model_validator(mode="after")
    def _check(self) -> OnvifDevice:
        object.__setattr__(self, "mac", canonical_mac(self.mac))
        ipaddress.ip_address(self.ip)
        if self.role == "recorder":
            self.channel_count = max(self.channel_count, len(self.channels))
        return self

    @property
    def endpoint_uuid(self) -> str:
        """Stable WS-Discovery endpoint reference derived from the MAC, like real firmware does (a
        cloned image carries the MAC of the unit it was cloned from)."""
        mac = canonical_mac(self.endpoint_clone_of) if self.endpoint_clone_of else self.mac
        return "urn:uuid:" + "4d454930-0000-1000-8000-" + mac.replace(":", "")

    @property
    def is_nas(self) -> bool:
        return self.personality in NAS_PERSONALITIES


class SwitchLink(LabModel):
    """A cable between two managed switches (an uplink on both ends)."""

    a: str
    a_port: int
    b: str
    b_port: int


class Switch(LabModel):
    name: str
    dialect: Dialect
    vendor: str
    model: str
    serial: str
    firmware: str
    mac: str
    ip: str
    prefix_length: int = 24
    port_count: int = 24
    poe_ports: int = 24
    poe_budget_w: float = 370.0
    camera_vlan: int = 1
    vlans: dict[int, str] = Field(default_factory=lambda: {1: "default"})
    credential: Credential
    enable_secret: str = "enable"
    snmp_community: str = "public"
    snmp_v3_user: str = "asbuilt"
    snmp_v3_auth_key: str = "authpass123"
    snmp_v3_priv_key: str = "privpass123"
    location: str = ""
    faults: Faults = Field(default_factory=Faults)

    @model_validator(mode="after")
    def _check(self) -> Switch:
        object.__setattr__(self, "mac", canonical_mac(self.mac))
        ipaddress.ip_address(self.ip)
        return self

    def port_name(self, port: int) -> str:
        """The interface name this dialect uses for a 1-based port number."""
        if self.dialect is Dialect.CISCO_IOS:
            return f"GigabitEthernet1/0/{port}"
        return str(port)

    def port_short_name(self, port: int) -> str:
        """The name in tables (ifName, show mac address-table)."""
        if self.dialect is Dialect.CISCO_IOS:
            return f"Gi1/0/{port}"
        return str(port)

    def if_index(self, port: int) -> int:
        return 10100 + port if self.dialect is Dialect.CISCO_IOS else port

    def port_mac(self, port: int) -> str:
        """Per-port MAC, used as the LLDP port id / chassis on the other end."""
        base = int(self.mac.replace(":", ""), 16) + port
        raw = f"{base:012x}"
        return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


class UnmanagedSwitch(LabModel):
    """A PoE switch without management in a cabinet: several devices share one managed port."""

    name: str
    mac: str | None = None
    uplink: Uplink
    power_w: float = 2.0


class PortView(LabModel):
    """One switch port as the switch reports it (derived; see LabSite.port_view)."""

    number: int
    name: str
    short_name: str
    if_index: int
    alias: str
    oper_up: bool
    speed_mbps: int
    vlan: int
    is_uplink: bool
    poe_enabled: bool
    poe_status: Literal["disabled", "searching", "delivering"]
    poe_class: int | None
    power_w: float
    neighbor: tuple[str, int] | None = Field(description="(switch, port) at the far end of a link")


class LabSite(LabModel):
    name: str
    title: str = ""
    subnet: str = Field(description="The site LAN in namespace mode, e.g. 10.77.0.0/24")
    scanner_ip: str
    switches: list[Switch]
    unmanaged: list[UnmanagedSwitch] = Field(default_factory=list)
    links: list[SwitchLink] = Field(default_factory=list)
    devices: list[OnvifDevice]
    _cache: _SiteIndex | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check(self) -> LabSite:
        names = (
            [s.name for s in self.switches]
            + [u.name for u in self.unmanaged]
            + [d.name for d in self.devices]
        )
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"duplicate names: {sorted(dupes)}")
        ips = [s.ip for s in self.switches] + [d.ip for d in self.devices] + [self.scanner_ip]
        if len(set(ips)) != len(ips):
            raise ValueError("duplicate IP addresses in the site")
        net = ipaddress.ip_network(self.subnet)
        for ip in ips:
            if ipaddress.ip_address(ip) not in net:
                raise ValueError(f"{ip} is outside the site subnet {self.subnet}")
        switches = {s.name: s for s in self.switches}
        unmanaged = {u.name for u in self.unmanaged}
        used: dict[tuple[str, int], str] = {}
        for link in self.links:
            for sw, port in ((link.a, link.a_port), (link.b, link.b_port)):
                self._claim(used, switches, sw, port, f"link {link.a}-{link.b}")
        items: list[UnmanagedSwitch | OnvifDevice] = [*self.unmanaged, *self.devices]
        for item in items:
            up = item.uplink
            if up.switch in unmanaged and up.port is None and isinstance(item, OnvifDevice):
                continue
            self._claim(used, switches, up.switch, up.port, item.name)
        by_name = {d.name for d in self.devices if d.role == "camera"}
        for rec in self.devices:
            for cam in rec.channels:
                if cam not in by_name:
                    raise ValueError(f"{rec.name}: channel camera {cam!r} is not a camera of this site")
        return self

    @staticmethod
    def _claim(
        used: dict[tuple[str, int], str], switches: dict[str, Switch], sw: str, port: int | None, who: str
    ) -> None:
        if sw not in switches:
            raise ValueError(f"{who}: unknown switch {sw!r}")
        if port is None or not 1 <= port <= switches[sw].port_count:
            raise ValueError(f"{who}: port {port} does not exist on {sw}")
        if (sw, port) in used:
            raise ValueError(f"{who}: {sw} port {port} is already used by {used[(sw, port)]}")
        used[(sw, port)] = who

    # ------------------------------------------------------------ lookups used by every simulator

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> LabSite:
        copy = super().model_copy(update=update, deep=deep)
        copy.forget_index()  # a copy is usually edited next: never inherit the original's lookups
        return copy

    def forget_index(self) -> None:
        """Drop cached lookups (after editing the site in place)."""
        self._cache = None

    def _index(self) -> _SiteIndex:
        """Lookup tables built once per site object (a change replaces the whole site, so the
        index never goes stale); without them a 48-port switch costs O(ports x devices)."""
        if self._cache is None:
            self._cache = _SiteIndex.build(self)
        return self._cache

    def switch(self, name: str) -> Switch:
        try:
            return self._index().switches[name]
        except KeyError:
            raise StopIteration(f"no switch {name!r}") from None

    def device(self, name: str) -> OnvifDevice:
        return next(d for d in self.devices if d.name == name)

    def hosts(self) -> Iterator[tuple[str, str, str]]:
        """(name, ip, mac) of every host with an address: switches, then ONVIF devices."""
        for s in self.switches:
            yield s.name, s.ip, s.mac
        for d in self.devices:
            yield d.name, d.ip, d.mac

    def edge_port(self, device: OnvifDevice) -> tuple[Switch, int]:
        """The managed switch and port that feed a device (through an unmanaged switch if need be)."""
        switch, port = self._index().edge[device.name]
        return self.switch(switch), port

    def devices_on(self, switch: str, port: int) -> list[OnvifDevice]:
        return list(self._index().on_port.get((switch, port), ()))

    def unmanaged_on(self, switch: str, port: int) -> UnmanagedSwitch | None:
        return self._index().unmanaged_on.get((switch, port))

    def link_on(self, switch: str, port: int) -> tuple[Switch, int] | None:
        """The switch and port at the far end of an inter-switch link, if this port has one."""
        far = self._index().links.get((switch, port))
        return (self.switch(far[0]), far[1]) if far else None

    def port_power_w(self, switch: str, port: int) -> float:
        """PoE power the port delivers: its PoE devices, plus an unmanaged switch's own draw."""
        total = sum(d.power_w for d in self.devices_on(switch, port) if d.poe_class is not None)
        um = self.unmanaged_on(switch, port)
        if um is not None:
            total += um.power_w
        return round(total, 1)

    def port_vlan(self, switch: str, port: int) -> int:
        sw = self.switch(switch)
        return 1 if self.link_on(switch, port) else sw.camera_vlan

    def port_view(self, switch: str, port: int) -> PortView:
        """Everything a switch says about one port, in one place, so SNMP and CLI agree."""
        sw = self.switch(switch)
        devices = self.devices_on(switch, port)
        um = self.unmanaged_on(switch, port)
        far = self.link_on(switch, port)
        up = bool(devices or um or far)
        powered = [d for d in devices if d.poe_class is not None]
        poe_capable = port <= sw.poe_ports and far is None
        if not poe_capable:
            poe_status = "disabled"
        elif powered or um is not None:
            poe_status = "delivering"
        else:
            poe_status = "searching"
        if um is not None:
            poe_class: int | None = 4
            alias = um.name
        elif powered:
            poe_class = powered[0].poe_class
            alias = devices[0].name
        else:
            poe_class = None
            alias = devices[0].name if devices else (f"uplink {far[0].name}" if far else "")
        return PortView(
            number=port,
            name=sw.port_name(port),
            short_name=sw.port_short_name(port),
            if_index=sw.if_index(port),
            alias=alias,
            oper_up=up,
            speed_mbps=(1000 if far or um or any(d.role == "recorder" for d in devices) else 100)
            if up
            else 0,
            vlan=self.port_vlan(switch, port),
            is_uplink=far is not None,
            poe_enabled=poe_capable,
            poe_status=poe_status,
            poe_class=poe_class if poe_status == "delivering" else None,
            power_w=self.port_power_w(switch, port) if poe_status == "delivering" else 0.0,
            neighbor=(far[0].name, far[1]) if far else None,
        )

    def fdb(self, switch: str) -> list[tuple[str, int, int]]:
        """(mac, vlan, port) entries the switch has learned: edge devices on their ports, and every
        host reached through an inter-switch link on that link's port (the other switch included)."""
        sw = self.switch(switch)
        entries: list[tuple[str, int, int]] = []
        for port in range(1, sw.port_count + 1):
            for d in self.devices_on(switch, port):
                entries.append((d.mac, sw.camera_vlan, port))
            um = self.unmanaged_on(switch, port)
            if um is not None and um.mac:
                entries.append((canonical_mac(um.mac), sw.camera_vlan, port))
        for port, far in self._links_from(switch):
            for host_mac in self._macs_behind(far, came_from=switch):
                entries.append((host_mac, sw.camera_vlan, port))
        return sorted(set(entries))

    def _links_from(self, switch: str) -> Iterator[tuple[int, str]]:
        for link in self.links:
            if link.a == switch:
                yield link.a_port, link.b
            elif link.b == switch:
                yield link.b_port, link.a

    def _macs_behind(self, switch: str, came_from: str) -> set[str]:
        """MACs reachable through `switch` without going back to `came_from` (the links form a tree)."""
        macs = {self.switch(switch).mac}
        macs |= {d.mac for (sw, _port), ds in self._index().on_port.items() if sw == switch for d in ds}
        macs |= {canonical_mac(u.mac) for u in self.unmanaged if u.mac and u.uplink.switch == switch}
        for _port, far in self._links_from(switch):
            if far != came_from:
                macs |= self._macs_behind(far, came_from=switch)
        return macs


@dataclass
class _SiteIndex:
    switches: dict[str, Switch]
    edge: dict[str, tuple[str, int]]
    on_port: dict[tuple[str, int], list[OnvifDevice]]
    unmanaged_on: dict[tuple[str, int], UnmanagedSwitch]
    links: dict[tuple[str, int], tuple[str, int]]

    @classmethod
    def build(cls, site: LabSite) -> _SiteIndex:
        unmanaged = {u.name: u for u in site.unmanaged}
        edge: dict[str, tuple[str, int]] = {}
        on_port: dict[tuple[str, int], list[OnvifDevice]] = {}
        for d in site.devices:
            up = unmanaged[d.uplink.switch].uplink if d.uplink.switch in unmanaged else d.uplink
            assert up.port is not None
            edge[d.name] = (up.switch, up.port)
            on_port.setdefault((up.switch, up.port), []).append(d)
        links: dict[tuple[str, int], tuple[str, int]] = {}
        for link in site.links:
            links[(link.a, link.a_port)] = (link.b, link.b_port)
            links[(link.b, link.b_port)] = (link.a, link.a_port)
        return cls(
            switches={s.name: s for s in site.switches},
            edge=edge,
            on_port=on_port,
            unmanaged_on={(u.uplink.switch, u.uplink.port or 0): u for u in site.unmanaged},
            links=links,
        )


# ---------------------------------------------------------------- loading


def load_site(name_or_path: str | Path) -> LabSite:
    """Load a site by name (a file in lab/sites/) or by path; `large` and `large-N` are generated."""
    text = str(name_or_path)
    if text == "large" or text.startswith("large-"):
        from lab.generate import generate_site

        cameras = int(text.split("-", 1)[1]) if "-" in text else 200
        return generate_site(cameras=cameras)
    path = Path(text)
    if not path.suffix:
        path = SITES_DIR / f"{text}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in SITES_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"no site {text!r}: known sites are {', '.join([*known, 'large'])}")
    data: Any = yaml.safe_load(path.read_text())
    return LabSite.model_validate(data)
