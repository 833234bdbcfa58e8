"""Pure SNMP parsing: small recorded walks in, records out. No sockets."""

from __future__ import annotations

import pytest

from drivers.schema import PoeStatus
from drivers.snmp import oids
from drivers.snmp.parse import (
    Interface,
    bridge_ports,
    build_report,
    cisco_vlan_ids,
    firmware_from_descr,
    parse_fdb_bridge,
    parse_fdb_qbridge,
    parse_lldp,
    parse_poe,
    parse_system,
    poe_if_index,
    text,
    vendor_of,
)
from drivers.snmp.transport import ReplayTransport, SnmpValue, dump_snmprec, parse_snmprec


def iface(if_index: int, name: str, descr: str | None = None) -> Interface:
    return Interface(if_index, name, descr, None, 6, True, True, 100)


def test_snmprec_tags_become_python_values_and_round_trip() -> None:
    rows = parse_snmprec(
        "1.3.6.1.2.1.1.1.0|4|Cisco IOS Software\n"
        "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.1208\n"
        "1.3.6.1.2.1.1.3.0|67|12345\n"
        "# a comment\n\n"
        "1.3.6.1.2.1.17.1.1.0|4x|001b54c21000\n"
        "1.3.6.1.2.1.4.20.1.1.10.0.0.2|64|10.0.0.2\n"
        ".1.3.6.1.2.1.2.2.1.10.1|65|42\n"
    )
    assert rows["1.3.6.1.2.1.1.1.0"] == b"Cisco IOS Software"
    assert rows["1.3.6.1.2.1.1.2.0"] == "1.3.6.1.4.1.9.1.1208"
    assert rows["1.3.6.1.2.1.1.3.0"] == 12345
    assert rows["1.3.6.1.2.1.17.1.1.0"] == bytes.fromhex("001b54c21000")
    assert rows["1.3.6.1.2.1.2.2.1.10.1"] == 42  # leading dot accepted
    assert parse_snmprec(dump_snmprec(rows)) == rows


def test_snmprec_refuses_a_malformed_line() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_snmprec("1.3.6.1.2.1.1.5.0|4|sw\nnot a record\n")


async def test_replay_walk_stays_inside_its_subtree_and_honours_the_row_cap() -> None:
    transport = ReplayTransport({"1.3.6.1.2.1.2.2.1.2.1": b"a", "1.3.6.1.2.1.2.2.1.2.2": b"b",
                                 "1.3.6.1.2.1.2.2.1.20.1": 0, "1.3.6.1.2.1.2.2.1.3.1": 6})  # fmt: skip
    assert list(await transport.walk("1.3.6.1.2.1.2.2.1.2", max_rows=100)) == [
        "1.3.6.1.2.1.2.2.1.2.1",
        "1.3.6.1.2.1.2.2.1.2.2",
    ]
    assert len(await transport.walk("1.3.6.1.2.1.2.2.1.2", max_rows=1)) == 1


def test_text_trims_nuls_and_survives_invalid_utf8() -> None:
    assert text(b"sw-core\x00") == "sw-core"
    assert text(b"caf\xe9") == "caf\ufffd"
    assert text(b"   ") is None


@pytest.mark.parametrize(
    ("object_id", "descr", "vendor"),
    [
        ("1.3.6.1.4.1.9.1.1208", "Cisco IOS Software", "Cisco"),
        ("1.3.6.1.4.1.11.2.3.7.11.137", "Aruba J9773A 2530-24G-PoEP Switch, revision YA.16.11.0016", "Aruba"),
        ("1.3.6.1.4.1.11.2.3.7.11.87", "ProCurve J9145A Switch 2910al-24G, revision W.14.49", "ProCurve"),
        ("1.3.6.1.4.1.11.2.3.7.11.87", "HP J9145A Switch 2910al-24G, revision W.15.14", "HP"),
        ("1.3.6.1.4.1.99999.1", "Something", None),
        ("1.3.6.1.2.1.1", "Not an enterprise id", None),
    ],
)
def test_vendor_from_enterprise_number_and_rebrands(object_id: str, descr: str, vendor: str | None) -> None:
    assert vendor_of(object_id, descr) == vendor


