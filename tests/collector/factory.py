"""Snapshots for collector tests and benchmarks, built from the drivers.schema models.

``depot()`` is a small site modelled on lab/sites/small.yaml (two switches, cameras, a recorder);
``large_site(n)`` has n devices. ``with_device``/``without``/``edit`` return changed copies.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from drivers.schema import (
    Attachment,
    ConfigText,
    Device,
    DeviceIdentity,
    MediaProfile,
    NetworkSettings,
    OnvifInfo,
    PoePort,
    PoeStatus,
    Problem,
    ProblemKind,
    Role,
    ScanInfo,
    SiteRef,
    Snapshot,
    Stage,
    SwitchInfo,
    SwitchPort,
    VideoEncoderSettings,
)

SITE = "depot-nord"
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SW_CORE = "mac:00:1b:54:c2:10:00"
SW_YARD = "mac:94:18:82:7a:20:00"

CORE_CONFIG = """\
Building configuration...

Current configuration : 4211 bytes
!
! Last configuration change at 02:11:09 UTC Mon Nov 23 2026 by admin
! NVRAM config last updated at 02:11:10 UTC Mon Nov 23 2026 by admin
!
version 15.2
hostname sw-core
ntp clock-period 36028797
!
interface GigabitEthernet1/0/1
 description cam-entrance
 switchport access vlan 20
 power inline auto
