"""Reports of several drivers → one Device; switch tables keyed to the switch's identity."""

from __future__ import annotations

from agent.merge import config_texts, merge_device, merge_devices, note_problems, switch_tables
from drivers.base import DeviceReport, FdbEntry, LldpEntry, ReportNote
from drivers.schema import (
    DeviceIdentity,
    NetworkSettings,
    OnvifInfo,
    PoePort,
    PoeStatus,
    ProblemKind,
    Role,
    SwitchInfo,
    SwitchPort,
)
from tests.agent.synth import candidate, report

MAC = "00:1b:54:c2:10:00"


def switch_reports() -> list[DeviceReport]:
    snmp = report(
        "snmp", "10.77.0.2", role="switch",
        identity=DeviceIdentity(vendor="Cisco", model="WS-C2960X-24PS-L", mac=MAC, hostname="sw-core"),
        switch=SwitchInfo(sys_object_id="1.3.6.1.4.1.9.1.1208", ports=(
            SwitchPort(name="Gi1/0/1", poe=PoePort(status=PoeStatus.DELIVERING, power_w=6.1)),
            SwitchPort(name="Gi1/0/2"),
        )),
        fdb=[FdbEntry(port="Gi1/0/1", mac="ac:cc:8e:00:00:01", vlan=None, source="snmp:bridge")],
        lldp=[LldpEntry(local_port="Gi1/0/24", chassis_id="94:18:82:7a:20:00", port_id="24")],
    )  # fmt: skip
    cli = report(
        "cli.cisco_ios", "10.77.0.2", role="switch",
        identity=DeviceIdentity(serial="FOC2133X0AB", firmware="15.2(7)E8", model="ignored: SNMP came first"),
        switch=SwitchInfo(ports=(SwitchPort(name="GigabitEthernet1/0/1", alias="cam-entrance"),
                                 SwitchPort(name="Gi1/0/3", alias="spare"))),
        fdb=[FdbEntry(port="Gi1/0/1", mac="ac:cc:8e:00:00:01", vlan=20, source="cli")],
        arp=[{"ip": "10.77.0.21", "mac": "ac:cc:8e:00:00:01"}],
        configs={"running-config": "hostname sw-core\n"},
        notes=[ReportNote(kind=ProblemKind.UNSUPPORTED, operation="show power inline", message="no PoE")],
    )  # fmt: skip
    return [cli, snmp]  # out of priority order on purpose


def test_switch_reports_merge_field_by_field_and_ports_by_name() -> None:
    device = merge_device(candidate("10.77.0.2", sources={"arp"}, mac=MAC), switch_reports())
    assert device.id == f"mac:{MAC}" and device.role is Role.SWITCH
    assert device.identity.model == "WS-C2960X-24PS-L"  # SNMP outranks CLI
    assert device.identity.serial == "FOC2133X0AB"  # CLI fills what SNMP lacked
    assert device.drivers == ("cli.cisco_ios", "snmp") and device.discovered_by == ("arp",)
    assert device.switch is not None
    ports = {p.name: p for p in device.switch.ports}
    assert set(ports) == {"GigabitEthernet1/0/1", "GigabitEthernet1/0/2", "GigabitEthernet1/0/3"}
    first = ports["GigabitEthernet1/0/1"]
    assert first.alias == "cam-entrance" and first.poe is not None and first.poe.power_w == 6.1


def test_switch_tables_keep_one_entry_per_mac_and_port_preferring_a_known_vlan() -> None:
    reports = switch_reports()
    device = merge_device(candidate("10.77.0.2", mac=MAC), reports)
    entries, neighbors, arp = switch_tables(device, reports)
    assert [(e.switch_id, e.port, e.mac, e.vlan) for e in entries] == [
        (device.id, "GigabitEthernet1/0/1", "ac:cc:8e:00:00:01", 20)
    ]
    assert [(n.switch_id, n.local_port) for n in neighbors] == [(device.id, "GigabitEthernet1/0/24")]
    assert arp == {"ac:cc:8e:00:00:01": "10.77.0.21"}
    assert [(c.kind, c.source) for c in config_texts(device, reports)] == [
        ("running-config", "cli.cisco_ios")
    ]
    (problem,) = note_problems(device, reports)
    assert problem.kind is ProblemKind.UNSUPPORTED and problem.device_id == device.id
    assert problem.message.startswith("show power inline:")


def test_arp_only_host_becomes_other_with_ip_and_mac() -> None:
    device = merge_device(candidate("10.77.0.99", sources={"arp"}, mac="02:00:00:00:00:99"), [])
    assert device.role is Role.OTHER
    assert (device.id, device.network.ip, device.identity.mac) == (
        "mac:02:00:00:00:00:99",
        "10.77.0.99",
        "02:00:00:00:00:99",
    )


def test_unreadable_wsd_camera_keeps_its_role_and_endpoint_identity() -> None:
    c = candidate("10.77.0.50", sources={"wsd"}, wsd_endpoint="urn:uuid:ABC")
    device = merge_device(c, [], role_hint=Role.CAMERA)
    assert device.role is Role.CAMERA and device.id == "wsd:urn:uuid:abc"


def test_reported_address_is_second_to_the_address_reached() -> None:
    r = report(
        "onvif",
        "127.26.0.21",
        role="camera",
        identity=DeviceIdentity(mac="ac:cc:8e:00:00:01"),
        network=NetworkSettings(ip="10.77.0.21", prefix_length=24),
        onvif=OnvifInfo(scopes=("onvif://www.onvif.org/type/video_encoder",)),
    )
    device = merge_device(candidate("127.26.0.21", wsd_endpoint="urn:uuid:x"), [r])
    assert device.network.ip == "127.26.0.21" and device.network.prefix_length == 24
    assert device.onvif is not None and device.onvif.endpoint_reference == "urn:uuid:x"


def test_same_identity_at_two_addresses_collapses() -> None:
    r = report(
        "onvif", "10.0.0.5", role="camera", identity=DeviceIdentity(mac="ac:cc:8e:00:00:05", model="M")
    )
    a = merge_device(candidate("10.0.0.5", sources={"wsd"}), [r])
    b = merge_device(candidate("10.0.0.6", sources={"arp"}, mac="ac:cc:8e:00:00:05"), [])
    (one,) = merge_devices([a, b])
    assert one.role is Role.CAMERA and one.identity.model == "M" and one.discovered_by == ("arp", "wsd")
