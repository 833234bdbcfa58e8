"""What a simulated PoE switch serves over SNMP: one sorted table of (OID, typed value) per switch.

Pure: site model in, rows out. Everything comes from lab/site.py (port_view, fdb, link_on), so the
SNMP answers, the CLI output and the ground truth cannot disagree.

Values are small tagged tuples, converted to protocol types only when a row is sent:
    ("int", 5)  ("str", b"text")  ("hex", b"\\x00\\x1b...")  ("oid", "1.3.6...")  ("ticks", 100)
    ("gauge", n)  ("counter", n)  ("ip", "10.0.0.2")
"str" and "hex" are both OCTET STRING on the wire; "hex" marks binary content (MACs, port lists).

Dialect realism the scanner has to cope with, as on real gear:
- cisco_ios: no Q-BRIDGE-MIB. BRIDGE-MIB is served per VLAN through community string indexing:
  community "public" shows VLAN 1's bridge instance, "public@20" (v3: context "vlan-20") VLAN 20's:
  its bridge ports (access ports of that VLAN plus trunks) and its forwarding table. The VLAN list
  comes from CISCO-VTP-MIB vtpVlanState, which also lists the reserved VLANs 1002-1005 that have no
  bridge instance. Bridge port numbers (1..N) differ from ifIndex (10101..), so clients must map
  through dot1dBasePortIfIndex. Ports: ifName "Gi1/0/N", ifDescr "GigabitEthernet1/0/N".
- hp_procurve: BRIDGE-MIB (all VLANs in one table) and Q-BRIDGE-MIB (fdbId = VLAN id). Bridge port
  = ifIndex = port number; ifName = ifDescr = "N". LLDP port ids are subtype local(7) "N".
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lab.site import Dialect, LabSite, PortView, Switch

Oid = tuple[int, ...]
Value = tuple[str, Any]
Row = tuple[Oid, Value]


def oid(text: str) -> Oid:
    return tuple(int(part) for part in text.strip(".").split("."))


# ---------------------------------------------------------------- OIDs served (numeric, no MIB files)
# SNMPv2-MIB system group (RFC 3418)
SYS_DESCR = oid("1.3.6.1.2.1.1.1.0")
SYS_OBJECT_ID = oid("1.3.6.1.2.1.1.2.0")
SYS_UPTIME = oid("1.3.6.1.2.1.1.3.0")  # served live by the agent; the table holds a placeholder
SYS_CONTACT = oid("1.3.6.1.2.1.1.4.0")
SYS_NAME = oid("1.3.6.1.2.1.1.5.0")
SYS_LOCATION = oid("1.3.6.1.2.1.1.6.0")
SYS_SERVICES = oid("1.3.6.1.2.1.1.7.0")
# IF-MIB (RFC 2863): ifNumber, ifTable columns, ifXTable columns
IF_NUMBER = oid("1.3.6.1.2.1.2.1.0")
IF_ENTRY = oid("1.3.6.1.2.1.2.2.1")
IF_X_ENTRY = oid("1.3.6.1.2.1.31.1.1.1")
# IP-MIB ipAddrTable (index: address)
IP_AD_ENTRY = oid("1.3.6.1.2.1.4.20.1")
# ENTITY-MIB entPhysicalTable (RFC 6933)
ENT_PHYSICAL_ENTRY = oid("1.3.6.1.2.1.47.1.1.1.1")
# BRIDGE-MIB (RFC 4188)
DOT1D_BASE = oid("1.3.6.1.2.1.17.1")
DOT1D_BASE_PORT_ENTRY = oid("1.3.6.1.2.1.17.1.4.1")  # .1 port, .2 ifIndex (index: bridge port)
DOT1D_TP_FDB_ENTRY = oid("1.3.6.1.2.1.17.4.3.1")  # .1 address, .2 port, .3 status (index: MAC)
# Q-BRIDGE-MIB (RFC 4363)
DOT1Q_BASE = oid("1.3.6.1.2.1.17.7.1.1")
DOT1Q_TP_FDB_ENTRY = oid("1.3.6.1.2.1.17.7.1.2.2.1")  # .2 port, .3 status (index: fdbId . MAC)
DOT1Q_VLAN_CURRENT_ENTRY = oid("1.3.6.1.2.1.17.7.1.4.2.1")  # .3 fdbId .4 egress .5 untagged .6 status
DOT1Q_VLAN_STATIC_ENTRY = oid("1.3.6.1.2.1.17.7.1.4.3.1")  # .1 name .2 egress .4 untagged .5 rowStatus
DOT1Q_PORT_VLAN_ENTRY = oid("1.3.6.1.2.1.17.7.1.4.5.1")  # .1 pvid (index: bridge port)
# POWER-ETHERNET-MIB (RFC 3621)
PETH_PSE_PORT_ENTRY = oid("1.3.6.1.2.1.105.1.1.1")  # index: group . port
PETH_MAIN_PSE_ENTRY = oid("1.3.6.1.2.1.105.1.3.1.1")  # index: group
# LLDP-MIB (IEEE 802.1AB-2005)
LLDP_LOC_CHASSIS_ID_SUBTYPE = oid("1.0.8802.1.1.2.1.3.1.0")
LLDP_LOC_CHASSIS_ID = oid("1.0.8802.1.1.2.1.3.2.0")
LLDP_LOC_SYS_NAME = oid("1.0.8802.1.1.2.1.3.3.0")
LLDP_LOC_SYS_DESC = oid("1.0.8802.1.1.2.1.3.4.0")
LLDP_LOC_PORT_ENTRY = oid("1.0.8802.1.1.2.1.3.7.1")  # .2 subtype .3 id .4 desc (index: local port)
LLDP_REM_ENTRY = oid("1.0.8802.1.1.2.1.4.1.1")  # index: timeMark . localPortNum . remIndex
LLDP_REM_MAN_ADDR_ENTRY = oid("1.0.8802.1.1.2.1.4.2.1")  # index: rem index . subtype . len . addr
# CISCO-VTP-MIB vtpVlanTable (index: managementDomainIndex . vlan) and vlanTrunkPortTable (ifIndex)
VTP_VLAN_ENTRY = oid("1.3.6.1.4.1.9.9.46.1.3.1.1")  # .2 state .3 type .4 name
VLAN_TRUNK_PORT_ENTRY = oid("1.3.6.1.4.1.9.9.46.1.6.1.1")  # .5 native vlan .14 dynamic status
# CISCO-VLAN-MEMBERSHIP-MIB vmMembershipTable: vmVlan (index: ifIndex), access ports only
VM_VLAN = oid("1.3.6.1.4.1.9.9.68.1.2.2.1.2")
# CISCO-POWER-ETHERNET-EXT-MIB cpeExtPsePortTable, augments pethPsePortEntry (index: group . port).
# Columns checked in the compiled MIB (Ali-aqrabawi/piat:piat/mibs/CISCO-POWER-ETHERNET-EXT-MIB.py):
# .1 cpeExtPsePortEnable, .6 PwrMax, .7 PwrAllocated, .9 cpeExtPsePortPwrConsumption, .10 MaxPwrDrawn,
# all power columns in milliwatts.
CPE_EXT_PSE_PORT_ENTRY = oid("1.3.6.1.4.1.9.9.402.1.2.1")
# HP-ICF-POE-MIB hpicfPoePethPsePortTable (index: group . port). Columns checked in the compiled MIB
# (lextudio's HP-ICF-POE-MIB, and openl2m's procurve constants): .3 hpicfPoePethPsePortPower (mW),
# .8 hpicfPoePethPsePortActualPower (milli-watts), .9 hpicfPoePethPsePortOperStatus (deny 1, off 2, on 3).
HPICF_POE_PORT_ENTRY = oid("1.3.6.1.4.1.11.2.14.11.1.9.1.1.1")
TABLE_ENTRIES = frozenset({
    IF_ENTRY, IF_X_ENTRY, IP_AD_ENTRY, ENT_PHYSICAL_ENTRY, DOT1D_BASE_PORT_ENTRY, DOT1D_TP_FDB_ENTRY,
    DOT1Q_TP_FDB_ENTRY, DOT1Q_VLAN_CURRENT_ENTRY, DOT1Q_VLAN_STATIC_ENTRY, DOT1Q_PORT_VLAN_ENTRY,
    PETH_PSE_PORT_ENTRY, PETH_MAIN_PSE_ENTRY, LLDP_LOC_PORT_ENTRY, LLDP_REM_ENTRY, LLDP_REM_MAN_ADDR_ENTRY,
    VTP_VLAN_ENTRY, VLAN_TRUNK_PORT_ENTRY, VM_VLAN[:-1], CPE_EXT_PSE_PORT_ENTRY, HPICF_POE_PORT_ENTRY,
})  # fmt: skip

# sysObjectID. 1.3.6.1.4.1.9.1.1208 is what Catalyst 2960-X (stack-capable) switches report for every
# model; HP-ICF-OID hpSwitchJ9772A/J9773A (the 2530-48G/24G-PoEP), from HP-SWITCH-TRAP-MIB's imports.
CISCO_2960X_OBJECT_ID = "1.3.6.1.4.1.9.1.1208"
HP_OBJECT_IDS = {"J9772A": "1.3.6.1.4.1.11.2.3.7.11.136", "J9773A": "1.3.6.1.4.1.11.2.3.7.11.137"}

# Cisco VTP always lists these (fddi/token-ring defaults); they have no bridge instance.
CISCO_RESERVED_VLANS = {
    1002: ("fddi-default", 2),
    1003: ("token-ring-default", 3),
    1004: ("fddinet-default", 4),
    1005: ("trnet-default", 5),
}
POE_DETECTION = {"disabled": 1, "searching": 2, "delivering": 3}
# Power a Cisco switch reserves per IEEE class (mW): class 0 and 3 get the full 802.3af 15.4 W.
CISCO_CLASS_ALLOCATION_MW = {0: 15400, 1: 4000, 2: 7000, 3: 15400, 4: 30000}
LLDP_CAP_BRIDGE = b"\x20"  # LldpSystemCapabilitiesMap BITS: bridge(2), MSB first
LLDP_CAP_BRIDGE_ROUTER = b"\x28"  # bridge(2) + router(4)
LLDP_REM_TIME_MARK = 1523  # sysUpTime when the neighbour was learned; real agents use non-zero marks
HP_VLAN_IF_BASE = 4096  # ProCurve numbers VLAN interfaces above its ports (chosen, not verified)


# ---------------------------------------------------------------- facts about one switch


@dataclass(frozen=True)
class SwitchFacts:
    """Everything the tables need, computed once per site generation (port_view is not free)."""

    site: LabSite
    switch: Switch
    ports: tuple[PortView, ...]
    fdb: tuple[tuple[str, int, int], ...]  # (mac, vlan, port), as site.fdb()

    @property
    def cisco(self) -> bool:
        return self.switch.dialect is Dialect.CISCO_IOS


def collect_facts(site: LabSite, switch_name: str) -> SwitchFacts:
    sw = site.switch(switch_name)
    ports = tuple(site.port_view(sw.name, n) for n in range(1, sw.port_count + 1))
    return SwitchFacts(site=site, switch=sw, ports=ports, fdb=tuple(site.fdb(sw.name)))


def switch_vlans(facts: SwitchFacts) -> dict[int, str]:
    """VLAN id -> name: the configured ones, plus any the ports or the FDB use (default names as IOS)."""
    sw = facts.switch
    used = {1, sw.camera_vlan} | {p.vlan for p in facts.ports} | {v for _m, v, _p in facts.fdb}
    return {v: sw.vlans.get(v, "default" if v == 1 else f"VLAN{v:04d}") for v in sorted(used | set(sw.vlans))}


def community_vlans(facts: SwitchFacts) -> list[int]:
    """VLANs reachable as `<community>@<vlan>` / context `vlan-<vlan>` (Cisco only; none for ProCurve)."""
    return list(switch_vlans(facts)) if facts.cisco else []


def build_oid_table(site: LabSite, switch_name: str, vlan: int | None = None) -> list[Row]:
    """The sorted table a switch serves. For cisco_ios, `vlan` picks the community-indexed bridge
    instance (None: the plain community, i.e. VLAN 1); hp_procurve ignores it."""
    return build_from_facts(collect_facts(site, switch_name), vlan)


def build_from_facts(facts: SwitchFacts, vlan: int | None = None) -> list[Row]:
    rows: list[Row] = []
    rows += _system(facts)
    rows += _interfaces(facts)
    rows += _ip_addresses(facts)
    rows += _entity(facts)
    if facts.cisco:
        rows += _bridge_cisco(facts, 1 if vlan is None else vlan)
        rows += _cisco_vlans(facts)
    else:
        rows += _bridge_procurve(facts)
        rows += _q_bridge(facts)
    rows += _poe(facts)
    rows += _lldp(facts)
    rows.sort(key=lambda row: row[0])
    return rows


# ---------------------------------------------------------------- identity strings


def part_number(sw: Switch) -> str:
    """ "J9773A 2530-24G-PoEP" -> "J9773A"; Cisco models are their own part number."""
    return sw.model.split()[0]


def sys_descr(sw: Switch) -> str:
    if sw.dialect is Dialect.CISCO_IOS:
        family = sw.model.split("-")[1] if sw.model.startswith("WS-") else sw.model
        # Real IOS separates the lines with CR LF.
        return (
            f"Cisco IOS Software, {family} Software ({family}-UNIVERSALK9-M), Version {sw.firmware}, "
            "RELEASE SOFTWARE (fc1)\r\n"
            "Technical Support: http://www.cisco.com/techsupport\r\n"
            "Copyright (c) 1986-2023 by Cisco Systems, Inc.\r\n"
            "Compiled Thu 02-Mar-23 04:36 by mcpre"
        )
    brand = "HP" if sw.vendor.upper().startswith("HP") else "Aruba"
    rom = sw.firmware.split(".")[0] + ".15.20"
    return (
        f"{brand} {sw.model} Switch, revision {sw.firmware}, ROM {rom} "
        "(/ws/swbuildm/rel_yakima_qaoff/code/build/lakes(swbuildm_rel_yakima_qaoff_rel_yakima))"
    )


def sys_object_id(sw: Switch) -> str:
    if sw.dialect is Dialect.CISCO_IOS:
        return CISCO_2960X_OBJECT_ID
    return HP_OBJECT_IDS.get(part_number(sw), HP_OBJECT_IDS["J9773A"])


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def _str(text: str) -> Value:
    return ("str", text.encode())


# ---------------------------------------------------------------- SNMPv2-MIB, IF-MIB, IP-MIB, ENTITY-MIB


def _system(facts: SwitchFacts) -> list[Row]:
    sw = facts.switch
    return [
        (SYS_DESCR, _str(sys_descr(sw))),
        (SYS_OBJECT_ID, ("oid", sys_object_id(sw))),
        (SYS_UPTIME, ("ticks", 0)),
        (SYS_CONTACT, _str("")),
        (SYS_NAME, _str(sw.name)),
        (SYS_LOCATION, _str(sw.location)),
        (SYS_SERVICES, ("int", 2 if facts.cisco else 74)),
    ]


@dataclass(frozen=True)
class _Interface:
    if_index: int
    descr: str
    name: str
    alias: str
    if_type: int  # ethernetCsmacd 6, propVirtual 53 (VLAN interfaces)
    mac: str
    up: bool
    speed_mbps: int
    port: int | None  # front-panel port number, None for a VLAN interface


def management_vlan(sw: Switch) -> int:
    """The VLAN holding the switch's address: its traffic is learned on the camera VLAN (site.fdb)."""
    return sw.camera_vlan


