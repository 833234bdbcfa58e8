"""Driver reports → one `Device` per device, plus the switch tables they carried. Pure.

Several drivers read one device (ONVIF and mDNS for a camera; SNMP and CLI for a switch); each
returns a partial `DeviceReport`. Reports are merged facet by facet: the first report (in driver
priority order) that knows a field wins, and keyed lists (ports, profiles, channels) are united by
key, so CLI adds a port alias SNMP lacked and SNMP adds PoE that CLI lacked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from drivers import vendors
from drivers.base import Candidate, DeviceReport
from drivers.schema import (
    ConfigText,
    Device,
    DeviceIdentity,
    LldpNeighbor,
    MacEntry,
    NetworkSettings,
    Problem,
    Record,
    Role,
    Stage,
    device_id,
)

R = TypeVar("R", bound=Record)

# Who is trusted first for a shared field: ONVIF knows cameras best, SNMP is the structured view
# of a switch, CLI fills gaps (and brings the running-config).
DRIVER_PRIORITY = ("onvif", "snmp", "cli")


def driver_rank(name: str) -> int:
    family = name.split(".", 1)[0]
    return DRIVER_PRIORITY.index(family) if family in DRIVER_PRIORITY else len(DRIVER_PRIORITY)


def merge_records(first: R | None, second: R | None) -> R | None:
    """Field-wise merge of two records of one type: `first` wins where both know a value."""
    if first is None:
        return second
    if second is None:
        return first
    values: dict[str, Any] = {}
    for name in type(first).model_fields:
        a, b = getattr(first, name), getattr(second, name)
        if isinstance(a, Record) and isinstance(b, Record) and type(a) is type(b):
            values[name] = merge_records(a, b)
        elif _is_keyed(a) and _is_keyed(b):
            values[name] = merge_keyed(a, b)
        else:
            values[name] = b if _is_empty(a) else a
    return type(first).model_validate(values)


def merge_keyed(first: Sequence[R], second: Sequence[R]) -> tuple[R, ...]:
    """Union of two keyed record lists; records with the same key are merged (first wins)."""
    merged: dict[tuple[str, ...], R] = {}
    for record in [*first, *second]:
        key = record.key()
        existing = merged.get(key)
        merged[key] = record if existing is None else merge_records(existing, record)  # type: ignore[assignment]
    return tuple(merged.values())


def _is_keyed(value: Any) -> bool:
    return (
        isinstance(value, tuple) and bool(value) and all(isinstance(v, Record) and type(v).KEY for v in value)
    )


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | tuple | list | dict) and not value)


def merge_device(
    candidate: Candidate,
    reports: Sequence[DeviceReport],
    role_hint: Role | None = None,
    shared_endpoints: frozenset[str] = frozenset(),
) -> Device:
    """One device from what discovery saw and what every driver read.

    With no report at all (only ARP, TCP or an unreadable device) the device still appears, with
    the role discovery suggests (else `other`) and its IP and MAC.
    """
    ordered = sorted(reports, key=lambda r: (driver_rank(r.driver), r.driver))
    identity: DeviceIdentity | None = None
    network: NetworkSettings | None = None
    onvif = recorder = switch = None
    role: Role | None = None
    for report in ordered:
        identity = merge_records(identity, report.identity)
        network = merge_records(network, report.network)
        onvif = merge_records(onvif, report.onvif)
        recorder = merge_records(recorder, report.recorder)
        switch = merge_records(switch, report.switch)
        role = role or report.role
    # What the vendor's mDNS TXT record says comes after every driver (Synology: model, serial, DSM).
    identity = merge_records(identity, vendors.identity_from_mdns(candidate)) or DeviceIdentity()
    if identity.mac is None and candidate.mac:
        identity = identity.model_copy(update={"mac": candidate.mac})
    # The device is known by the address we reached it at; what it reports goes second.
    network = merge_records(NetworkSettings(ip=candidate.ip), network) or NetworkSettings(ip=candidate.ip)
    if onvif is not None and onvif.endpoint_reference is None and candidate.wsd_endpoint:
        onvif = onvif.model_copy(update={"endpoint_reference": candidate.wsd_endpoint})
    role = role or role_hint or Role.OTHER
    endpoint = onvif.endpoint_reference if onvif else candidate.wsd_endpoint
    # Cloned firmware images announce one endpoint reference from several hosts: such a reference
    # identifies none of them, so identity falls back past it (to the IP, after MAC and serial).
    identifying_endpoint = endpoint if endpoint not in shared_endpoints else None
    return Device(
        id=device_id(
            mac=identity.mac,
            vendor=identity.vendor,
            serial=identity.serial,
            endpoint_reference=identifying_endpoint,
            ip=network.ip or candidate.ip,
        ),
        role=role,
        identity=identity,
        network=network,
        onvif=onvif,
        recorder=recorder,
        switch=switch,
        drivers=tuple(sorted({r.driver for r in reports})),
        discovered_by=tuple(sorted(candidate.sources)),
    )


def shared_endpoints(candidates: Iterable[Candidate], reports: Iterable[DeviceReport]) -> frozenset[str]:
    """Endpoint references that more than one host of this scan answered with."""
    owners: dict[str, set[str]] = {}
    for c in candidates:
        if c.wsd_endpoint:
            owners.setdefault(c.wsd_endpoint, set()).add(c.ip)
    for r in reports:
        if r.onvif and r.onvif.endpoint_reference:
            owners.setdefault(r.onvif.endpoint_reference, set()).add(r.ip)
    return frozenset(e for e, ips in owners.items() if len(ips) > 1)


def merge_devices(devices: Iterable[Device]) -> list[Device]:
    """Devices reached at two addresses (or found twice) collapse into one per identity."""
    merged: dict[str, Device] = {}
    for device in devices:
        existing = merged.get(device.id)
        if existing is None:
            merged[device.id] = device
            continue
        combined = merge_records(existing, device)
        assert combined is not None
        merged[device.id] = combined.model_copy(
            update={
                "drivers": tuple(sorted({*existing.drivers, *device.drivers})),
                "discovered_by": tuple(sorted({*existing.discovered_by, *device.discovered_by})),
                "role": existing.role if existing.role is not Role.OTHER else device.role,
            }
        )
    return list(merged.values())


def switch_tables(
    device: Device, reports: Sequence[DeviceReport]
) -> tuple[list[MacEntry], list[LldpNeighbor], dict[str, str]]:
    """Forwarding, LLDP and ARP tables a switch's drivers read, keyed to the switch's identity.

    An entry both SNMP and CLI read appears once; the one that knows its VLAN is kept.
    """
    entries: dict[tuple[str, str], MacEntry] = {}
    neighbors: dict[tuple[str, ...], LldpNeighbor] = {}
    arp: dict[str, str] = {}
    for report in sorted(reports, key=lambda r: (driver_rank(r.driver), r.driver)):
        for f in report.fdb:
            entry = MacEntry(switch_id=device.id, port=f.port, mac=f.mac, vlan=f.vlan, source=f.source)
            key = (entry.mac, entry.port)
            if key not in entries or (entries[key].vlan is None and entry.vlan is not None):
                entries[key] = entry
        for n in report.lldp:
            neighbor = LldpNeighbor(switch_id=device.id, **n.model_dump())
            neighbors.setdefault(neighbor.key(), neighbor)
        for a in report.arp:
            arp.setdefault(a.mac, a.ip)
    # The same MAC on two ports of one VLAN is a table moving under us: keep one, deterministically.
    by_key: dict[tuple[str, ...], MacEntry] = {}
    for entry in sorted(entries.values(), key=lambda e: (e.mac, e.port)):
        by_key.setdefault(entry.key(), entry)
    return list(by_key.values()), list(neighbors.values()), arp


def config_texts(device: Device, reports: Sequence[DeviceReport]) -> list[ConfigText]:
    texts: dict[str, ConfigText] = {}
    for report in sorted(reports, key=lambda r: (driver_rank(r.driver), r.driver)):
        for kind, text in report.configs.items():
            if text and kind not in texts:
                texts[kind] = ConfigText(device_id=device.id, kind=kind, text=text, source=report.driver)
    return list(texts.values())


def note_problems(device: Device, reports: Sequence[DeviceReport]) -> list[Problem]:
    """Parts of a device a driver could not read while it read the rest."""
    return [
        Problem(
            target=report.ip,
            driver=report.driver,
            stage=Stage.COLLECT,
            kind=note.kind,
            message=f"{note.operation}: {note.message}"[:2000],
            device_id=device.id,
        )
        for report in reports
        for note in report.notes
    ]
