"""Synthetic devices, reports and candidates for the agent's pure stages (no network involved)."""

from __future__ import annotations

from drivers.base import Candidate, DeviceReport, FdbEntry, LldpEntry
from drivers.schema import (
    Device,
    DeviceIdentity,
    LldpNeighbor,
    MacEntry,
    NetworkSettings,
    PoePort,
    PoeStatus,
    RecorderChannel,
    RecorderInfo,
    Role,
    SwitchInfo,
    SwitchPort,
)

CORE_MAC = "00:1b:54:c2:10:00"
YARD_MAC = "94:18:82:7a:20:00"
CORE_ID = f"mac:{CORE_MAC}"
YARD_ID = f"mac:{YARD_MAC}"


def core_port(n: int) -> str:
    return f"GigabitEthernet1/0/{n}"


def switch_device(
    mac: str,
    ip: str,
    hostname: str,
    port_names: list[str],
    poe: dict[str, PoePort] | None = None,
) -> Device:
    poe = poe or {}
    ports = tuple(SwitchPort(name=name, vlan=20, poe=poe.get(name)) for name in port_names)
    return Device(
        id=f"mac:{mac}",
        role=Role.SWITCH,
        identity=DeviceIdentity(vendor="Cisco", mac=mac, hostname=hostname),
        network=NetworkSettings(ip=ip),
        switch=SwitchInfo(ports=ports),
    )


def camera(mac: str, ip: str, role: Role = Role.CAMERA, recorder: RecorderInfo | None = None) -> Device:
    return Device(
        id=f"mac:{mac}",
        role=role,
        identity=DeviceIdentity(
            vendor="AXIS", model="P3245-LVE", serial=mac.replace(":", "").upper(), mac=mac
        ),
        network=NetworkSettings(ip=ip),
        recorder=recorder,
    )


def mac_entry(switch_id: str, port: str, mac: str, vlan: int | None = 20) -> MacEntry:
    return MacEntry(switch_id=switch_id, port=port, mac=mac, vlan=vlan, source="test")


def lldp(
    switch_id: str,
    port: str,
    chassis: str,
    caps: tuple[str, ...] = ("bridge",),
    name: str | None = None,
) -> LldpNeighbor:
    return LldpNeighbor(
        switch_id=switch_id,
        local_port=port,
        chassis_id=chassis,
        port_id="24",
        capabilities=caps,
        system_name=name,
    )


class SmallSite:
    """The small lab site's shape: core (Cisco) ↔ yard (ProCurve) over core:24/yard:24; cameras A, B on
    core 1 and 2; C on yard 1; D and E behind an unmanaged PoE switch on yard 10; an NVR on core 20."""

    A, B, C, D, E, NVR = (
        "ac:cc:8e:00:00:0a", "ac:cc:8e:00:00:0b", "c0:56:e3:00:00:0c",
        "c0:56:e3:00:00:0d", "3c:ef:8c:00:00:0e", "c0:56:e3:00:00:99",
    )  # fmt: skip
    IPS = {
        A: "10.77.0.21",
        B: "10.77.0.22",
        C: "10.77.0.61",
        D: "10.77.0.62",
        E: "10.77.0.63",
        NVR: "10.77.0.11",
    }

    def __init__(self, *, switch_macs_in_fdb: bool = True, with_lldp: bool = True) -> None:
        delivering = PoePort(admin_enabled=True, status=PoeStatus.DELIVERING, power_class=3, power_w=6.1)
        self.core = switch_device(
            CORE_MAC, "10.77.0.2", "sw-core", [core_port(n) for n in range(1, 25)], {core_port(1): delivering}
        )
        self.yard = switch_device(
            YARD_MAC,
            "10.77.0.3",
            "sw-yard",
            [str(n) for n in range(1, 25)],
            {"10": PoePort(admin_enabled=True, status=PoeStatus.DELIVERING, power_class=4, power_w=21.0)},
        )
        channels = tuple(
            RecorderChannel(channel=i + 1, source_address=src)
            for i, src in enumerate(
                ["rtsp://10.77.0.21:554/axis-media/media.amp", "10.77.0.22", "10.77.0.99"]
            )
        )
        self.cameras = [camera(m, self.IPS[m]) for m in (self.A, self.B, self.C, self.D, self.E)]
        self.nvr = camera(
            self.NVR, self.IPS[self.NVR], Role.RECORDER, RecorderInfo(channel_count=16, channels=channels)
        )
        core_fdb = [
            (core_port(1), self.A), (core_port(2), self.B), (core_port(20), self.NVR),
            (core_port(24), self.C), (core_port(24), self.D), (core_port(24), self.E),
        ]  # fmt: skip
        yard_fdb = [
            ("1", self.C), ("10", self.D), ("10", self.E),
            ("24", self.A), ("24", self.B), ("24", self.NVR),
        ]  # fmt: skip
        self.mac_table = [mac_entry(CORE_ID, p, m) for p, m in core_fdb] + [
            mac_entry(YARD_ID, p, m) for p, m in yard_fdb
        ]
        if switch_macs_in_fdb:
            self.mac_table += [
                mac_entry(CORE_ID, core_port(24), YARD_MAC),
                mac_entry(YARD_ID, "24", CORE_MAC),
            ]
            # a switch's own MAC on its CPU / VLAN interface must be ignored, not make an uplink
            self.mac_table.append(mac_entry(CORE_ID, "Vlan20", CORE_MAC))
        self.lldp = (
            [
                lldp(CORE_ID, core_port(24), YARD_MAC, name="sw-yard"),
                lldp(YARD_ID, "24", CORE_MAC, name="sw-core"),
            ]
            if with_lldp
            else []
        )

    @property
    def devices(self) -> list[Device]:
        return [self.core, self.yard, *self.cameras, self.nvr]


def candidate(ip: str, **hints: object) -> Candidate:
    return Candidate.model_validate({"ip": ip, **hints})


def report(driver: str, ip: str, **fields: object) -> DeviceReport:
    return DeviceReport.model_validate({"driver": driver, "ip": ip, **fields})


__all__ = ["FdbEntry", "LldpEntry"]