def vlan_if_index(sw: Switch, vlan: int) -> int:
    # Cisco SVIs: ifIndex = VLAN id ("Vlan1" is ifIndex 1 on Catalyst switches).
    return vlan if sw.dialect is Dialect.CISCO_IOS else HP_VLAN_IF_BASE + vlan


def interfaces(facts: SwitchFacts) -> list[_Interface]:
    sw = facts.switch
    result = [
        _Interface(p.if_index, p.name, p.short_name, p.alias, 6, sw.port_mac(p.number), p.oper_up,
                   p.speed_mbps, p.number)
        for p in facts.ports
    ]  # fmt: skip
    if facts.cisco:
        svis = sorted({1, management_vlan(sw)})
        names = [(v, f"Vlan{v}", f"Vl{v}") for v in svis]
    else:
        names = [(v, name, name) for v, name in switch_vlans(facts).items()]
    for vlan, descr, name in names:
        result.append(_Interface(vlan_if_index(sw, vlan), descr, name, "", 53, sw.mac, True, 1000, None))
    return sorted(result, key=lambda i: i.if_index)


def _counters(seed: str, up: bool) -> tuple[int, int]:
    """Plausible, deterministic octet counters (volatile for the scanner; only their presence matters)."""
    if not up:
        return 0, 0
    h = zlib.crc32(seed.encode())
    return (h * 7919) % 2**32, (h * 104729) % 2**32