!
end
"""


def port_name(n: int) -> str:
    return f"GigabitEthernet1/0/{n}"


def switch(
    name: str,
    mac: str,
    ip: str,
    *,
    ports: Iterable[SwitchPort] = (),
    vendor: str = "Cisco",
    model: str = "C2960X",
) -> Device:
    return Device(
        role=Role.SWITCH,
        identity=DeviceIdentity(vendor=vendor, model=model, serial=f"SN-{name}", firmware="15.2(7)E8",
                                mac=mac, hostname=name),
        network=NetworkSettings(ip=ip, prefix_length=24),
        switch=SwitchInfo(ports=tuple(ports), poe_budget_w=370, uptime_s=1000),
        drivers=("snmp",),
    )  # fmt: skip


def poe_port(
    n: int, *, alias: str | None = None, status: PoeStatus = PoeStatus.DELIVERING, vlan: int = 20
) -> SwitchPort:
    return SwitchPort(
        if_index=10100 + n,
        name=port_name(n),
        alias=alias,
        admin_up=True,
        oper_up=status is PoeStatus.DELIVERING,
        speed_mbps=100,
        vlan=vlan,
        poe=PoePort(admin_enabled=True, status=status, power_class=4, power_w=6.5),
        in_octets=1000 * n,
        out_octets=2000 * n,
    )


def camera(
    name: str,
    mac: str,
    ip: str,
    *,
    switch_id: str | None = SW_YARD,
    switch_name: str = "sw-yard",
    port: int | None = 1,
    vendor: str = "HIKVISION",
    model: str = "DS-2CD2T47G2-L",
    serial: str | None = None,
    firmware: str = "V5.7.10 build 220819",
    bitrate_kbps: int = 4096,
    role: Role = Role.CAMERA,
) -> Device:
    attachment = None
    if switch_id is not None and port is not None:
        attachment = Attachment(
            switch_id=switch_id, switch_name=switch_name, port=port_name(port), vlan=20,
            poe_status=PoeStatus.DELIVERING, poe_class=4, poe_power_w=6.5,
        )  # fmt: skip
    return Device(
        role=role,
        identity=DeviceIdentity(vendor=vendor, model=model, serial=serial or f"SER-{name}", firmware=firmware,
                                mac=mac, hostname=name),
        network=NetworkSettings(ip=ip, prefix_length=24, gateway="10.77.0.1", dns=("10.77.0.1", "10.77.0.2")),
        onvif=OnvifInfo(
            endpoint_reference=f"urn:uuid:{mac.replace(':', '')}",
            profiles=(
                MediaProfile(token="profile_1", name="Main", stream_uri=f"rtsp://{ip}/main",
                             video_encoder=VideoEncoderSettings(encoding="H265", width=2560, height=1440,
                                                                frame_rate=25, bitrate_kbps=bitrate_kbps)),
            ),
            clock_offset_s=0.4,
        ),
        attachment=attachment,
        drivers=("onvif",),
        discovered_by=("wsd", "arp"),
        uptime_s=86400,
    )  # fmt: skip


def snapshot(
    devices: Iterable[Device],
    *,
    site_id: str = SITE,
    configs: Iterable[ConfigText] = (),
    problems: Iterable[Problem] = (),
    started_at: datetime = T0,
) -> Snapshot:
    return Snapshot(
        site=SiteRef(site_id=site_id, name="Depot Nord"),
        scan=ScanInfo(agent_version="0.1.0", agent_host="agent-1", started_at=started_at,
                      finished_at=started_at + timedelta(seconds=42), scopes=("10.77.0.0/24",)),
        devices=tuple(devices),
        configs=tuple(configs),
        problems=tuple(problems),
    )  # fmt: skip


def depot(*, site_id: str = SITE, started_at: datetime = T0, config: str = CORE_CONFIG) -> Snapshot:
    """sw-core (Gi1/0/1-3 cameras), sw-yard (Gi1/0/1-3 cameras), an NVR on sw-core Gi1/0/20."""
    core_cams = [
        camera("cam-entrance", "ac:cc:8e:5a:01:01", "10.77.0.21", switch_id=SW_CORE, switch_name="sw-core",
               port=1, vendor="AXIS", model="P3245-LVE"),
        camera("cam-lobby", "ac:cc:8e:5a:01:02", "10.77.0.22", switch_id=SW_CORE, switch_name="sw-core",
               port=2, vendor="AXIS", model="M3106-L Mk II"),
    ]  # fmt: skip
    yard_cams = [
        camera(
            "cam-gate",
            "c0:56:e3:44:20:01",
            "10.77.0.61",
            port=1,
            serial="DS-2CD2T47G2-L20230702AAWRJ80000001",
        ),
        camera("cam-parking", "ac:cc:8e:5a:02:01", "10.77.0.71", port=3, vendor="AXIS", model="Q1798-LE"),
    ]
    nvr = camera(
        "nvr-main", "c0:56:e3:44:90:01", "10.77.0.11", switch_id=SW_CORE, switch_name="sw-core", port=20,
        role=Role.RECORDER, model="DS-7616NI-I2/16P",
    )  # fmt: skip
    core = switch(
        "sw-core",
        "00:1b:54:c2:10:00",
        "10.77.0.2",
        ports=[poe_port(1, alias="cam-entrance"), poe_port(2, alias="cam-lobby"), poe_port(20)],
    )
    yard = switch("sw-yard", "94:18:82:7a:20:00", "10.77.0.3", vendor="Aruba", model="2530-24G-PoEP",
                  ports=[poe_port(1, alias="cam-gate"), poe_port(3, alias="cam-parking")])  # fmt: skip
    return snapshot(
        [core, yard, nvr, *core_cams, *yard_cams],
        site_id=site_id,
        started_at=started_at,
        configs=[ConfigText(device_id=SW_CORE, kind="running-config", text=config, source="cli.cisco_ios")],
    )


def with_devices(snap: Snapshot, *devices: Device, drop: Iterable[str] = (), **changes: Any) -> Snapshot:
    """A copy of ``snap`` without the ``drop`` ids, plus/replacing ``devices``, with other fields changed."""
    replaced = {d.id for d in devices} | set(drop)
    kept = [d for d in snap.devices if d.id not in replaced]
    data = {name: getattr(snap, name) for name in type(snap).model_fields}
    data.update(devices=(*kept, *devices), **changes)
    return Snapshot(**data)


def edit(model: Any, **changes: Any) -> Any:
    """A copy of a frozen record with fields changed; dotted names reach into facets (network__ip)."""
    direct = {k: v for k, v in changes.items() if "__" not in k}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in changes.items():
        if "__" in key:
            head, rest = key.split("__", 1)
            nested.setdefault(head, {})[rest] = value
    for head, sub in nested.items():
        direct[head] = edit(getattr(model, head), **sub)
    data = {name: getattr(model, name) for name in type(model).model_fields}
    data.update(direct)
    return type(model)(**data)


def device(snap: Snapshot, hostname: str) -> Device:
    return next(d for d in snap.devices if d.identity.hostname == hostname)


def problem(target: str, message: str = "timed out after 5 s") -> Problem:
    return Problem(
        target=target, driver="onvif", stage=Stage.COLLECT, kind=ProblemKind.TIMEOUT, message=message
    )


def large_site(n_devices: int, *, site_id: str = SITE, started_at: datetime = T0, seed: int = 0) -> Snapshot:
    """n devices: one 48-port switch per 46 cameras, cameras on its ports, a running-config per switch."""
    per_switch = 46
    n_switches = max(1, -(-n_devices // (per_switch + 1)))
    devices: list[Device] = []
    configs: list[ConfigText] = []
    remaining = n_devices - n_switches
    for s in range(n_switches):
        sw_mac = f"02:00:00:{s // 256:02x}:{s % 256:02x}:00"
        sw_name = f"sw-{s:03d}"
        count = min(per_switch, remaining)
        remaining -= count
        ports = [poe_port(p + 1, alias=f"cam-{s:03d}-{p + 1:02d}") for p in range(count)]
        sw = switch(sw_name, sw_mac, f"10.{100 + s // 250}.{s % 250}.2", ports=ports)
        devices.append(sw)
        configs.append(
            ConfigText(device_id=sw.id, kind="running-config", text=CORE_CONFIG.replace("sw-core", sw_name))
        )
        for p in range(count):
            devices.append(
                camera(
                    f"cam-{s:03d}-{p + 1:02d}", f"0a:{seed:02x}:00:{s // 256:02x}:{s % 256:02x}:{p + 1:02x}",
                    f"10.{100 + s // 250}.{s % 250}.{p + 10}",
                    switch_id=sw.id, switch_name=sw_name, port=p + 1,
                )
            )  # fmt: skip
    return snapshot(devices, site_id=site_id, started_at=started_at, configs=configs)
