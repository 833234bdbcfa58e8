"""Where each device is plugged in: MAC ↔ IP ↔ switch port, edge ports told from uplinks. Pure.

The rule is Netdisco's `sanity_macs` (Macsuck/Nodes.pm): a port is an *uplink* when
  * an LLDP neighbour on it is a switch, or
  * it has learned a MAC that belongs to another scanned switch;
every other port is an *edge* port, including one that has learned several camera MACs and no
switch MAC — an unmanaged PoE switch in a cabinet — so all those cameras get that port.
A MAC learned on several switches is bound to its edge port (never to an uplink); if a broken or
unread switch leaves two edge candidates, the port that learned fewer MACs wins (it is nearer).

Invariants (tests/agent/test_correlate.py): no device is bound to an uplink; every bound port is
in that switch's port list (when the switch reported one); each MAC has at most one edge port.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from drivers.normalize import canonical_ip, canonical_mac
from drivers.schema import (
    Attachment,
    Device,
    LldpNeighbor,
    MacEntry,
    PoeStatus,
    PortBinding,
    Problem,
    ProblemKind,
    RecorderInfo,
    Role,
    Stage,
    SwitchInfo,
    SwitchPort,
)
from drivers.uplinks import forwards_for_others

PortKey = tuple[str, str]  # (switch_id, port)


@dataclass(frozen=True)
class Correlation:
    devices: tuple[Device, ...]
    port_bindings: tuple[PortBinding, ...]
    uplinks: Mapping[str, frozenset[str]]
    problems: tuple[Problem, ...] = field(default=())


def correlate(
    devices: Iterable[Device],
    mac_table: Iterable[MacEntry],
    lldp: Iterable[LldpNeighbor],
    arp: Mapping[str, str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Correlation:
    """Bind MACs to edge ports and give each device its Attachment.

    `arp` maps canonical MAC → IP (from switch ARP tables and the sweep); `aliases` maps other
    addresses a device answers to (the one it reports itself, behind NAT or in a loopback lab) → its
    id. Devices come back with `attachment` set, switch ports with `is_uplink` set and recorder
    channels with `camera_id`.
    """
    devices = list(devices)
    mac_table = list(mac_table)
    lldp = list(lldp)
    arp = dict(arp or {})
    switches = {d.id: d for d in devices if d.role is Role.SWITCH}

    port_macs: dict[PortKey, set[str]] = defaultdict(set)
    vlan_of: dict[tuple[PortKey, str], int | None] = {}
    for entry in mac_table:
        if entry.mac in _own_macs(switches.get(entry.switch_id)):
            continue  # a switch's own CPU/VLAN-interface MAC says nothing about its ports
        key = (entry.switch_id, entry.port)
        port_macs[key].add(entry.mac)
        vlan_of.setdefault((key, entry.mac), entry.vlan)

    uplinks = find_uplinks(switches, port_macs, lldp)
    known_ports = {sid: {p.name for p in (d.switch.ports if d.switch else ())} for sid, d in switches.items()}
    problems: list[Problem] = []
    unknown_ports: dict[str, set[str]] = defaultdict(set)

    candidates: dict[str, list[PortKey]] = defaultdict(list)
    for key, macs in port_macs.items():
        sid, port = key
        if key in uplinks:
            continue
        if known_ports.get(sid) and port not in known_ports[sid]:
            unknown_ports[sid].add(port)  # CPU, port-channel or a name the port list spells otherwise
            continue
        for mac in macs:
            candidates[mac].append(key)

    by_mac = {d.identity.mac: d for d in devices if d.identity.mac}
    lldp_macs = {(n.switch_id, n.local_port): _maybe_mac(n.chassis_id) for n in lldp}
    bindings: list[PortBinding] = []
    attachment_of: dict[str, Attachment] = {}
    for mac, keys in candidates.items():
        key = min(keys, key=lambda k: (len(port_macs[k]), k))
        sid, port = key
        device = by_mac.get(mac)
        sw_port = _port(switches[sid], port) if sid in switches else None
        vlan = vlan_of.get((key, mac))
        if vlan is None and sw_port is not None:
            vlan = sw_port.vlan
        ip = (device.network.ip if device else None) or arp.get(mac)
        evidence = ["fdb"]
        if mac in arp:
            evidence.append("arp")
        if lldp_macs.get(key) == mac:
            evidence.append("lldp")
        poe = sw_port.poe if sw_port else None
        if poe is not None and poe.status is PoeStatus.DELIVERING:
            evidence.append("poe")
        bindings.append(
            PortBinding(
                switch_id=sid,
                port=port,
                mac=mac,
                device_id=device.id if device else None,
                ip=ip,
                vlan=vlan,
                evidence=tuple(evidence),
            )
        )
        if device is not None and device.role is not Role.SWITCH:
            switch = switches.get(sid)
            attachment_of[device.id] = Attachment(
                switch_id=sid,
                switch_name=_switch_name(switch) if switch else None,
                port=port,
                vlan=vlan,
                poe_status=poe.status if poe else None,
                poe_class=poe.power_class if poe else None,
                poe_power_w=poe.power_w if poe else None,
            )

    for sid, ports in sorted(unknown_ports.items()):
        problems.append(
            Problem(
                target=sid,
                driver="correlate",
                stage=Stage.CORRELATE,
                kind=ProblemKind.PARSE,
                message="forwarding entries on ports missing from the port list: "
                + ", ".join(sorted(ports)[:10]),
                device_id=sid,
            )
        )

    uplink_ports = {sid: frozenset(p for s, p in uplinks if s == sid) for sid in switches}
    cameras = {d.id for d in devices if d.role is Role.CAMERA}
    camera_by_ip = {ip: did for ip, did in (aliases or {}).items() if did in cameras}
    camera_by_ip |= {d.network.ip: d.id for d in devices if d.network.ip and d.id in cameras}
    out: list[Device] = []
    for device in devices:
        update: dict[str, object] = {}
        if device.id in attachment_of:
            update["attachment"] = attachment_of[device.id]
        if device.switch is not None:
            update["switch"] = mark_uplinks(device.switch, uplink_ports.get(device.id, frozenset()))
        if device.recorder is not None:
            update["recorder"] = link_channels(device.recorder, camera_by_ip)
        out.append(device.model_copy(update=update) if update else device)

    return Correlation(
        devices=tuple(out),
        port_bindings=tuple(sorted(bindings, key=lambda b: b.key())),
        uplinks=uplink_ports,
        problems=tuple(problems),
    )


def find_uplinks(
    switches: Mapping[str, Device], port_macs: Mapping[PortKey, set[str]], lldp: Iterable[LldpNeighbor]
) -> set[PortKey]:
    """Ports that lead to another switch: by LLDP, or by a learned MAC of another scanned switch."""
    switch_macs: set[str] = set()
    switch_ips: set[str] = set()
    switch_names: set[str] = set()
    for device in switches.values():
        switch_macs |= _own_macs(device)
        if device.network.ip:
            switch_ips.add(device.network.ip)
        if device.identity.hostname:
            switch_names.add(device.identity.hostname.lower())

    uplinks: set[PortKey] = set()
    lldp = list(lldp)
    for n in lldp:
        if _is_switch_neighbor(n, switch_macs, switch_ips, switch_names):
            uplinks.add((n.switch_id, n.local_port))
            # The neighbour's chassis MAC is a switch MAC even when that switch was not scanned.
            chassis = _maybe_mac(n.chassis_id)
            if chassis:
                switch_macs.add(chassis)

    for key, macs in port_macs.items():
        own = _own_macs(switches.get(key[0]))
        if macs & (switch_macs - own):
            uplinks.add(key)
    return uplinks


def _is_switch_neighbor(n: LldpNeighbor, macs: set[str], ips: set[str], names: set[str]) -> bool:
    if _maybe_mac(n.chassis_id) in macs or (n.management_ip and n.management_ip in ips):
        return True
    if n.system_name and n.system_name.lower() in names:
        return True
    return forwards_for_others(n.capabilities)


def mark_uplinks(info: SwitchInfo, uplink_ports: frozenset[str] | set[str]) -> SwitchInfo:
    ports = tuple(
        p
        if p.is_uplink == (p.name in uplink_ports)
        else p.model_copy(update={"is_uplink": p.name in uplink_ports})
        for p in info.ports
    )
    return info.model_copy(update={"ports": ports})


def link_channels(recorder: RecorderInfo, camera_by_ip: Mapping[str, str]) -> RecorderInfo:
    """Recorder channel → camera, by the address the channel records from."""
    channels = []
    for ch in recorder.channels:
        host = source_host(ch.source_address) if ch.source_address else None
        camera_id = camera_by_ip.get(host) if host else None
        if camera_id and camera_id != ch.camera_id:
            ch = ch.model_copy(update={"camera_id": camera_id})
        channels.append(ch)
    return recorder.model_copy(update={"channels": tuple(channels)})


def source_host(address: str) -> str | None:
    """`rtsp://10.0.0.5:554/x`, `10.0.0.5:554` or `10.0.0.5` → `10.0.0.5` (None if not an IP)."""
    text = address.strip()
    host = (
        urlsplit(text).hostname if "://" in text else text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    )
    if not host:
        return None
    try:
        return canonical_ip(host)
    except ValueError:
        return None


def _own_macs(switch: Device | None) -> set[str]:
    if switch is None or not switch.identity.mac:
        return set()
    return {switch.identity.mac}


def _maybe_mac(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return canonical_mac(text)
    except ValueError:
        return None


def _port(switch: Device, name: str) -> SwitchPort | None:
    if switch.switch is None:
        return None
    return next((p for p in switch.switch.ports if p.name == name), None)


def _switch_name(switch: Device) -> str | None:
    return switch.identity.hostname or switch.network.ip