def _interfaces(facts: SwitchFacts) -> list[Row]:
    ifs = interfaces(facts)
    rows: list[Row] = [(IF_NUMBER, ("int", len(ifs)))]
    for i in ifs:
        idx = (i.if_index,)
        in_octets, out_octets = _counters(f"{facts.switch.name}/{i.if_index}", i.up)
        status = 1 if i.up else 2
        rows += [
            ((*IF_ENTRY, 1, *idx), ("int", i.if_index)),
            ((*IF_ENTRY, 2, *idx), _str(i.descr)),
            ((*IF_ENTRY, 3, *idx), ("int", i.if_type)),
            ((*IF_ENTRY, 4, *idx), ("int", 1500)),
            ((*IF_ENTRY, 5, *idx), ("gauge", i.speed_mbps * 1_000_000)),
            ((*IF_ENTRY, 6, *idx), ("hex", mac_bytes(i.mac))),
            ((*IF_ENTRY, 7, *idx), ("int", 1)),
            ((*IF_ENTRY, 8, *idx), ("int", status)),
            ((*IF_ENTRY, 9, *idx), ("ticks", 0)),
            ((*IF_ENTRY, 10, *idx), ("counter", in_octets)),
            ((*IF_ENTRY, 14, *idx), ("counter", 0)),
            ((*IF_ENTRY, 16, *idx), ("counter", out_octets)),
            ((*IF_ENTRY, 20, *idx), ("counter", 0)),
            ((*IF_X_ENTRY, 1, *idx), _str(i.name)),
            ((*IF_X_ENTRY, 15, *idx), ("gauge", i.speed_mbps)),
            ((*IF_X_ENTRY, 18, *idx), _str(i.alias)),
        ]
    return rows


