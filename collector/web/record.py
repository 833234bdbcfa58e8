"""A snapshot as the pages show it: device rows, a port map per switch, recorder channels.

Pure: a ``Snapshot`` in, plain rows out; templates only loop and print. Nothing here knows HTTP.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from collector.diff import device_label
from drivers.schema import Device, Role, Snapshot
from drivers.uplinks import lldp_uplink_ports

_ROLE_ORDER = {Role.SWITCH: 0, Role.RECORDER: 1, Role.CAMERA: 2, Role.OTHER: 3}
_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_DIGITS = re.compile(r"(\d+)")


def anchor(device_id: str) -> str:
    """A fragment id for a device ('mac:ac:cc:…' → 'd-mac-ac-cc-…')."""
    return "d-" + _ANCHOR_UNSAFE.sub("-", device_id).strip("-")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Gi1/0/2 before Gi1/0/10."""
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in _DIGITS.split(text) if p)


def device_name(device: Device) -> str:
    return device.identity.hostname or device.network.ip or device.id


@dataclass(frozen=True)
class DeviceRow:
    id: str
    anchor: str
    role: str
    name: str
    vendor: str | None
    model: str | None
    serial: str | None
    firmware: str | None
    ip: str | None
    mac: str | None
    switch: str | None
    switch_anchor: str | None
    port: str | None
    vlan: int | None
    poe_status: str | None
    poe_w: float | None


@dataclass(frozen=True)
class PortDevice:
    id: str
    anchor: str
    label: str


@dataclass(frozen=True)
class PortRow:
    name: str
    alias: str | None
    up: bool | None
    admin_up: bool | None
    speed_mbps: int | None
    vlan: int | None
    poe_status: str | None
    poe_class: int | None
    poe_w: float | None
    uplink: bool
    neighbor: str | None
    devices: tuple[PortDevice, ...] = ()
    unknown_macs: tuple[str, ...] = ()


@dataclass(frozen=True)
class SwitchMap:
    id: str
    anchor: str
    label: str
    poe_budget_w: float | None
    ports: tuple[PortRow, ...]


@dataclass(frozen=True)
class ChannelRow:
    channel: int
    name: str | None
    camera: PortDevice | None
    source_address: str | None
    recording_days: int | None


@dataclass(frozen=True)
class RecorderView:
    id: str
    anchor: str
    label: str
    channel_count: int | None
    channels: tuple[ChannelRow, ...]


@dataclass(frozen=True)
class RecordView:
    """Everything the record layout shows of one snapshot."""

    devices: tuple[DeviceRow, ...]
    switches: tuple[SwitchMap, ...]
    recorders: tuple[RecorderView, ...]
    names: dict[str, str] = field(default_factory=dict)  # device id → name, for configs and links
    role_counts: dict[str, int] = field(default_factory=dict)


def build_record(snapshot: Snapshot) -> RecordView:
    by_id = {d.id: d for d in snapshot.devices}
    ordered = sorted(snapshot.devices, key=lambda d: (_ROLE_ORDER[d.role], natural_key(device_name(d))))
    role_counts: dict[str, int] = defaultdict(int)
    for d in ordered:
        role_counts[d.role.value] += 1
    return RecordView(
        devices=tuple(_device_row(d, by_id) for d in ordered),
        switches=tuple(_switch_map(sw, snapshot, by_id) for sw in ordered if sw.role is Role.SWITCH),
        recorders=tuple(
            _recorder_view(d, by_id) for d in ordered if d.role is Role.RECORDER or d.recorder is not None
        ),
        names={d.id: device_name(d) for d in ordered},
        role_counts=dict(role_counts),
    )


def _switch_label(switch_id: str, fallback: str | None, by_id: dict[str, Device]) -> str:
    switch = by_id.get(switch_id)
    return device_name(switch) if switch is not None else (fallback or switch_id)


