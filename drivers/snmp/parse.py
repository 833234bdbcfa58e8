"""Pure functions from SNMP walk results (``{numeric OID: value}``) to snapshot records.

No I/O here: the driver walks, these functions read. Fixtures replay ``.snmprec`` recordings through
the same functions. Port mapping follows Netdisco: forwarding tables and PoE name *bridge ports*,
which ``dot1dBasePortIfIndex`` turns into ifIndex and ifName; LLDP names its own local port numbers.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from pydantic import ValidationError

from drivers.base import DeviceReport, FdbEntry, LldpEntry, ReportNote
from drivers.normalize import LABEL_CHARS, TEXT_CHARS, canonical_ifname, canonical_mac, clean_text
from drivers.schema import DeviceIdentity, PoePort, PoeStatus, ProblemKind, Role, SwitchInfo, SwitchPort, Vlan
from drivers.snmp import oids
from drivers.snmp.transport import SnmpValue, Walk
from drivers.uplinks import lldp_uplink_ports

T = TypeVar("T")

# ---------------------------------------------------------------- small readers


def column(rows: Mapping[str, SnmpValue], base: str) -> dict[str, SnmpValue]:
    """The rows of one table column, keyed by index (the OID after `base`)."""
    prefix = base + "."
    return {oid[len(prefix) :]: value for oid, value in rows.items() if oid.startswith(prefix)}


def int_column(rows: Mapping[str, SnmpValue], base: str) -> dict[str, int]:
    return {index: value for index, value in column(rows, base).items() if isinstance(value, int)}


def text(value: SnmpValue | None, limit: int = LABEL_CHARS) -> str | None:
    """Display text of an OCTET STRING: UTF-8 (invalid bytes replaced), controls removed, blanks
    trimmed, at most ``limit`` characters (drivers.normalize.clean_text)."""
    if value is None:
        return None
    raw = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    cleaned = clean_text(raw.strip(), limit).strip()
    return cleaned or None


def mac_of(value: SnmpValue | None) -> str | None:
    """A MAC from 6 raw octets (or from text some agents send instead); None when it is not one."""
    if value is None:
        return None
    try:
        mac = canonical_mac(value) if isinstance(value, bytes | str) else None
    except ValueError:
        return None
    return None if mac == "00:00:00:00:00:00" else mac


def mac_from_index(parts: list[str]) -> str | None:
    """A MAC spelled as six decimal sub-identifiers in an OID index."""
    if len(parts) != 6:
        return None
    try:
        return mac_of(bytes(int(p) for p in parts))
    except ValueError:
        return None


# ---------------------------------------------------------------- system, vendor, chassis


@dataclass(frozen=True)
class SystemInfo:
    descr: str | None
    object_id: str | None
    uptime_s: int | None
    name: str | None
    location: str | None


def parse_system(rows: Mapping[str, SnmpValue]) -> SystemInfo:
    uptime = rows.get(oids.SYS_UPTIME)
    object_id = rows.get(oids.SYS_OBJECT_ID)
    return SystemInfo(
        descr=text(rows.get(oids.SYS_DESCR), TEXT_CHARS),
        object_id=object_id.lstrip(".") if isinstance(object_id, str) else None,
        uptime_s=uptime // 100 if isinstance(uptime, int) else None,
        name=text(rows.get(oids.SYS_NAME)),
        location=text(rows.get(oids.SYS_LOCATION), TEXT_CHARS),
    )


def enterprise_of(sys_object_id: str | None) -> str | None:
    """The enterprise number in a sysObjectID, e.g. "9" for 1.3.6.1.4.1.9.1.1208."""
    if not sys_object_id or not sys_object_id.startswith(oids.ENTERPRISE_PREFIX):
        return None
    return sys_object_id[len(oids.ENTERPRISE_PREFIX) :].split(".", 1)[0]


def vendor_of(sys_object_id: str | None, sys_descr: str | None) -> str | None:
    """Vendor from the enterprise number; a rebranded line (Aruba under HP) by the sysDescr's first word."""
    enterprise = enterprise_of(sys_object_id)
    if enterprise is None:
        return None
    first_word = (sys_descr or "").split(" ", 1)[0]
    for brand in oids.REBRANDS.get(enterprise, ()):
        if first_word.lower() == brand.lower():
            return brand
    return oids.ENTERPRISE_VENDORS.get(enterprise)