def test_firmware_from_sys_descr() -> None:
    assert (
        firmware_from_descr("Cisco IOS Software, C2960X Software, Version 15.2(7)E8, RELEASE") == "15.2(7)E8"
    )
    assert (
        firmware_from_descr("Aruba J9773A 2530-24G-PoEP Switch, revision YA.16.11.0016, ROM")
        == "YA.16.11.0016"
    )
    assert firmware_from_descr("Linux box 5.10") is None


def test_system_group_uptime_is_in_seconds() -> None:
    system = parse_system({oids.SYS_UPTIME: 12345678, oids.SYS_OBJECT_ID: ".1.3.6.1.4.1.9.1.1"})
    assert system.uptime_s == 123456
    assert system.object_id == "1.3.6.1.4.1.9.1.1"


def test_fdb_maps_bridge_ports_to_interface_names_and_skips_self_and_invalid() -> None:
    mac = "0.9.24.108.64.1"  # 00:09:18:6c:40:01
    own = "0.27.84.194.16.0"
    rows = {
        f"{oids.DOT1D_TP_FDB_PORT}.{mac}": 7,
        f"{oids.DOT1D_TP_FDB_STATUS}.{mac}": 3,
        f"{oids.DOT1D_TP_FDB_PORT}.{own}": 0,
        f"{oids.DOT1D_TP_FDB_STATUS}.{own}": 4,
        f"{oids.DOT1D_TP_FDB_PORT}.2.2.2.2.2.2": 99,  # bridge port without an interface
    }
    entries, unmapped = parse_fdb_bridge(rows, {7: 10107}, {10107: iface(10107, "Gi1/0/7")}, vlan=20)
    assert [(e.port, e.mac, e.vlan) for e in entries] == [("GigabitEthernet1/0/7", "00:09:18:6c:40:01", 20)]
    assert unmapped == 1


def test_q_bridge_fdb_id_is_translated_to_the_vlan() -> None:
    rows = {
        f"{oids.DOT1Q_TP_FDB_PORT}.5.0.9.24.108.64.1": 3,
        f"{oids.DOT1Q_VLAN_FDB_ID}.0.20": 5,  # this switch keeps VLAN 20 in FDB 5
    }
    entries, _ = parse_fdb_qbridge(rows, {3: 3}, {3: iface(3, "3")})
    assert [(e.port, e.vlan, e.source) for e in entries] == [("3", 20, "snmp:q-bridge")]


def test_cisco_vlans_leave_out_the_reserved_ones_and_inactive_vlans() -> None:
    rows = {f"{oids.VTP_VLAN_STATE}.1.{v}": 1 for v in (1, 20, 1002, 1003, 1004, 1005)}
    rows[f"{oids.VTP_VLAN_STATE}.1.30"] = 2  # suspended
    assert cisco_vlan_ids(rows) == [1, 20]


def test_poe_row_index_maps_to_stack_member_interfaces_or_bridge_ports() -> None:
    cisco = {10101: iface(10101, "Gi1/0/1", "GigabitEthernet1/0/1"), 10601: iface(10601, "Gi2/0/1")}
    assert poe_if_index(1, 1, {}, cisco) == 10101
    assert poe_if_index(2, 1, {}, cisco) == 10601
    assert poe_if_index(1, 11, {}, {10111: iface(10111, "Gi1/0/11"), 10101: cisco[10101]}) == 10111
    procurve = {5: iface(5, "5")}
    assert poe_if_index(1, 5, {5: 5}, procurve) == 5
    assert poe_if_index(1, 9, {}, procurve) is None


