"""The ground truth of a simulated site: what a correct scan must find, in the snapshot's own terms.

Identities use drivers.schema.device_id, port names drivers.normalize.canonical_ifname, PoE states
drivers.schema.PoeStatus, so a test compares a Snapshot with this record field by field. Everything
comes from the site's derived views (LabSite.port_view, edge_port), the same ones the simulators
serve, so the truth and what is served cannot drift apart.

A device behind an unmanaged switch is attached to the managed port that feeds the unmanaged switch;
its PoE figures are that port's (the unmanaged switch draws the power for all of its devices).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from drivers.normalize import canonical_ifname
from drivers.schema import PoeStatus, device_id
from lab.site import LabSite, OnvifDevice, Switch


class TruthModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TruthPoe(TruthModel):
    status: PoeStatus
    power_class: int | None = None
    power_w: float = 0.0


class TruthPort(TruthModel):
    name: str = Field(description="Canonical interface name")
    if_index: int
    alias: str
    up: bool
    vlan: int
    is_uplink: bool
    poe: TruthPoe


class TruthLink(TruthModel):
    """An inter-switch cable seen from one end."""

    port: str
    neighbor: str
    neighbor_id: str
    neighbor_port: str


class TruthChannel(TruthModel):
    channel: int = Field(ge=1)
    camera: str
    camera_id: str


class TruthProfile(TruthModel):
    """A stream profile as GetProfiles reports it (fields named as in drivers.schema.VideoEncoderSettings)."""

    token: str
    name: str
    encoding: str
    width: int
    height: int
    frame_rate: float
    bitrate_kbps: int
    gov_length: int


class TruthDevice(TruthModel):
    name: str
    role: str
    vendor: str
    model: str
    serial: str
    firmware: str
    hardware: str
    mac: str
    mac_visible: bool = Field(default=True, description="False: the scanner cannot learn the MAC (routed)")
    ip: str
    hostname: str
    device_id: str
    switch: str
    switch_id: str
    port: str = Field(description="Canonical interface name of the edge port")
    via: str | None = Field(default=None, description="Unmanaged switch between the port and the device")
    vlan: int
    poe_status: PoeStatus
    poe_class: int | None
    power_w: float
    endpoint_reference: str
    profiles: tuple[TruthProfile, ...] = ()
    channel_count: int | None = None
    channels: tuple[TruthChannel, ...] = ()


class TruthSwitch(TruthModel):
    name: str
    device_id: str
    vendor: str
    model: str
    serial: str
    firmware: str
    mac: str
    ip: str
    ports: tuple[TruthPort, ...]
    links: tuple[TruthLink, ...]


class GroundTruth(TruthModel):
    site: str
    subnet: str
    scanner_ip: str
    devices: tuple[TruthDevice, ...]
    switches: tuple[TruthSwitch, ...]

    def device(self, name: str) -> TruthDevice:
        return next(d for d in self.devices if d.name == name)

    def switch(self, name: str) -> TruthSwitch:
        return next(s for s in self.switches if s.name == name)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


def port_name(switch: Switch, port: int) -> str:
    return canonical_ifname(switch.port_name(port))


def truth_id(device: OnvifDevice) -> str:
    """The identity a correct scan gives the device: its MAC, or vendor + serial where the MAC is
    not visible to the scanner (fault hide_mac: not in ONVIF, not routed)."""
    if device.faults.hide_mac:
        return device_id(vendor=device.vendor, serial=device.serial)
    return device_id(mac=device.mac)


def _device(site: LabSite, device: OnvifDevice) -> TruthDevice:
    switch, port = site.edge_port(device)
    view = site.port_view(switch.name, port)
    ids = {d.name: truth_id(d) for d in site.devices}
    channels = tuple(
        TruthChannel(channel=n, camera=cam, camera_id=ids[cam])
        for n, cam in enumerate(device.channels, start=1)
    )
    return TruthDevice(
        name=device.name,
        role=device.role,
        vendor=device.vendor,
        model=device.model,
        serial=device.serial,
        firmware=device.firmware,
        hardware=device.hardware_id,
        mac=device.mac,
        mac_visible=not device.faults.hide_mac,
        ip=device.ip,
        hostname=device.name,
        device_id=ids[device.name],
        switch=switch.name,
        switch_id=device_id(mac=switch.mac),
        port=port_name(switch, port),
        via=device.uplink.switch if device.uplink.switch != switch.name else None,
        vlan=view.vlan,
        poe_status=PoeStatus(view.poe_status),
        poe_class=view.poe_class,
        power_w=view.power_w,
        endpoint_reference="" if device.is_nas else device.endpoint_uuid,
        profiles=()
        if device.is_nas
        else tuple(
            TruthProfile.model_validate(p.model_dump(exclude={"quality", "profile"})) for p in device.profiles
        ),
        channel_count=device.channel_count if device.role == "recorder" and not device.is_nas else None,
        channels=channels,
    )


def _switch(site: LabSite, switch: Switch) -> TruthSwitch:
    ports: list[TruthPort] = []
    links: list[TruthLink] = []
    for number in range(1, switch.port_count + 1):
        view = site.port_view(switch.name, number)
        name = port_name(switch, number)
        ports.append(
            TruthPort(
                name=name,
                if_index=view.if_index,
                alias=view.alias,
                up=view.oper_up,
                vlan=view.vlan,
                is_uplink=view.is_uplink,
                poe=TruthPoe(
                    status=PoeStatus(view.poe_status), power_class=view.poe_class, power_w=view.power_w
                ),
            )
        )
        far = site.link_on(switch.name, number)
        if far is not None:
            other, other_port = far
            links.append(
                TruthLink(
                    port=name,
                    neighbor=other.name,
                    neighbor_id=device_id(mac=other.mac),
                    neighbor_port=port_name(other, other_port),
                )
            )
    return TruthSwitch(
        name=switch.name,
        device_id=device_id(mac=switch.mac),
        vendor=switch.vendor,
        model=switch.model,
        serial=switch.serial,
        firmware=switch.firmware,
        mac=switch.mac,
        ip=switch.ip,
        ports=tuple(ports),
        links=tuple(links),
    )


def ground_truth(site: LabSite) -> GroundTruth:
    return GroundTruth(
        site=site.name,
        subnet=site.subnet,
        scanner_ip=site.scanner_ip,
        devices=tuple(_device(site, d) for d in site.devices),
        switches=tuple(_switch(site, s) for s in site.switches),
    )