_FIRMWARE_IN_DESCR = (
    re.compile(r"\bVersion ([\w.()\-]+?),"),  # Cisco IOS: "..., Version 15.2(7)E8, RELEASE SOFTWARE"
    re.compile(r"\brevision ([\w.]+),"),  # ProCurve / Aruba-OS: "..., revision YA.16.11.0016, ROM ..."
)


def firmware_from_descr(sys_descr: str | None) -> str | None:
    for pattern in _FIRMWARE_IN_DESCR:
        match = pattern.search(sys_descr or "")
        if match:
            return match.group(1)
    return None


@dataclass(frozen=True)
class Chassis:
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    hardware: str | None = None


def parse_chassis(rows: Mapping[str, SnmpValue]) -> Chassis:
    """The first chassis in ENTITY-MIB (the stack master on a stack); else the first entity with a serial."""
    classes = int_column(rows, oids.ENT_PHYSICAL_CLASS)
    serials = column(rows, oids.ENT_PHYSICAL_SERIAL_NUM)
    by_number = sorted(set(classes) | set(serials), key=lambda i: int(i) if i.isdigit() else 0)
    chosen = next((i for i in by_number if classes.get(i) == oids.ENT_CLASS_CHASSIS), None)
    if chosen is None:
        chosen = next((i for i in by_number if text(serials.get(i))), None)
    if chosen is None:
        return Chassis()

    def field(base: str) -> str | None:
        return text(rows.get(f"{base}.{chosen}"))

    return Chassis(
        model=field(oids.ENT_PHYSICAL_MODEL_NAME),
        serial=field(oids.ENT_PHYSICAL_SERIAL_NUM),
        firmware=field(oids.ENT_PHYSICAL_SOFTWARE_REV) or field(oids.ENT_PHYSICAL_FIRMWARE_REV),
        hardware=field(oids.ENT_PHYSICAL_HARDWARE_REV),
    )


# ---------------------------------------------------------------- interfaces and bridge ports


@dataclass(frozen=True)
class Interface:
    if_index: int
    name: str
    descr: str | None
    alias: str | None
    if_type: int | None
    admin_up: bool | None
    oper_up: bool | None
    speed_mbps: int | None


def parse_interfaces(rows: Mapping[str, SnmpValue]) -> dict[int, Interface]:
    """IF-MIB interfaces by ifIndex; the name is ifName, else ifDescr."""
    descr = column(rows, oids.IF_DESCR)
    names = column(rows, oids.IF_NAME)
    aliases = column(rows, oids.IF_ALIAS)
    types = int_column(rows, oids.IF_TYPE)
    admin = int_column(rows, oids.IF_ADMIN_STATUS)
    oper = int_column(rows, oids.IF_OPER_STATUS)
    speed = int_column(rows, oids.IF_HIGH_SPEED)
    result: dict[int, Interface] = {}
    for index in set(descr) | set(names):
        if not index.isdigit():
            continue
        name = text(names.get(index)) or text(descr.get(index))
        if name is None:
            continue
        result[int(index)] = Interface(
            if_index=int(index),
            name=name,
            descr=text(descr.get(index)),
            alias=text(aliases.get(index)),
            if_type=types.get(index),
            admin_up=admin[index] == 1 if index in admin else None,
            oper_up=oper[index] == 1 if index in oper else None,
            speed_mbps=speed.get(index) or None,  # 0 is "unknown" (a port without link)
        )
    return result


def bridge_ports(rows: Mapping[str, SnmpValue]) -> dict[int, int]:
    """dot1dBasePort -> ifIndex."""
    return {int(port): if_index for port, if_index in int_column(rows, oids.DOT1D_BASE_PORT_IF_INDEX).items()}


# ---------------------------------------------------------------- forwarding tables


def parse_fdb_qbridge(
    rows: Mapping[str, SnmpValue], ports: Mapping[int, int], interfaces: Mapping[int, Interface]
) -> tuple[list[FdbEntry], int]:
    """Q-BRIDGE dot1qTpFdbPort. Returns the entries and how many named a port we cannot map."""
    fdb_to_vlan = {
        fdb: int(index.split(".")[-1]) for index, fdb in int_column(rows, oids.DOT1Q_VLAN_FDB_ID).items()
    }
    status = int_column(rows, oids.DOT1Q_TP_FDB_STATUS)
    entries: list[FdbEntry] = []
    unmapped = 0
    for index, port in int_column(rows, oids.DOT1Q_TP_FDB_PORT).items():
        parts = index.split(".")
        mac = mac_from_index(parts[1:])
        if mac is None or port == 0 or status.get(index) in oids.FDB_STATUS_SKIP:
            continue
        fdb_id = int(parts[0])
        vlan = fdb_to_vlan.get(fdb_id, fdb_id)  # most switches use the VLAN id as the FDB id
        name = _port_name(port, ports, interfaces)
        if name is None:
            unmapped += 1
            continue
        entries.append(
            FdbEntry(port=name, mac=mac, vlan=vlan if 1 <= vlan <= 4094 else None, source="snmp:q-bridge")
        )
    return entries, unmapped