def _ip_addresses(facts: SwitchFacts) -> list[Row]:
    sw = facts.switch
    net = ipaddress.ip_interface(f"{sw.ip}/{sw.prefix_length}").network
    idx = oid(sw.ip)
    return [
        ((*IP_AD_ENTRY, 1, *idx), ("ip", sw.ip)),
        ((*IP_AD_ENTRY, 2, *idx), ("int", vlan_if_index(sw, management_vlan(sw)))),
        ((*IP_AD_ENTRY, 3, *idx), ("ip", str(net.netmask))),
    ]


def _entity(facts: SwitchFacts) -> list[Row]:
    """The chassis entry (class 3). Catalyst 2960-X puts it at 1001 inside a stack entry (class 11)."""
    sw = facts.switch
    rows: list[Row] = []
    if facts.cisco:
        chassis, parent, name, mfg, firmware = 1001, 1, "1", "Cisco Systems, Inc.", ""
        rows += _entity_entry(1, "c29xxStack", 11, 0, "c29xxStack", "", "", "", "", "")
    else:
        chassis, parent, name = 1, 0, part_number(sw)
        mfg = "HP" if sw.vendor.upper().startswith("HP") else "Aruba"
        firmware = sw.firmware.split(".")[0] + ".15.20"
    descr = sw.model if facts.cisco else sys_descr(sw).split(",")[0]
    rows += _entity_entry(
        chassis, descr, 3, parent, name, firmware, sw.firmware, sw.serial, mfg, part_number(sw)
    )
    return rows


