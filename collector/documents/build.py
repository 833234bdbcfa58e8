"""Snapshot (+ baseline diff + site metadata) → ``AsBuiltRecord``. Pure: no I/O, no clock.

Devices are listed switches first, then recorders, cameras and the rest, each in natural name order
(cam-2 before cam-10). Ports list what the switch reported plus every port a device, an unknown MAC
or an LLDP neighbour was seen on. Inter-switch links come from LLDP: a neighbour is a scanned switch
when its chassis id, management address or system name matches one.

The pages' view of a snapshot (``collector/web/record.py``) is built from the same parts: the device
order, the switch a device hangs on, a switch's ports (``switch_ports``) and a recorder's channels
(``recorder_channels``) are decided here once, so a page and a PDF never show them differently.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from collector.diff import Change, ChangeKind, FieldChange, SiteDiff
from collector.documents.model import (
    AsBuiltRecord,
    BaselineInfo,
    ChangeEntry,
    ChangeSet,
    ChannelEntry,
    ChannelRef,
    DeviceEntry,
    FieldChangeEntry,
    Highlight,
    PortEntry,
    RecorderEntry,
    ScanNote,
    ScanSummary,
    SiteInfo,
    SiteRecordExtras,
    StreamEntry,
    SwitchEntry,
    SwitchLink,
)
from drivers.normalize import canonical_ifname
from drivers.schema import Attachment, Device, LldpNeighbor, RecorderChannel, Role, Snapshot, SwitchPort
from drivers.uplinks import lldp_uplink_ports

_ROLE_ORDER = {Role.SWITCH: 0, Role.RECORDER: 1, Role.CAMERA: 2, Role.OTHER: 3}
_DIGITS = re.compile(r"(\d+)")
# A device carries the strongest of its changes as its highlight.
_HIGHLIGHT = {
    ChangeKind.REPLACED: Highlight.REPLACED,
    ChangeKind.ADDED: Highlight.ADDED,
    ChangeKind.MOVED: Highlight.MOVED,
    ChangeKind.CHANGED: Highlight.CHANGED,
}
_HIGHLIGHT_RANK = {h: i for i, h in enumerate(Highlight)}


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Gi1/0/2 before Gi1/0/10, cam-9 before cam-10."""
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in _DIGITS.split(text) if p)


def device_name(device: Device) -> str:
    return device.identity.hostname or device.network.ip or device.id


def in_record_order(devices: Iterable[Device]) -> list[Device]:
    """Switches first, then recorders, cameras and the rest, each in natural name order."""
    return sorted(devices, key=lambda d: (_ROLE_ORDER[d.role], natural_key(device_name(d))))


def switch_name(a: Attachment, by_id: dict[str, Device]) -> str:
    """The switch a device hangs on, by name: the scanned switch's, else what the agent was told."""
    switch = by_id.get(a.switch_id)
    return device_name(switch) if switch is not None else (a.switch_name or a.switch_id)


def recorder_channels(d: Device, by_id: dict[str, Device]) -> list[tuple[RecorderChannel, Device | None]]:
    """A recorder's channels in number order, each with the scanned camera it records (if any)."""
    channels = d.recorder.channels if d.recorder else ()
    return [
        (ch, by_id.get(ch.camera_id) if ch.camera_id else None)
        for ch in sorted(channels, key=lambda c: c.channel)
    ]