def parse_fdb_bridge(
    rows: Mapping[str, SnmpValue],
    ports: Mapping[int, int],
    interfaces: Mapping[int, Interface],
    vlan: int | None = None,
) -> tuple[list[FdbEntry], int]:
    """BRIDGE-MIB dot1dTpFdbPort (one VLAN's instance on Cisco, where `vlan` says which)."""
    status = int_column(rows, oids.DOT1D_TP_FDB_STATUS)
    entries: list[FdbEntry] = []
    unmapped = 0
    for index, port in int_column(rows, oids.DOT1D_TP_FDB_PORT).items():
        mac = mac_from_index(index.split("."))
        if mac is None or port == 0 or status.get(index) in oids.FDB_STATUS_SKIP:
            continue
        name = _port_name(port, ports, interfaces)
        if name is None:
            unmapped += 1
            continue
        entries.append(FdbEntry(port=name, mac=mac, vlan=vlan, source="snmp:bridge"))
    return entries, unmapped


def _port_name(bridge_port: int, ports: Mapping[int, int], interfaces: Mapping[int, Interface]) -> str | None:
    interface = interfaces.get(ports.get(bridge_port, -1))
    return interface.name if interface else None


# ---------------------------------------------------------------- VLANs


def cisco_vlan_ids(rows: Mapping[str, SnmpValue]) -> list[int]:
    """Operational VLANs from CISCO-VTP-MIB vtpVlanState (index: domain . vlan), without the reserved ones."""
    vlans = {
        int(index.split(".")[-1])
        for index, state in int_column(rows, oids.VTP_VLAN_STATE).items()
        if state == 1
    }
    return sorted(v for v in vlans if 1 <= v <= 4094 and v not in oids.CISCO_RESERVED_VLANS)


def parse_vlans(rows: Mapping[str, SnmpValue]) -> list[Vlan]:
    """VLAN ids and names: Q-BRIDGE static names, else CISCO-VTP-MIB."""
    names: dict[int, str | None] = {}
    for index, value in column(rows, oids.DOT1Q_VLAN_STATIC_NAME).items():
        if index.isdigit():
            names[int(index)] = text(value)
    for index, value in column(rows, oids.VTP_VLAN_NAME).items():
        names.setdefault(int(index.split(".")[-1]), text(value))
    return [
        Vlan(vlan_id=v, name=n)
        for v, n in sorted(names.items())
        if 1 <= v <= 4094 and v not in oids.CISCO_RESERVED_VLANS
    ]


def port_vlans(rows: Mapping[str, SnmpValue], ports: Mapping[int, int]) -> dict[int, int]:
    """Access / native VLAN by ifIndex: Q-BRIDGE dot1qPvid (by bridge port), else Cisco vmVlan / native."""
    result: dict[int, int] = {}
    for port, vlan in int_column(rows, oids.DOT1Q_PVID).items():
        if port.isdigit() and int(port) in ports:
            result[ports[int(port)]] = vlan
    for source in (oids.VM_VLAN, oids.VLAN_TRUNK_PORT_NATIVE_VLAN):
        for if_index, vlan in int_column(rows, source).items():
            if if_index.isdigit():
                result.setdefault(int(if_index), vlan)
    return {k: v for k, v in result.items() if 1 <= v <= 4094}


# ---------------------------------------------------------------- PoE


def poe_if_index(
    group: int, port: int, ports: Mapping[int, int], interfaces: Mapping[int, Interface]
) -> int | None:
    """Which interface a pethPsePortTable row (group . port) is.

    The MIB leaves this open. Stacked Cisco switches number rows member . port, so the interface is the
    one named ``<member>/0/<port>``; ProCurve and most others use the bridge port number (= ifIndex).
    """
    suffix = re.compile(rf"(?:^|\D){group}/(?:\d+/)?{port}$")
    for if_index, interface in sorted(interfaces.items()):
        if suffix.search(interface.name) or (interface.descr and suffix.search(interface.descr)):
            return if_index
    if port in ports:
        return ports[port]
    return port if port in interfaces else None