def _entity_entry(
    index: int, descr: str, cls: int, parent: int, name: str, firmware: str, software: str, serial: str,
    mfg: str, model: str,
) -> list[Row]:  # fmt: skip
    e = ENT_PHYSICAL_ENTRY
    return [
        ((*e, 2, index), _str(descr)),
        ((*e, 3, index), ("oid", "0.0")),
        ((*e, 4, index), ("int", parent)),
        ((*e, 5, index), ("int", cls)),
        ((*e, 7, index), _str(name)),
        ((*e, 8, index), _str("")),
        ((*e, 9, index), _str(firmware)),
        ((*e, 10, index), _str(software)),
        ((*e, 11, index), _str(serial)),
        ((*e, 12, index), _str(mfg)),
        ((*e, 13, index), _str(model)),
    ]


# ---------------------------------------------------------------- BRIDGE-MIB / Q-BRIDGE-MIB / Cisco VLANs


def bridge_port(facts: SwitchFacts, port: int) -> int:
    """Bridge port number of a front-panel port: the port number on both dialects (Cisco's ifIndex
    is 10100 + port, so there the two numbers differ)."""
    return port


def vlan_members(facts: SwitchFacts, vlan: int) -> list[PortView]:
    """Ports in a VLAN's bridge instance: its access ports and every trunk (uplinks carry all VLANs)."""
    return [p for p in facts.ports if p.is_uplink or p.vlan == vlan]


