"""A snapshot as the pages show it: device rows, a port map per switch, recorder channels.

Pure: a ``Snapshot`` in, plain rows out; templates only loop and print. Nothing here knows HTTP.
What the record shows of a device, a port or a channel (order, names, the port list, uplinks) comes
from ``collector/documents/build.py``, the handover record's builder: a page and a PDF agree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from collector.diff import device_label
from collector.documents.build import (
    device_name,
    in_record_order,
    natural_key,
    recorder_channels,
    switch_name,
    switch_ports,
    switch_resolver,
)
from drivers.schema import Device, Role, Snapshot

__all__ = ["RecordView", "anchor", "build_record", "device_name", "natural_key"]

_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def anchor(device_id: str) -> str:
    """A fragment id for a device ('mac:ac:cc:…' → 'd-mac-ac-cc-…')."""
    return "d-" + _ANCHOR_UNSAFE.sub("-", device_id).strip("-")


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
    ordered = in_record_order(snapshot.devices)
    switch_ids = switch_resolver(ordered)
    role_counts: dict[str, int] = defaultdict(int)
    for d in ordered:
        role_counts[d.role.value] += 1
    return RecordView(
        devices=tuple(_device_row(d, by_id) for d in ordered),
        switches=tuple(
            _switch_map(sw, snapshot, by_id, switch_ids) for sw in ordered if sw.role is Role.SWITCH
        ),
        recorders=tuple(
            _recorder_view(d, by_id) for d in ordered if d.role is Role.RECORDER or d.recorder is not None
        ),
        names={d.id: device_name(d) for d in ordered},
        role_counts=dict(role_counts),
    )


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
        switch=None if a is None else switch_name(a, by_id),
        switch_anchor=None if a is None or a.switch_id not in by_id else anchor(a.switch_id),
        port=None if a is None else a.port,
        vlan=None if a is None else a.vlan,
        poe_status=None if a is None or a.poe_status is None else a.poe_status.value,
        poe_w=None if a is None else a.poe_power_w,
    )


def _port_device(d: Device) -> PortDevice:
    return PortDevice(d.id, anchor(d.id), device_label(d))


def _switch_map(
    sw: Device, snapshot: Snapshot, by_id: dict[str, Device], switch_ids: dict[str, str]
) -> SwitchMap:
    rows = []
    for port in switch_ports(sw, snapshot, by_id, switch_ids):
        p = port.reported
        rows.append(
            PortRow(
                name=port.name,
                alias=p.alias if p else None,
                up=p.oper_up if p else None,
                admin_up=p.admin_up if p else None,
                speed_mbps=p.speed_mbps if p else None,
                vlan=p.vlan if p else None,
                poe_status=port.poe_status,
                poe_class=port.poe_class,
                poe_w=port.poe_w,
                uplink=port.uplink,
                neighbor=port.neighbour_text,
                devices=tuple(_port_device(d) for d in port.devices),
                unknown_macs=port.unknown_macs,
            )
        )
    return SwitchMap(
        id=sw.id,
        anchor=anchor(sw.id),
        label=device_label(sw),
        poe_budget_w=sw.switch.poe_budget_w if sw.switch else None,
        ports=tuple(rows),
    )


def _recorder_view(d: Device, by_id: dict[str, Device]) -> RecorderView:
    rows = []
    for ch, camera in recorder_channels(d, by_id):
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