def parse_poe(
    rows: Mapping[str, SnmpValue],
    ports: Mapping[int, int],
    interfaces: Mapping[int, Interface],
    enterprise: str | None,
) -> dict[int, PoePort]:
    """PoE state per ifIndex from POWER-ETHERNET-MIB, with the vendor's per-port power column (mW)."""
    admin = int_column(rows, oids.PETH_PSE_PORT_ADMIN_ENABLE)
    detection = int_column(rows, oids.PETH_PSE_PORT_DETECTION_STATUS)
    classes = int_column(rows, oids.PETH_PSE_PORT_POWER_CLASSIFICATIONS)
    power_column = oids.VENDOR_PORT_POWER_MW.get(enterprise or "")
    power_mw = int_column(rows, power_column) if power_column else {}
    result: dict[int, PoePort] = {}
    for index in sorted(set(admin) | set(detection)):
        group, _, port = index.partition(".")
        if not (group.isdigit() and port.isdigit()):
            continue
        if_index = poe_if_index(int(group), int(port), ports, interfaces)
        if if_index is None:
            continue
        status_name = oids.PETH_DETECTION_STATUS.get(detection.get(index, 0))
        status = PoeStatus(status_name) if status_name else None
        delivering = status is PoeStatus.DELIVERING
        power_class = classes.get(index)
        mw = power_mw.get(index)
        mw = mw if mw is not None and 0 <= mw <= 1_000_000 else None  # a hostile or broken counter
        result[if_index] = PoePort(
            admin_enabled=admin[index] == 1 if index in admin else None,
            status=status,
            # pethPsePortPowerClassifications counts from class0 = 1; it means nothing while not powering
            power_class=power_class - 1 if delivering and power_class and 1 <= power_class <= 9 else None,
            power_w=round(mw / 1000, 1) if mw is not None else (None if delivering else 0.0),
        )
    return result


def poe_totals(rows: Mapping[str, SnmpValue]) -> tuple[float | None, float | None]:
    """(budget, consumption) in watts, summed over PSE groups (stack members)."""
    budget = int_column(rows, oids.PETH_MAIN_PSE_POWER)
    used = int_column(rows, oids.PETH_MAIN_PSE_CONSUMPTION)
    return (float(sum(budget.values())) if budget else None, float(sum(used.values())) if used else None)


# ---------------------------------------------------------------- LLDP


def _lldp_id(
    subtype: int | None, value: SnmpValue | None, mac_subtype: int, address_subtype: int
) -> str | None:
    if value is None:
        return None
    if subtype == mac_subtype and isinstance(value, bytes):
        return mac_of(value) or value.hex()
    if subtype == address_subtype and isinstance(value, bytes) and len(value) in (5, 17):
        return str(ipaddress.ip_address(value[1:]))  # first octet: IANA address family
    decoded = text(value)
    if decoded and isinstance(value, bytes) and not decoded.isprintable():
        return value.hex(":")
    return decoded


def _capabilities(value: SnmpValue | None) -> list[str]:
    if not isinstance(value, bytes) or not value:
        return []
    bits = value[0]
    return [name for bit, name in enumerate(oids.LLDP_CAPABILITIES) if bits & (0x80 >> bit)]


def lldp_local_ports(
    rows: Mapping[str, SnmpValue], ports: Mapping[int, int], interfaces: Mapping[int, Interface]
) -> dict[int, str]:
    """lldpLocPortNum -> interface name: by the port id / description the switch gives it, else as a
    bridge port number, else as an ifIndex (each vendor picks one of these)."""
    by_name: dict[str, str] = {}
    for interface in interfaces.values():
        for label in (interface.name, interface.descr):
            if label:
                by_name.setdefault(canonical_ifname(label).lower(), interface.name)
    port_ids = column(rows, oids.LLDP_LOC_PORT_ID)
    port_descs = column(rows, oids.LLDP_LOC_PORT_DESC)
    result: dict[int, str] = {}
    for number in {int(i) for i in [*port_ids, *port_descs] if i.isdigit()}:
        for label in (text(port_ids.get(str(number))), text(port_descs.get(str(number)))):
            if label and canonical_ifname(label).lower() in by_name:
                result[number] = by_name[canonical_ifname(label).lower()]
                break
    return result


def _lldp_local_name(
    number: int, local: Mapping[int, str], ports: Mapping[int, int], interfaces: Mapping[int, Interface]
) -> str | None:
    if number in local:
        return local[number]
    return _port_name(number, ports, interfaces) or (
        interfaces[number].name if number in interfaces else None
    )