def _fdb_rows(facts: SwitchFacts, entries: Iterable[tuple[str, int]]) -> list[Row]:
    """dot1dTpFdbTable from (mac, port) pairs, plus the switch's own MAC as self(4) on port 0."""
    table: dict[str, tuple[int, int]] = {}
    for mac, port in entries:
        table.setdefault(mac, (bridge_port(facts, port), 3))
    table.setdefault(facts.switch.mac, (0, 4))
    rows: list[Row] = []
    for mac, (port, status) in table.items():
        idx = tuple(mac_bytes(mac))
        rows += [
            ((*DOT1D_TP_FDB_ENTRY, 1, *idx), ("hex", mac_bytes(mac))),
            ((*DOT1D_TP_FDB_ENTRY, 2, *idx), ("int", port)),
            ((*DOT1D_TP_FDB_ENTRY, 3, *idx), ("int", status)),
        ]
    return rows


def _bridge_base(facts: SwitchFacts, members: list[PortView]) -> list[Row]:
    rows: list[Row] = [
        ((*DOT1D_BASE, 1, 0), ("hex", mac_bytes(facts.switch.mac))),  # dot1dBaseBridgeAddress
        ((*DOT1D_BASE, 2, 0), ("int", len(members))),  # dot1dBaseNumPorts
        ((*DOT1D_BASE, 3, 0), ("int", 2)),  # dot1dBaseType: transparent-only
    ]
    for p in members:
        bp = bridge_port(facts, p.number)
        rows += [
            ((*DOT1D_BASE_PORT_ENTRY, 1, bp), ("int", bp)),
            ((*DOT1D_BASE_PORT_ENTRY, 2, bp), ("int", p.if_index)),
        ]
    return rows


def _bridge_cisco(facts: SwitchFacts, vlan: int) -> list[Row]:
    """One VLAN's bridge instance, as `<community>@<vlan>` shows it. A VLAN the switch does not have
    is never asked for: the agent registers no community for it."""
    members = vlan_members(facts, vlan)
    entries = [(mac, port) for mac, v, port in facts.fdb if v == vlan]
    return _bridge_base(facts, members) + _fdb_rows(facts, entries)


def _bridge_procurve(facts: SwitchFacts) -> list[Row]:
    return _bridge_base(facts, list(facts.ports)) + _fdb_rows(facts, ((m, p) for m, _v, p in facts.fdb))