def without_userinfo(uri: str | None) -> str | None:
    """A URI with any user:password@ removed (the contract forbids it; a bad agent may still send it)."""
    if not uri or "@" not in uri:
        return uri
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def build_record(
    snapshot: Snapshot,
    site: SiteInfo,
    *,
    generated_at: datetime,
    baseline: BaselineInfo | None = None,
    diff: SiteDiff | None = None,
    extras: SiteRecordExtras | None = None,
    content_hash: str | None = None,
) -> AsBuiltRecord:
    """The as-built record of ``snapshot``; ``diff`` is ``diff_snapshots(baseline_snapshot, snapshot)``."""
    extras = extras or SiteRecordExtras()
    by_id = {d.id: d for d in snapshot.devices}
    ordered = in_record_order(snapshot.devices)
    highlights = _highlights(diff.changes if diff else ())
    streams = tuple(s for d in ordered for s in _streams(d))
    streams_of: dict[str, list[StreamEntry]] = defaultdict(list)
    for s in streams:
        streams_of[s.device_id].append(s)
    recorders = tuple(
        _recorder(d, by_id, streams_of, highlights)
        for d in ordered
        if d.role is Role.RECORDER or d.recorder is not None
    )
    recorded_by: dict[str, list[ChannelRef]] = defaultdict(list)
    for r in recorders:
        for ch in r.channels:
            if ch.camera_id:
                recorded_by[ch.camera_id].append(
                    ChannelRef(recorder_id=r.id, recorder_name=r.name, channel=ch.channel)
                )
    switch_ids = switch_resolver(ordered)
    switches = tuple(
        _switch(d, snapshot, by_id, switch_ids, highlights) for d in ordered if d.role is Role.SWITCH
    )
    devices = tuple(
        _device(d, by_id, switches, recorded_by.get(d.id, []), extras.placements.get(d.id), highlights)
        for d in ordered
    )
    return AsBuiltRecord(
        customer=site.customer,
        site_id=site.site_id,
        site_name=site.site_name or snapshot.site.name,
        address=site.address,
        version=site.version,
        content_hash=content_hash or snapshot.content_hash(),
        generated_at=generated_at,
        scan=ScanSummary(
            started_at=snapshot.scan.started_at,
            finished_at=snapshot.scan.finished_at,
            agent_version=snapshot.scan.agent_version,
            agent_host=snapshot.scan.agent_host,
            scopes=snapshot.scan.scopes,
            methods=snapshot.scan.methods,
        ),
        baseline=baseline,
        devices=devices,
        switches=switches,
        links=_links(snapshot.lldp_neighbors, switch_ids, by_id),
        recorders=recorders,
        streams=streams,
        changes=_change_set(diff, baseline) if diff is not None else None,
        notes=tuple(
            ScanNote(
                target=p.target, driver=p.driver, stage=p.stage.value, kind=p.kind.value, message=p.message
            )
            for p in snapshot.problems
        ),
        floor_plans=extras.floor_plans,
        photos=extras.photos,
        quote=extras.quote,
        visits=extras.visits,
    )


# ---------------------------------------------------------------- changes


def _highlights(changes: Iterable[Change]) -> dict[str, tuple[Highlight, str]]:
    out: dict[str, tuple[Highlight, str]] = {}
    for c in changes:
        highlight = _HIGHLIGHT.get(c.kind)
        if highlight is None:
            continue  # missing devices are not in this snapshot
        held = out.get(c.device_id)
        if held is None or _HIGHLIGHT_RANK[highlight] < _HIGHLIGHT_RANK[held[0]]:
            out[c.device_id] = (highlight, c.summary)
    return out


def _change_set(diff: SiteDiff, baseline: BaselineInfo | None) -> ChangeSet:
    return ChangeSet(
        against_version=baseline.version if baseline else None,
        counts=diff.counts(),
        entries=tuple(
            ChangeEntry(
                kind=c.kind.value,
                device_id=c.device_id,
                old_device_id=c.old_device_id,
                role=c.role.value,
                label=c.label,
                position=c.position,
                old_position=c.old_position,
                summary=c.summary,
                state=c.state.value if c.state else None,
                fields=tuple(_field(f) for f in c.fields),
            )
            for c in diff.changes
        ),
    )


def _field(f: FieldChange) -> FieldChangeEntry:
    def text(value: object) -> str | None:
        return None if value is None else str(value)

    if f.text_diff is not None:
        return FieldChangeEntry(path=f.path, text=f.describe())
    return FieldChangeEntry(path=f.path, old=text(f.old), new=text(f.new), text=f.describe())


# ---------------------------------------------------------------- devices


def _identity(d: Device) -> dict[str, Any]:
    """The fields every entry shares (``Identified``)."""
    return {
        "id": d.id,
        "name": device_name(d),
        "vendor": d.identity.vendor,
        "model": d.identity.model,
        "serial": d.identity.serial,
        "firmware": d.identity.firmware,
        "ip": d.network.ip,
    }


def _device(
    d: Device,
    by_id: dict[str, Device],
    switches: tuple[SwitchEntry, ...],
    recorded_by: list[ChannelRef],
    placement: str | None,
    highlights: dict[str, tuple[Highlight, str]],
) -> DeviceEntry:
    a = d.attachment
    shared = False
    if a is not None:
        entry = next((s for s in switches if s.id == a.switch_id), None)
        port = next((p for p in entry.ports if p.name == a.port), None) if entry else None
        shared = bool(port and port.unmanaged)
    highlight, summary = highlights.get(d.id, (None, None))
    return DeviceEntry(
        **_identity(d),
        role=d.role.value,
        mac=d.identity.mac,
        hostname=d.identity.hostname,
        switch_id=a.switch_id if a else None,
        switch_name=switch_name(a, by_id) if a else None,
        port=a.port if a else None,
        vlan=a.vlan if a else None,
        poe_status=a.poe_status.value if a and a.poe_status else None,
        poe_class=a.poe_class if a else None,
        poe_w=a.poe_power_w if a else None,
        shares_port=shared,
        recorded_by=tuple(recorded_by),
        location=d.identity.location,
        placement=placement,
        highlight=highlight,
        change_summary=summary,
    )


