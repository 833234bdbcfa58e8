"""Compare a scan's Snapshot with the simulated site's ground truth, field by field.

Used by the end-to-end scan tests (tests/e2e/test_scan_*.py) and the scan benchmark. Returns every
mismatch as a readable line, and how many fields were checked, so a failure says exactly what is
wrong and the benchmark can print a match percentage.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from drivers.schema import Device, Snapshot
from lab.truth import GroundTruth


@dataclass
class Comparison:
    checked: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return self.checked - len(self.mismatches)

    @property
    def percent(self) -> float:
        return 100.0 * self.matched / self.checked if self.checked else 0.0

    def check(self, where: str, name: str, got: Any, want: Any) -> None:
        self.checked += 1
        if isinstance(want, float) and isinstance(got, int | float):
            same = abs(got - want) < 0.05
        else:
            same = got == want
        if not same:
            self.mismatches.append(f"{where}: {name} is {got!r}, expected {want!r}")

    def summary(self) -> str:
        return f"{self.matched}/{self.checked} fields match ({self.percent:.1f} %)"


def compare(
    snapshot: Snapshot,
    truth: GroundTruth,
    address: Callable[[str], str] = lambda ip: ip,
    *,
    skip: Collection[str] = (),
    no_endpoint: Collection[str] = (),
) -> Comparison:
    """`address` maps a site address to where the lab serves it (loopback mode); devices named in
    `skip` are not checked; `no_endpoint` lists devices whose WS-Discovery is off (no endpoint)."""
    result = Comparison()
    devices = {d.id: d for d in snapshot.devices}
    for t in truth.devices:
        if t.name in skip:
            continue
        where = t.name
        d = devices.get(t.device_id)
        result.check(where, "found", d is not None, True)
        if d is None:
            continue
        for name, got, want in (
            ("role", d.role.value, t.role),
            ("vendor", d.identity.vendor, t.vendor),
            ("model", d.identity.model, t.model),
            ("serial", d.identity.serial, t.serial),
            ("firmware", d.identity.firmware, t.firmware),
            ("mac", d.identity.mac, t.mac if t.mac_visible else None),
            ("hostname", d.identity.hostname, t.hostname),
            ("ip", d.network.ip, address(t.ip)),
        ):
            result.check(where, name, got, want)
        if t.name not in no_endpoint and t.endpoint_reference:
            result.check(
                where, "endpoint", d.onvif.endpoint_reference if d.onvif else None, t.endpoint_reference
            )
        if t.mac_visible:  # without a MAC a device cannot be placed on a switch port
            _check_attachment(result, where, d, t)
        if t.role == "recorder":
            rec = d.recorder
            result.check(where, "channel_count", rec.channel_count if rec else None, t.channel_count)
            got_channels = {c.channel: c.camera_id for c in rec.channels} if rec else {}
            for ch in t.channels:
                if ch.camera in skip:
                    continue  # an unread camera has no MAC identity to point at
                result.check(
                    where, f"channel {ch.channel} camera", got_channels.get(ch.channel), ch.camera_id
                )
    for s in truth.switches:
        if s.name in skip:
            continue
        where = s.name
        d = devices.get(s.device_id)
        result.check(where, "found", d is not None, True)
        if d is None:
            continue
        # ProCurve's ENTITY-MIB model name is the part number alone ("J9773A" of "J9773A 2530-24G-PoEP"),
        # and SNMP is the first source for a switch: the part number is the model then.
        model = s.model if d.identity.model == s.model.split()[0] else d.identity.model
        for name, got, want in (
            ("role", d.role.value, "switch"),
            ("vendor", d.identity.vendor, s.vendor),
            ("model", model, s.model),
            ("serial", d.identity.serial, s.serial),
            ("firmware", d.identity.firmware, s.firmware),
            ("mac", d.identity.mac, s.mac),
            ("ip", d.network.ip, address(s.ip)),
        ):
            result.check(where, name, got, want)
        ports = {p.name: p for p in (d.switch.ports if d.switch else ())}
        for tp in s.ports:
            p = ports.get(tp.name)
            result.check(where, f"port {tp.name} present", p is not None, True)
            if p is None:
                continue
            result.check(where, f"port {tp.name} is_uplink", p.is_uplink, tp.is_uplink)
            if tp.poe.status.value == "delivering":
                status = p.poe.status.value if p.poe and p.poe.status else None
                result.check(where, f"port {tp.name} poe", status, "delivering")
    return result


def _check_attachment(result: Comparison, where: str, d: Device, t: Any) -> None:
    a = d.attachment
    result.check(where, "attached", a is not None, True)
    if a is None:
        return
    result.check(where, "switch", a.switch_id, t.switch_id)
    result.check(where, "port", a.port, t.port)
    result.check(where, "vlan", a.vlan, t.vlan)
    result.check(where, "poe_status", a.poe_status, t.poe_status)
    result.check(where, "poe_class", a.poe_class, t.poe_class)
    result.check(where, "poe_w", a.poe_power_w if a.poe_power_w is not None else 0.0, float(t.power_w))