def port_list(ports: Iterable[int], size: int) -> bytes:
    """Q-BRIDGE PortList: one bit per bridge port, port 1 = most significant bit of the first octet."""
    octets = bytearray((size + 7) // 8)
    for p in ports:
        octets[(p - 1) // 8] |= 0x80 >> ((p - 1) % 8)
    return bytes(octets)


def _q_bridge(facts: SwitchFacts) -> list[Row]:
    sw = facts.switch
    size = len(facts.ports)
    rows: list[Row] = [
        ((*DOT1Q_BASE, 1, 0), ("int", 1)),  # dot1qVlanVersionNumber
        ((*DOT1Q_BASE, 2, 0), ("int", 4094)),  # dot1qMaxVlanId
        ((*DOT1Q_BASE, 3, 0), ("gauge", 256)),  # dot1qMaxSupportedVlans
        ((*DOT1Q_BASE, 4, 0), ("gauge", len(switch_vlans(facts)))),  # dot1qNumVlans
    ]
    for mac, vlan, port in facts.fdb:
        idx = (vlan, *mac_bytes(mac))
        rows += [
            ((*DOT1Q_TP_FDB_ENTRY, 2, *idx), ("int", bridge_port(facts, port))),
            ((*DOT1Q_TP_FDB_ENTRY, 3, *idx), ("int", 3)),
        ]
    own = (management_vlan(sw), *mac_bytes(sw.mac))
    rows += [((*DOT1Q_TP_FDB_ENTRY, 2, *own), ("int", 0)), ((*DOT1Q_TP_FDB_ENTRY, 3, *own), ("int", 4))]
    for vlan, name in switch_vlans(facts).items():
        egress = [p.number for p in vlan_members(facts, vlan)]
        untagged = [p.number for p in facts.ports if (p.vlan == vlan and not p.is_uplink) or
                    (p.is_uplink and vlan == 1)]  # fmt: skip
        current = (0, vlan)  # index: dot1qVlanTimeMark . dot1qVlanIndex
        rows += [
            ((*DOT1Q_VLAN_CURRENT_ENTRY, 3, *current), ("gauge", vlan)),  # dot1qVlanFdbId
            ((*DOT1Q_VLAN_CURRENT_ENTRY, 4, *current), ("hex", port_list(egress, size))),
            ((*DOT1Q_VLAN_CURRENT_ENTRY, 5, *current), ("hex", port_list(untagged, size))),
            ((*DOT1Q_VLAN_CURRENT_ENTRY, 6, *current), ("int", 2)),  # permanent
            ((*DOT1Q_VLAN_STATIC_ENTRY, 1, vlan), _str(name)),
            ((*DOT1Q_VLAN_STATIC_ENTRY, 2, vlan), ("hex", port_list(egress, size))),
            ((*DOT1Q_VLAN_STATIC_ENTRY, 4, vlan), ("hex", port_list(untagged, size))),
            ((*DOT1Q_VLAN_STATIC_ENTRY, 5, vlan), ("int", 1)),  # active
        ]
    for p in facts.ports:
        rows.append(((*DOT1Q_PORT_VLAN_ENTRY, 1, bridge_port(facts, p.number)), ("gauge", p.vlan)))
    return rows


def _cisco_vlans(facts: SwitchFacts) -> list[Row]:
    """VTP VLAN list (how a scanner learns which `community@vlan` to ask), trunk and access VLANs."""
    vlans = {v: (name, 1) for v, name in switch_vlans(facts).items()} | CISCO_RESERVED_VLANS
    rows: list[Row] = []
    for vlan, (name, vtype) in sorted(vlans.items()):
        idx = (1, vlan)  # managementDomainIndex 1
        rows += [
            ((*VTP_VLAN_ENTRY, 2, *idx), ("int", 1)),  # operational
            ((*VTP_VLAN_ENTRY, 3, *idx), ("int", vtype)),
            ((*VTP_VLAN_ENTRY, 4, *idx), _str(name)),
        ]
    for p in facts.ports:
        rows += [
            ((*VLAN_TRUNK_PORT_ENTRY, 5, p.if_index), ("int", 1)),  # native VLAN
            ((*VLAN_TRUNK_PORT_ENTRY, 14, p.if_index), ("int", 1 if p.is_uplink else 2)),  # trunking?
        ]
        if not p.is_uplink:
            rows.append(((*VM_VLAN, p.if_index), ("int", p.vlan)))
    return rows


# ---------------------------------------------------------------- POWER-ETHERNET-MIB and vendor power


def _poe(facts: SwitchFacts) -> list[Row]:
    sw = facts.switch
    rows: list[Row] = []
    poe_ports = [p for p in facts.ports if p.number <= sw.poe_ports]
    for p in poe_ports:
        idx = (1, p.number)
        delivering = p.poe_status == "delivering"
        # pethPsePortPowerClassifications is only meaningful while delivering; like real agents we
        # still answer class0 for idle ports, so a client must look at the detection status first.
        cls = (p.poe_class or 0) + 1 if delivering else 1
        rows += [
            ((*PETH_PSE_PORT_ENTRY, 3, *idx), ("int", 1 if p.poe_enabled else 2)),
            ((*PETH_PSE_PORT_ENTRY, 4, *idx), ("int", 1)),  # powerPairs: signal
            ((*PETH_PSE_PORT_ENTRY, 6, *idx), ("int", POE_DETECTION[p.poe_status])),
            ((*PETH_PSE_PORT_ENTRY, 7, *idx), ("int", 3)),  # priority: low
            ((*PETH_PSE_PORT_ENTRY, 10, *idx), ("int", cls)),
        ]
        mw = round(p.power_w * 1000)
        if facts.cisco:
            allocated = CISCO_CLASS_ALLOCATION_MW[p.poe_class or 0] if delivering else 0
            rows += [
                ((*CPE_EXT_PSE_PORT_ENTRY, 1, *idx), ("int", 1 if p.poe_enabled else 4)),  # auto / disable
                ((*CPE_EXT_PSE_PORT_ENTRY, 6, *idx), ("gauge", 30000)),
                ((*CPE_EXT_PSE_PORT_ENTRY, 7, *idx), ("gauge", allocated)),
                ((*CPE_EXT_PSE_PORT_ENTRY, 9, *idx), ("gauge", mw)),
                ((*CPE_EXT_PSE_PORT_ENTRY, 10, *idx), ("gauge", mw)),
            ]
        else:
            rows += [
                ((*HPICF_POE_PORT_ENTRY, 3, *idx), ("int", mw)),
                ((*HPICF_POE_PORT_ENTRY, 8, *idx), ("int", mw)),
                ((*HPICF_POE_PORT_ENTRY, 9, *idx), ("int", 3 if delivering else 2)),
            ]
    consumption = round(sum(p.power_w for p in poe_ports))
    rows += [
        ((*PETH_MAIN_PSE_ENTRY, 2, 1), ("gauge", round(sw.poe_budget_w))),  # pethMainPsePower, W
        ((*PETH_MAIN_PSE_ENTRY, 3, 1), ("int", 1)),  # on
        ((*PETH_MAIN_PSE_ENTRY, 4, 1), ("gauge", consumption)),  # pethMainPseConsumptionPower, W
        ((*PETH_MAIN_PSE_ENTRY, 5, 1), ("int", 80)),  # usage threshold, %
    ]
    return rows


# ---------------------------------------------------------------- LLDP-MIB


def lldp_port_id(sw: Switch, port: int) -> tuple[int, str, str]:
    """(subtype, id, description) a switch advertises for a port: Cisco interfaceName(5) "Gi1/0/N",
    ProCurve local(7) "N" (ArubaOS-Switch's default)."""
    if sw.dialect is Dialect.CISCO_IOS:
        return 5, sw.port_short_name(port), sw.port_name(port)
    return 7, str(port), str(port)


def _lldp(facts: SwitchFacts) -> list[Row]:
    sw, site = facts.switch, facts.site
    rows: list[Row] = [
        (LLDP_LOC_CHASSIS_ID_SUBTYPE, ("int", 4)),
        (LLDP_LOC_CHASSIS_ID, ("hex", mac_bytes(sw.mac))),
        (LLDP_LOC_SYS_NAME, _str(sw.name)),
        (LLDP_LOC_SYS_DESC, _str(sys_descr(sw))),
    ]
    for p in facts.ports:
        subtype, port_id, desc = lldp_port_id(sw, p.number)
        rows += [
            ((*LLDP_LOC_PORT_ENTRY, 2, p.number), ("int", subtype)),
            ((*LLDP_LOC_PORT_ENTRY, 3, p.number), _str(port_id)),
            ((*LLDP_LOC_PORT_ENTRY, 4, p.number), _str(desc)),
        ]
    rem_index = 0
    for p in facts.ports:
        far = site.link_on(sw.name, p.number)
        if far is None:
            continue
        far_sw, far_port = far
        rem_index += 1
        idx = (LLDP_REM_TIME_MARK, p.number, rem_index)
        subtype, port_id, desc = lldp_port_id(far_sw, far_port)
        caps = LLDP_CAP_BRIDGE_ROUTER if far_sw.dialect is Dialect.CISCO_IOS else LLDP_CAP_BRIDGE
        rows += [
            ((*LLDP_REM_ENTRY, 4, *idx), ("int", 4)),  # chassis id subtype: macAddress
            ((*LLDP_REM_ENTRY, 5, *idx), ("hex", mac_bytes(far_sw.mac))),
            ((*LLDP_REM_ENTRY, 6, *idx), ("int", subtype)),
            ((*LLDP_REM_ENTRY, 7, *idx), _str(port_id)),
            ((*LLDP_REM_ENTRY, 8, *idx), _str(desc)),
            ((*LLDP_REM_ENTRY, 9, *idx), _str(far_sw.name)),
            ((*LLDP_REM_ENTRY, 10, *idx), _str(sys_descr(far_sw))),
            ((*LLDP_REM_ENTRY, 11, *idx), ("hex", caps)),
            ((*LLDP_REM_ENTRY, 12, *idx), ("hex", LLDP_CAP_BRIDGE)),
        ]
        addr = (*idx, 1, 4, *oid(far_sw.ip))  # subtype ipV4(1), length 4, address
        rows += [
            ((*LLDP_REM_MAN_ADDR_ENTRY, 3, *addr), ("int", 2)),  # ifIndex
            ((*LLDP_REM_MAN_ADDR_ENTRY, 4, *addr), ("int", vlan_if_index(far_sw, management_vlan(far_sw)))),
            ((*LLDP_REM_MAN_ADDR_ENTRY, 5, *addr), ("oid", "0.0")),
        ]
    return rows