def _streams(d: Device) -> list[StreamEntry]:
    if d.onvif is None:
        return []
    out = []
    for p in d.onvif.profiles:
        v = p.video_encoder
        out.append(
            StreamEntry(
                device_id=d.id,
                device_name=device_name(d),
                token=p.token,
                name=p.name,
                encoding=v.encoding if v else None,
                width=v.width if v else None,
                height=v.height if v else None,
                frame_rate=v.frame_rate if v else None,
                bitrate_kbps=v.bitrate_kbps if v else None,
                gov_length=v.gov_length if v else None,
                codec_profile=v.profile if v else None,
                uri=without_userinfo(p.stream_uri),
            )
        )
    return out


def _recorder(
    d: Device,
    by_id: dict[str, Device],
    streams_of: dict[str, list[StreamEntry]],
    highlights: dict[str, tuple[Highlight, str]],
) -> RecorderEntry:
    info = d.recorder
    channels = []
    for ch, camera in recorder_channels(d, by_id):
        channels.append(
            ChannelEntry(
                channel=ch.channel,
                name=ch.name,
                camera_id=camera.id if camera else None,
                camera_name=device_name(camera) if camera else None,
                source_address=ch.source_address,
                retention_days=ch.recording_days,
                streams=tuple(streams_of.get(camera.id, ())) if camera else (),
            )
        )
    return RecorderEntry(
        **_identity(d),
        channel_count=info.channel_count if info else None,
        channels=tuple(channels),
        highlight=highlights.get(d.id, (None, None))[0],
    )


# ---------------------------------------------------------------- switches, ports, links


def switch_resolver(devices: Iterable[Device]) -> dict[str, str]:
    """chassis MAC / management IP / system name (lower case) → Device.id of a scanned switch."""
    out: dict[str, str] = {}
    for s in devices:
        if s.role is not Role.SWITCH:
            continue
        for key in (s.identity.mac, s.network.ip, s.identity.hostname):
            if key:
                out.setdefault(key.lower(), s.id)
    return out


def _far_switch(n: LldpNeighbor, switch_ids: dict[str, str]) -> str | None:
    for key in (n.chassis_id, n.management_ip, n.system_name):
        if key and (found := switch_ids.get(key.lower())) is not None:
            return found
    return None


@dataclass(frozen=True)
class PortFacts:
    """One port of a switch as a record shows it: what the switch reported of it (when it listed the
    port), the scanned devices (natural name order) and unknown MACs seen on it, its LLDP neighbour."""

    name: str
    reported: SwitchPort | None
    neighbour: LldpNeighbor | None
    far_switch: str | None  # the scanned switch the neighbour is, if it is one
    lldp_uplink: bool  # the neighbour forwards for others
    devices: tuple[Device, ...]
    unknown_macs: tuple[str, ...]

    @property
    def uplink(self) -> bool:
        """The snapshot's ``is_uplink`` (the agent's decision) for a port the switch listed; for one it
        did not, LLDP's: the neighbour is a scanned switch, or forwards for others (drivers.uplinks)."""
        if self.reported is not None:
            return self.reported.is_uplink
        return self.far_switch is not None or self.lldp_uplink

    @property
    def neighbour_text(self) -> str | None:
        n = self.neighbour
        return f"{n.system_name or n.chassis_id} {n.port_id}".strip() if n else None

    @property
    def poe_status(self) -> str | None:
        poe = self.reported.poe if self.reported else None
        return poe.status.value if poe and poe.status else None

    @property
    def poe_class(self) -> int | None:
        poe = self.reported.poe if self.reported else None
        return poe.power_class if poe else None

    @property
    def poe_w(self) -> float | None:
        poe = self.reported.poe if self.reported else None
        return poe.power_w if poe else None