def _management_ips(rows: Mapping[str, SnmpValue]) -> dict[str, str]:
    """First IPv4/IPv6 management address per remote (timeMark.port.index), read from the table index."""
    result: dict[str, str] = {}
    for index in column(rows, oids.LLDP_REM_MAN_ADDR_IF_SUBTYPE):
        parts = index.split(".")
        if len(parts) < 6:
            continue
        key, family, length, octets = ".".join(parts[:3]), parts[3], int(parts[4]), parts[5:]
        if family in {"1", "2"} and len(octets) == length and length in (4, 16):
            result.setdefault(key, str(ipaddress.ip_address(bytes(int(o) for o in octets))))
    return result


def parse_lldp(
    rows: Mapping[str, SnmpValue], ports: Mapping[int, int], interfaces: Mapping[int, Interface]
) -> tuple[list[LldpEntry], int]:
    """LLDP neighbours from lldpRemTable; returns entries and how many had an unmappable local port."""
    remotes: dict[str, dict[int, SnmpValue]] = defaultdict(dict)
    for oid, value in rows.items():
        if oid.startswith(oids.LLDP_REM + "."):
            col, _, key = oid[len(oids.LLDP_REM) + 1 :].partition(".")
            if col.isdigit() and key.count(".") == 2:
                remotes[key][int(col)] = value
    local = lldp_local_ports(rows, ports, interfaces)
    addresses = _management_ips(rows)
    entries: list[LldpEntry] = []
    unmapped = 0
    for key, cols in sorted(remotes.items()):
        chassis_subtype, port_subtype = cols.get(4), cols.get(6)
        chassis = _lldp_id(
            chassis_subtype if isinstance(chassis_subtype, int) else None,
            cols.get(5),
            oids.LLDP_CHASSIS_SUBTYPE_MAC,
            oids.LLDP_CHASSIS_SUBTYPE_NETWORK_ADDRESS,
        )
        port_id = _lldp_id(
            port_subtype if isinstance(port_subtype, int) else None,
            cols.get(7),
            oids.LLDP_PORT_SUBTYPE_MAC,
            oids.LLDP_PORT_SUBTYPE_NETWORK_ADDRESS,
        )
        if chassis is None or port_id is None:
            continue
        local_name = _lldp_local_name(int(key.split(".")[1]), local, ports, interfaces)
        if local_name is None:
            unmapped += 1
            continue
        entries.append(
            LldpEntry(
                local_port=local_name,
                chassis_id=chassis,
                port_id=port_id,
                port_description=text(cols.get(8), TEXT_CHARS),
                system_name=text(cols.get(9)),
                system_description=text(cols.get(10), TEXT_CHARS),
                capabilities=_capabilities(cols.get(12)),
                management_ip=addresses.get(key),
            )
        )
    return entries, unmapped


# ---------------------------------------------------------------- the whole report


def is_switch_port(interface: Interface, bridged: Iterable[int]) -> bool:
    """A port worth listing: an Ethernet or LAG interface, or anything the bridge forwards on."""
    return interface.if_type in oids.PORT_IF_TYPES or interface.if_index in set(bridged)