def _device_row(d: Device, by_id: dict[str, Device]) -> DeviceRow:
    a = d.attachment
    return DeviceRow(
        id=d.id,
        anchor=anchor(d.id),
        role=d.role.value,
        name=device_name(d),
        vendor=d.identity.vendor,
        model=d.identity.model,
        serial=d.identity.serial,
        firmware=d.identity.firmware,
        ip=d.network.ip,
        mac=d.identity.mac,
        switch=None if a is None else _switch_label(a.switch_id, a.switch_name, by_id),
        switch_anchor=None if a is None or a.switch_id not in by_id else anchor(a.switch_id),
        port=None if a is None else a.port,
        vlan=None if a is None else a.vlan,
        poe_status=None if a is None or a.poe_status is None else a.poe_status.value,
        poe_w=None if a is None else a.poe_power_w,
    )


def _port_device(d: Device) -> PortDevice:
    return PortDevice(d.id, anchor(d.id), device_label(d))


def _switch_map(sw: Device, snapshot: Snapshot, by_id: dict[str, Device]) -> SwitchMap:
    on_port: dict[str, list[Device]] = defaultdict(list)
    for d in snapshot.devices:
        if d.attachment is not None and d.attachment.switch_id == sw.id:
            on_port[d.attachment.port].append(d)
    unknown: dict[str, list[str]] = defaultdict(list)
    for b in snapshot.port_bindings:
        if b.switch_id == sw.id and (b.device_id is None or b.device_id not in by_id):
            unknown[b.port].append(b.mac)
    neighbors: dict[str, str] = {}
    # The snapshot's is_uplink is the agent's decision; the rule itself (drivers.uplinks) only speaks
    # for a port the switch did not list.
    lldp_uplinks = lldp_uplink_ports(n for n in snapshot.lldp_neighbors if n.switch_id == sw.id)
    for n in snapshot.lldp_neighbors:
        if n.switch_id == sw.id:
            neighbors[n.local_port] = f"{n.system_name or n.chassis_id} {n.port_id}".strip()

    info = sw.switch
    ports = {p.name: p for p in (info.ports if info else ())}
    names = sorted(ports.keys() | on_port.keys() | unknown.keys() | neighbors.keys(), key=natural_key)
    rows = []
    for name in names:
        p = ports.get(name)
        poe = p.poe if p is not None else None
        rows.append(
            PortRow(
                name=name,
                alias=p.alias if p else None,
                up=p.oper_up if p else None,
                admin_up=p.admin_up if p else None,
                speed_mbps=p.speed_mbps if p else None,
                vlan=p.vlan if p else None,
                poe_status=poe.status.value if poe is not None and poe.status is not None else None,
                poe_class=poe.power_class if poe is not None else None,
                poe_w=poe.power_w if poe is not None else None,
                uplink=p.is_uplink if p is not None else name in lldp_uplinks,
                neighbor=neighbors.get(name),
                devices=tuple(_port_device(d) for d in sorted(on_port[name], key=device_name)),
                unknown_macs=tuple(sorted(unknown[name])),
            )
        )
    return SwitchMap(
        id=sw.id,
        anchor=anchor(sw.id),
        label=device_label(sw),
        poe_budget_w=info.poe_budget_w if info else None,
        ports=tuple(rows),
    )


def _recorder_view(d: Device, by_id: dict[str, Device]) -> RecorderView:
    channels = d.recorder.channels if d.recorder else ()
    rows = []
    for ch in sorted(channels, key=lambda c: c.channel):
        camera = by_id.get(ch.camera_id) if ch.camera_id else None
        rows.append(
            ChannelRow(
                channel=ch.channel,
                name=ch.name,
                camera=_port_device(camera) if camera is not None else None,
                source_address=ch.source_address,
                recording_days=ch.recording_days,
            )
        )
    return RecorderView(
        id=d.id,
        anchor=anchor(d.id),
        label=device_label(d),
        channel_count=d.recorder.channel_count if d.recorder else None,
        channels=tuple(rows),
    )