def switch_ports(
    sw: Device, snapshot: Snapshot, by_id: dict[str, Device], switch_ids: dict[str, str]
) -> tuple[PortFacts, ...]:
    """Every port the switch reported plus every port a device, an unknown MAC or an LLDP neighbour
    was seen on, in natural port order (Gi1/0/2 before Gi1/0/10)."""
    on_port: dict[str, list[Device]] = defaultdict(list)
    for d in snapshot.devices:
        if d.attachment is not None and d.attachment.switch_id == sw.id:
            on_port[d.attachment.port].append(d)
    unknown: dict[str, list[str]] = defaultdict(list)
    for b in snapshot.port_bindings:
        if b.switch_id == sw.id and (b.device_id is None or b.device_id not in by_id):
            unknown[b.port].append(b.mac)
    neighbours = {n.local_port: n for n in snapshot.lldp_neighbors if n.switch_id == sw.id}
    lldp_uplinks = lldp_uplink_ports(neighbours.values())
    reported = {p.name: p for p in (sw.switch.ports if sw.switch else ())}
    names = sorted(reported.keys() | on_port.keys() | unknown.keys() | neighbours.keys(), key=natural_key)
    return tuple(
        PortFacts(
            name=name,
            reported=reported.get(name),
            neighbour=(n := neighbours.get(name)),
            far_switch=_far_switch(n, switch_ids) if n else None,
            lldp_uplink=name in lldp_uplinks,
            devices=tuple(sorted(on_port[name], key=lambda d: natural_key(device_name(d)))),
            unknown_macs=tuple(sorted(unknown[name])),
        )
        for name in names
    )


def _switch(
    sw: Device,
    snapshot: Snapshot,
    by_id: dict[str, Device],
    switch_ids: dict[str, str],
    highlights: dict[str, tuple[Highlight, str]],
) -> SwitchEntry:
    info = sw.switch
    ports = []
    for port in switch_ports(sw, snapshot, by_id, switch_ids):
        p, n = port.reported, port.neighbour
        ports.append(
            PortEntry(
                name=port.name,
                alias=p.alias if p else None,
                up=p.oper_up if p else None,
                speed_mbps=p.speed_mbps if p else None,
                vlan=p.vlan if p else None,
                poe_status=port.poe_status,
                poe_class=port.poe_class,
                poe_w=port.poe_w,
                uplink=port.uplink,
                neighbour=port.neighbour_text,
                neighbour_switch_id=port.far_switch,
                neighbour_port=n.port_id if n else None,
                device_ids=tuple(d.id for d in port.devices),
                unknown_macs=port.unknown_macs,
            )
        )
    draws = [p.poe_w for p in ports if p.poe_w is not None]
    return SwitchEntry(
        **_identity(sw),
        location=sw.identity.location,
        poe_budget_w=info.poe_budget_w if info else None,
        poe_used_w=round(sum(draws), 1) if draws else None,
        ports=tuple(ports),
        highlight=highlights.get(sw.id, (None, None))[0],
    )


def _links(
    neighbours: Sequence[LldpNeighbor], switch_ids: dict[str, str], by_id: dict[str, Device]
) -> tuple[SwitchLink, ...]:
    """One link per cable: switch–switch links reported from both ends are kept once."""
    seen: set[frozenset[tuple[str, str]]] = set()
    links: list[SwitchLink] = []
    for n in neighbours:
        far = _far_switch(n, switch_ids)
        if far is None and "bridge" not in n.capabilities:
            continue  # a camera or phone announcing itself: not an inter-switch link
        if far is not None:
            far_port = _far_port(n, far, neighbours, switch_ids)
            cable = frozenset({(n.switch_id, n.local_port), (far, far_port)})
            if cable in seen:
                continue
            seen.add(cable)
            links.append(
                SwitchLink(
                    a_id=n.switch_id,
                    a_port=n.local_port,
                    b_id=far,
                    b_name=device_name(by_id[far]),
                    b_port=far_port,
                )
            )
        else:
            links.append(
                SwitchLink(
                    a_id=n.switch_id,
                    a_port=n.local_port,
                    b_id=None,
                    b_name=n.system_name or n.chassis_id,
                    b_port=n.port_id,
                )
            )
    return tuple(links)


def _far_port(
    n: LldpNeighbor, far: str, neighbours: Sequence[LldpNeighbor], switch_ids: dict[str, str]
) -> str:
    """The far end's own name for its port when it reported the cable back; else the LLDP port id."""
    for m in neighbours:
        if (
            m.switch_id == far
            and _same_port(m.port_id, n.local_port)
            and _far_switch(m, switch_ids) == n.switch_id
        ):
            return m.local_port
    return n.port_id


def _same_port(port_id: str, ifname: str) -> bool:
    try:
        return canonical_ifname(port_id) == ifname
    except ValueError:
        return port_id == ifname