def build_report(
    ip: str,
    rows: Mapping[str, SnmpValue],
    vlan_rows: Mapping[int, Walk] | None = None,
    *,
    driver: str = "snmp",
) -> DeviceReport:
    """Everything the walks say about one switch, as a DeviceReport.

    `rows` holds every walk on the default context; `vlan_rows` the per-VLAN bridge instances Cisco
    serves under community@vlan (forwarding table and bridge-port map of that VLAN).
    """
    notes: list[ReportNote] = []
    # Each section is guarded: a value no record can hold costs that section a note, not the device.
    guard = _Guard(notes)
    system = guard("system", lambda: parse_system(rows)) or SystemInfo(None, None, None, None, None)
    enterprise = enterprise_of(system.object_id)
    chassis = guard("chassis", lambda: parse_chassis(rows)) or Chassis()
    interfaces = guard("interfaces", lambda: parse_interfaces(rows)) or {}
    ports = guard("bridge", lambda: bridge_ports(rows)) or {}
    vlans_by_if = guard("vlans", lambda: port_vlans(rows, ports)) or {}
    poe = guard("poe", lambda: parse_poe(rows, ports, interfaces, enterprise)) or {}
    lldp, lldp_unmapped = guard("lldp", lambda: parse_lldp(rows, ports, interfaces)) or ([], 0)
    fdb, fdb_unmapped = guard("fdb", lambda: parse_fdb_qbridge(rows, ports, interfaces)) or ([], 0)
    if not fdb and vlan_rows:
        # Cisco: one instance per VLAN; the default context is VLAN 1's again, so it is not read twice.
        for vlan, instance in sorted(vlan_rows.items()):
            # Each VLAN instance has its own bridge-port numbering (usually the same; not always).
            vlan_ports = bridge_ports(instance) or ports
            entries, unmapped = guard(
                "fdb", partial(parse_fdb_bridge, instance, vlan_ports, interfaces, vlan)
            ) or ([], 0)
            fdb += entries
            fdb_unmapped += unmapped
    elif not fdb:
        fdb, fdb_unmapped = guard("fdb", lambda: parse_fdb_bridge(rows, ports, interfaces)) or ([], 0)
    fdb = _unique_fdb(fdb)
    if fdb_unmapped:
        notes.append(
            ReportNote(
                kind=ProblemKind.PARSE,
                operation="fdb",
                message=f"{fdb_unmapped} forwarding entries name a bridge port without an interface",
            )
        )
    if lldp_unmapped:
        notes.append(
            ReportNote(
                kind=ProblemKind.PARSE,
                operation="lldp",
                message=f"{lldp_unmapped} LLDP neighbours on a local port we cannot map",
            )
        )

    uplinks = lldp_uplink_ports(lldp)  # the one rule: drivers.uplinks
    switch_ports = [
        port
        for i in sorted(interfaces.values(), key=lambda i: i.if_index)
        if is_switch_port(i, ports.values())
        and (
            port := guard(
                f"interface {i.if_index}",
                partial(
                    SwitchPort,
                    if_index=i.if_index,
                    name=i.name,
                    alias=i.alias,
                    admin_up=i.admin_up,
                    oper_up=i.oper_up,
                    speed_mbps=i.speed_mbps,
                    vlan=vlans_by_if.get(i.if_index),
                    poe=poe.get(i.if_index),
                    is_uplink=canonical_ifname(i.name) in uplinks,
                ),
            )
        )
        is not None
    ]
    budget, consumption = guard("poe", lambda: poe_totals(rows)) or (None, None)
    bridge_mac = mac_of(rows.get(oids.DOT1D_BASE_BRIDGE_ADDRESS))
    identity = (
        guard(
            "identity",
            lambda: DeviceIdentity(
                vendor=vendor_of(system.object_id, system.descr),
                model=chassis.model,
                serial=chassis.serial,
                firmware=chassis.firmware or firmware_from_descr(system.descr),
                hardware_id=chassis.hardware,
                mac=bridge_mac,
                hostname=system.name,
                location=system.location,
            ),
        )
        or DeviceIdentity()
    )
    switch = guard(
        "switch",
        lambda: SwitchInfo(
            sys_object_id=system.object_id,
            sys_descr=system.descr,
            ports=tuple(switch_ports),
            vlans=tuple(parse_vlans(rows)),
            poe_budget_w=budget,
            poe_consumption_w=consumption,
            uptime_s=system.uptime_s,
        ),
    ) or SwitchInfo(ports=tuple(switch_ports))
    return DeviceReport(
        driver=driver,
        ip=ip,
        # A device that bridges (has bridge ports or a forwarding table) is a switch; for anything else
        # that answers SNMP (an NVR, a UPS) the role is left to the drivers that know it.
        role=Role.SWITCH if ports or fdb else None,
        identity=identity,
        switch=switch,
        fdb=fdb,
        lldp=lldp,
        notes=notes,
    )


class _Guard:
    """Runs one section parser; a value that no record can hold becomes a parse note."""

    def __init__(self, notes: list[ReportNote]) -> None:
        self.notes = notes

    def __call__(self, operation: str, build: Callable[[], T]) -> T | None:
        try:
            return build()
        except (ValidationError, ValueError, KeyError, IndexError, TypeError, ArithmeticError) as exc:
            message = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
            self.notes.append(ReportNote(kind=ProblemKind.PARSE, operation=operation, message=message))
            return None


def _unique_fdb(entries: Iterable[FdbEntry]) -> list[FdbEntry]:
    """One entry per (vlan, mac), in a stable order."""
    seen: dict[tuple[int | None, str], FdbEntry] = {}
    for entry in entries:
        seen.setdefault((entry.vlan, entry.mac), entry)
    return sorted(seen.values(), key=lambda e: (e.vlan or 0, e.mac))