def test_poe_class_counts_from_class0_and_is_ignored_while_not_delivering() -> None:
    rows = {
        f"{oids.PETH_PSE_PORT_ADMIN_ENABLE}.1.1": 1,
        f"{oids.PETH_PSE_PORT_DETECTION_STATUS}.1.1": 3,
        f"{oids.PETH_PSE_PORT_POWER_CLASSIFICATIONS}.1.1": 1,  # class0
        f"{oids.CPE_EXT_PSE_PORT_PWR_CONSUMPTION}.1.1": 5300,
        f"{oids.PETH_PSE_PORT_ADMIN_ENABLE}.1.2": 1,
        f"{oids.PETH_PSE_PORT_DETECTION_STATUS}.1.2": 2,
        f"{oids.PETH_PSE_PORT_POWER_CLASSIFICATIONS}.1.2": 1,  # agents answer class0 for idle ports too
    }
    interfaces = {10101: iface(10101, "Gi1/0/1"), 10102: iface(10102, "Gi1/0/2")}
    poe = parse_poe(rows, {}, interfaces, "9")
    assert poe[10101].status is PoeStatus.DELIVERING and poe[10101].power_class == 0
    assert poe[10101].power_w == 5.3
    assert poe[10102].status is PoeStatus.SEARCHING and poe[10102].power_class is None
    assert poe[10102].power_w == 0.0


def test_lldp_chassis_mac_capabilities_management_ip_and_local_port_by_name() -> None:
    key = "1523.24.1"
    rows: dict[str, SnmpValue] = {
        f"{oids.LLDP_LOC_PORT_ID}.24": b"Gi1/0/24",
        f"{oids.LLDP_REM_CHASSIS_ID_SUBTYPE}.{key}": 4,
        f"{oids.LLDP_REM_CHASSIS_ID}.{key}": bytes.fromhex("9418827a2000"),
        f"{oids.LLDP_REM_PORT_ID_SUBTYPE}.{key}": 3,
        f"{oids.LLDP_REM_PORT_ID}.{key}": bytes.fromhex("9418827a2018"),
        f"{oids.LLDP_REM_SYS_NAME}.{key}": b"sw-yard",
        f"{oids.LLDP_REM_SYS_CAP_ENABLED}.{key}": b"\x28",
        f"{oids.LLDP_REM_MAN_ADDR_IF_SUBTYPE}.{key}.1.4.10.77.0.3": 2,
    }
    entries, unmapped = parse_lldp(rows, {}, {10124: iface(10124, "Gi1/0/24", "GigabitEthernet1/0/24")})
    assert unmapped == 0
    (entry,) = entries
    assert entry.local_port == "GigabitEthernet1/0/24"
    assert entry.chassis_id == "94:18:82:7a:20:00" and entry.port_id == "94:18:82:7a:20:18"
    assert entry.capabilities == ["bridge", "router"]
    assert entry.management_ip == "10.77.0.3"


def test_lldp_neighbour_on_an_unknown_local_port_becomes_a_note() -> None:
    key = "0.77.1"
    rows: dict[str, SnmpValue] = {
        oids.SYS_OBJECT_ID: "1.3.6.1.4.1.11.2.3.7.11.137",
        f"{oids.LLDP_REM_CHASSIS_ID_SUBTYPE}.{key}": 4,
        f"{oids.LLDP_REM_CHASSIS_ID}.{key}": bytes.fromhex("9418827a2000"),
        f"{oids.LLDP_REM_PORT_ID}.{key}": b"1",
    }
    report = build_report("192.0.2.1", rows)
    assert report.lldp == []
    assert [n.operation for n in report.notes] == ["lldp"]


def test_bridge_ports() -> None:
    assert bridge_ports({f"{oids.DOT1D_BASE_PORT_IF_INDEX}.1": 10101}) == {1: 10101}


def test_a_device_that_does_not_bridge_is_not_called_a_switch() -> None:
    rows: dict[str, SnmpValue] = {
        oids.SYS_DESCR: b"Linux nvr 4.9.37",
        oids.SYS_OBJECT_ID: "1.3.6.1.4.1.8072.3.2.10",
        f"{oids.IF_NAME}.1": b"eth0",
        f"{oids.IF_TYPE}.1": 6,
    }
    report = build_report("192.0.2.9", rows)
    assert report.role is None
    assert report.identity is not None and report.identity.vendor is None
