"""The snapshot contract: round trip, canonical hash, validation, committed JSON Schema."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from drivers import schema as s


def full_snapshot(*, shuffle_seed: int | None = None, **scan_overrides: object) -> s.Snapshot:
    """A snapshot using every record type, optionally with its records in a shuffled order."""
    started = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    scan = {
        "agent_version": "0.1.0",
        "agent_host": "site-box",
        "started_at": started,
        "finished_at": started + timedelta(seconds=7),
        "scopes": ("10.77.0.0/24",),
        "methods": ("arp", "wsd", "onvif", "snmp"),
        **scan_overrides,
    }
    switch = s.Device(
        role=s.Role.SWITCH,
        identity=s.DeviceIdentity(
            vendor="Cisco",
            model="WS-C2960X-24PS-L",
            serial="FOC2133X0AB",
            firmware="15.2(7)E8",
            mac="00:1b:54:c2:10:00",
            hostname="sw-core",
        ),
        network=s.NetworkSettings(ip="10.77.0.2", prefix_length=24),
        switch=s.SwitchInfo(
            sys_object_id="1.3.6.1.4.1.9.1.1208",
            ports=(
                s.SwitchPort(
                    if_index=10101,
                    name="Gi1/0/1",
                    alias="cam-entrance",
                    oper_up=True,
                    speed_mbps=100,
                    vlan=20,
                    poe=s.PoePort(
                        admin_enabled=True, status=s.PoeStatus.DELIVERING, power_class=3, power_w=6.1
                    ),
                    in_octets=123,
                ),
                s.SwitchPort(
                    if_index=10124, name="Gi1/0/24", oper_up=True, speed_mbps=1000, vlan=1, is_uplink=True
                ),
            ),
            vlans=(s.Vlan(vlan_id=20, name="CCTV"), s.Vlan(vlan_id=1, name="default")),
            poe_budget_w=370,
            poe_consumption_w=6.1,
            uptime_s=86400,
        ),
        drivers=("snmp",),
        discovered_by=("arp",),
    )
    camera = s.Device(
        role=s.Role.CAMERA,
        identity=s.DeviceIdentity(
            vendor="AXIS",
            model="P3245-LVE",
            serial="ACCC8E5A0101",
            firmware="10.12.182",
            mac="AC-CC-8E-5A-01-01",
            hostname="cam-entrance",
            location="Main entrance",
        ),
        network=s.NetworkSettings(
            ip="10.77.0.21",
            prefix_length=24,
            gateway="10.77.0.1",
            dns=("10.77.0.1",),
            ntp=("pool.ntp.org",),
            dhcp=False,
            protocols=(
                s.NetworkProtocol(name="RTSP", enabled=True, ports=(554,)),
                s.NetworkProtocol(name="HTTP", enabled=True, ports=(80,)),
            ),
        ),
        onvif=s.OnvifInfo(
            endpoint_reference="urn:uuid:4d454930-0000-1000-8000-accc8e5a0101",
            scopes=("onvif://www.onvif.org/name/cam-entrance",),
            services=(
                s.OnvifService(
                    namespace="http://www.onvif.org/ver10/device/wsdl",
                    xaddr="http://10.77.0.21/onvif/device_service",
                    version="2.60",
                ),
            ),
            profiles=(
                s.MediaProfile(
                    token="profile_1",
                    name="mainStream",
                    video_encoder=s.VideoEncoderSettings(
                        encoding="H264", width=1920, height=1080, frame_rate=25, bitrate_kbps=4096
                    ),
                    stream_uri="rtsp://10.77.0.21/axis-media/media.amp",
                ),
            ),
            users=(s.DeviceUser(username="root", level="Administrator"),),
            clock_offset_s=0.4,
            device_time=started,
        ),
        attachment=s.Attachment(
            switch_id="mac:00:1b:54:c2:10:00",
            switch_name="sw-core",
            port="Gi1/0/1",
            vlan=20,
            poe_status=s.PoeStatus.DELIVERING,
            poe_class=3,
            poe_power_w=6.1,
        ),
        drivers=("onvif",),
        discovered_by=("arp", "wsd"),
    )
    recorder = s.Device(
        role=s.Role.RECORDER,
        identity=s.DeviceIdentity(
            vendor="HIKVISION", model="DS-7616NI-I2/16P", serial="NVR1", mac="c0:56:e3:44:90:01"
        ),
        network=s.NetworkSettings(ip="10.77.0.11"),
        recorder=s.RecorderInfo(
            channel_count=16,
            channels=(
                s.RecorderChannel(
                    channel=1, name="cam-entrance", source_address="10.77.0.21", camera_id=camera.id
                ),
            ),
        ),
    )
    records: dict[str, list[object]] = {
        "devices": [switch, camera, recorder],
        "mac_table": [
            s.MacEntry(
                switch_id=switch.id, port="Gi1/0/1", mac="ac:cc:8e:5a:01:01", vlan=20, source="snmp:bridge"
            ),
            s.MacEntry(
                switch_id=switch.id, port="Gi1/0/24", mac="94:18:82:7a:20:00", vlan=20, source="snmp:bridge"
            ),
        ],
        "lldp_neighbors": [
            s.LldpNeighbor(
                switch_id=switch.id,
                local_port="Gi1/0/24",
                chassis_id="94:18:82:7a:20:00",
                port_id="24",
                system_name="sw-yard",
                capabilities=("bridge",),
            )
        ],
        "port_bindings": [
            s.PortBinding(
                switch_id=switch.id,
                port="Gi1/0/1",
                mac="ac:cc:8e:5a:01:01",
                device_id=camera.id,
                ip="10.77.0.21",
                vlan=20,
                evidence=("fdb", "poe"),
            )
        ],
        "configs": [
            s.ConfigText(device_id=switch.id, kind="running-config", text="hostname sw-core\n", source="cli")
        ],
        "problems": [
            s.Problem(
                target="10.77.0.23",
                driver="onvif",
                stage=s.Stage.COLLECT,
                kind=s.ProblemKind.AUTH,
                message="credential 'installer-axis' refused",
            ),
            s.Problem(
                target="10.77.0.42",
                driver="onvif",
                stage=s.Stage.COLLECT,
                kind=s.ProblemKind.TIMEOUT,
                message="no answer within 5 s",
            ),
        ],
    }
    if shuffle_seed is not None:
        rng = random.Random(shuffle_seed)
        for items in records.values():
            rng.shuffle(items)
    return s.Snapshot(
        site=s.SiteRef(site_id="meridian-nord", name="Depot Nord"), scan=s.ScanInfo(**scan), **records
    )  # type: ignore[arg-type]


def test_round_trip_is_lossless() -> None:
    snap = full_snapshot()
    again = s.Snapshot.model_validate_json(snap.canonical_json())
    assert again == snap
    assert again.canonical_json() == snap.canonical_json()
    assert again.content_hash() == snap.content_hash()


def test_hash_ignores_record_order() -> None:
    hashes = {full_snapshot(shuffle_seed=seed).content_hash() for seed in range(6)}
    jsons = {full_snapshot(shuffle_seed=seed).canonical_json() for seed in range(6)}
    assert len(hashes) == 1
    assert len(jsons) == 1


def test_hash_ignores_volatile_fields() -> None:
    base = full_snapshot()
    later = full_snapshot(
        started_at=datetime(2027, 1, 1, tzinfo=UTC),
        finished_at=datetime(2027, 1, 1, 0, 1, tzinfo=UTC),
        agent_version="9.9",
    )
    assert later.canonical_json() != base.canonical_json()
    assert later.content_hash() == base.content_hash()
    # volatile fields deep inside records: uptime, measured PoE power, clock offset, counters, messages
    devices = []
    for d in base.devices:
        if d.switch:
            ports = tuple(
                p.model_copy(
                    update={
                        "in_octets": 999_999,
                        "poe": p.poe.model_copy(update={"power_w": 5.5}) if p.poe else None,
                    }
                )
                for p in d.switch.ports
            )
            d = d.model_copy(update={"switch": d.switch.model_copy(update={"uptime_s": 1, "ports": ports})})
        if d.onvif:
            d = d.model_copy(update={"onvif": d.onvif.model_copy(update={"clock_offset_s": 7200.0})})
        devices.append(d.model_copy(update={"discovered_by": ("mdns",)}))
    problems = tuple(p.model_copy(update={"message": "other words"}) for p in base.problems)
    changed = base.model_copy(update={"devices": tuple(devices), "problems": problems})
    assert changed.content_hash() == base.content_hash()


@pytest.mark.parametrize(
    "path, value",
    [
        (("identity", "firmware"), "10.12.200"),
        (("network", "ip"), "10.77.0.99"),
        (("attachment", "port"), "Gi1/0/2"),
        (("attachment", "poe_status"), s.PoeStatus.SEARCHING),
        (("onvif", "users"), ()),
    ],
)
def test_hash_changes_with_any_significant_field(path: tuple[str, str], value: object) -> None:
    base = full_snapshot()
    camera = next(d for d in base.devices if d.role is s.Role.CAMERA)
    facet = getattr(camera, path[0]).model_copy(update={path[1]: value})
    changed_camera = camera.model_copy(update={path[0]: facet})
    changed = base.model_copy(
        update={"devices": tuple(changed_camera if d is camera else d for d in base.devices)}
    )
    assert changed.content_hash() != base.content_hash()


def test_hash_changes_when_a_device_is_added() -> None:
    base = full_snapshot()
    extra = s.Device(role=s.Role.OTHER, network=s.NetworkSettings(ip="10.77.0.200"))
    assert (
        s.Snapshot(**{**dict(base), "devices": (*base.devices, extra)}).content_hash() != base.content_hash()
    )


@pytest.mark.parametrize(
    "raw, canonical",
    [
        ("AC:CC:8E:5A:01:01", "ac:cc:8e:5a:01:01"),
        ("ac-cc-8e-5a-01-01", "ac:cc:8e:5a:01:01"),
        ("accc.8e5a.0101", "ac:cc:8e:5a:01:01"),
        ("ACCC8E5A0101", "ac:cc:8e:5a:01:01"),
        ("0:1b:54:c2:10:0", "00:1b:54:c2:10:00"),
        (b"\x00\x1bT\xc2\x10\x00", "00:1b:54:c2:10:00"),
    ],
)
def test_macs_are_normalised_at_the_boundary(raw: str | bytes, canonical: str) -> None:
    assert s.DeviceIdentity(mac=raw).mac == canonical


def test_interface_names_and_ips_are_normalised() -> None:
    port = s.SwitchPort(name="Gi1/0/3")
    assert port.name == "GigabitEthernet1/0/3"
    assert s.SwitchPort(name=" fa0/1 ").name == "FastEthernet0/1"
    assert s.SwitchPort(name="A1").name == "A1"  # ProCurve module ports stay as they are
    assert s.NetworkSettings(ip="2001:DB8::0:1").ip == "2001:db8::1"


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("mac", "ac:cc:8e:5a:01", "not a MAC address"),
        ("mac", "zz:cc:8e:5a:01:01", "not a MAC address"),
    ],
)
def test_bad_mac_is_refused_with_a_clear_message(field: str, value: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        s.DeviceIdentity(**{field: value})
    assert fragment in str(err.value)
    assert err.value.errors()[0]["loc"] == (field,)


def test_bad_ip_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError) as err:
        s.NetworkSettings(ip="10.77.0.300")
    assert "not an IP address" in str(err.value)
    assert err.value.errors()[0]["loc"] == ("ip",)


def test_unknown_fields_are_refused_and_named() -> None:
    data = json.loads(full_snapshot().canonical_json())
    data["devices"][0]["identity"]["password"] = "hunter2"
    with pytest.raises(ValidationError) as err:
        s.Snapshot.model_validate(data)
    locs = [e["loc"] for e in err.value.errors()]
    assert ("devices", 0, "identity", "password") in locs
    assert "Extra inputs are not permitted" in str(err.value)


def test_naive_timestamps_and_wrong_versions_are_refused() -> None:
    data = json.loads(full_snapshot().canonical_json())
    data["scan"]["started_at"] = "2026-11-23T08:00:00"
    with pytest.raises(ValidationError, match="timezone"):
        s.Snapshot.model_validate(data)
    data = json.loads(full_snapshot().canonical_json())
    data["schema_version"] = 99
    with pytest.raises(ValidationError):
        s.Snapshot.model_validate(data)


def test_duplicate_record_keys_are_refused() -> None:
    snap = full_snapshot()
    with pytest.raises(ValidationError, match="duplicate keys"):
        s.Snapshot(**{**dict(snap), "devices": (*snap.devices, snap.devices[0])})


def test_records_are_frozen() -> None:
    with pytest.raises(ValidationError):
        full_snapshot().devices[0].role = s.Role.OTHER  # type: ignore[misc]


def test_device_identity_rule() -> None:
    assert s.device_id(mac="AC:CC:8E:5A:01:01", serial="X") == "mac:ac:cc:8e:5a:01:01"
    assert s.device_id(vendor="AXIS", serial="ACCC8E5A0101") == "serial:axis:ACCC8E5A0101"
    assert s.device_id(endpoint_reference="urn:uuid:ABC") == "wsd:urn:uuid:abc"
    assert s.device_id(ip="10.0.0.1") == "ip:10.0.0.1"
    with pytest.raises(ValueError, match="needs a MAC"):
        s.device_id()
    # a Device without an explicit id gets one by the same rule
    assert s.Device(role="camera", identity={"vendor": "Dahua", "serial": "7E0"}).id == "serial:dahua:7E0"


def test_committed_json_schema_is_current() -> None:
    committed = s.JSON_SCHEMA_PATH.read_text()
    assert committed == s.json_schema_text(), (
        "drivers/snapshot.schema.json is stale: run `python -m drivers.schema` and commit the result"
    )
    assert json.loads(committed)["properties"]["schema_version"]["const"] == s.SCHEMA_VERSION


def test_schema_module_imports_no_vendor_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, drivers.schema; bad = [m for m in ('netmiko', 'pysnmp', 'zeep', 'onvif', 'scapy', "
        "'zeroconf', 'aiohttp', 'sqlmodel') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
