"""Cisco IOS / IOS-XE switches (Catalyst 2960, 3560, 3850, 9200 ...) over SSH.

Parsed with ntc-templates (platform cisco_ios), field names as the templates spell them:
  show version                  hostname, version, hardware[], serial[], mac_address[], uptime_*
  show interfaces status        port, name, status, vlan_id, duplex, speed, type
  show interfaces description   port, status, protocol, description   (full descriptions; status cuts at 18)
  show power inline             interface, admin_status, operational_status, power, device, class, max
  show mac address-table        destination_address, type, vlan_id, destination_port[]
  show lldp neighbors detail    local_interface, chassis_id, neighbor_port_id, neighbor_interface,
                                neighbor_name, neighbor_description, capabilities, mgmt_address
  show vlan brief               vlan_id, vlan_name, status, interfaces[]
Read by hand, because no template covers them: the PoE budget lines of `show power inline`, and
from the running-config the trunk native VLANs and the location (snmp-server location).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from drivers.base import FdbEntry, LldpEntry
from drivers.cli.base import CONFIG, CliDriver, Outputs, Parsed, capabilities, duration_seconds, mac_or_text
from drivers.cli.base import speed_mbps as parse_speed
from drivers.cli.base import textfsm as _textfsm
from drivers.normalize import canonical_ifname, canonical_mac
from drivers.sanitize import CISCO_NOISE, CISCO_SECRETS
from drivers.schema import DeviceIdentity, PoePort, PoeStatus, SwitchPort, Vlan

PLATFORM = "cisco_ios"

COMMANDS = {
    "version": "show version",
    "interfaces": "show interfaces status",
    "descriptions": "show interfaces description",
    "poe": "show power inline",
    "mac": "show mac address-table",
    "lldp": "show lldp neighbors detail",
    "vlans": "show vlan brief",
    CONFIG: "show running-config",
}

SECRET_FILTERS = CISCO_SECRETS
NOISE_FILTERS = CISCO_NOISE

# "Port" values in the MAC table that are not front-panel ports.
_NOT_PORTS = frozenset({"cpu", "router", "switch", "drop", "sup-eth1"})
_RESERVED_VLANS = frozenset(range(1002, 1006))
_LOCATION = re.compile(r"^snmp-server location (.+)$", re.MULTILINE)


def textfsm(purpose: str, text: str) -> list[dict[str, str]]:
    return _textfsm(PLATFORM, COMMANDS[purpose], text)


def parse_version(text: str) -> tuple[DeviceIdentity, int | None]:
    """Identity and uptime from `show version`."""
    rows = textfsm("version", text)
    if not rows:
        raise ValueError("show version: nothing recognised")
    row = rows[0]
    units = ("uptime_years", "uptime_weeks", "uptime_days", "uptime_hours", "uptime_minutes")
    uptime = duration_seconds(", ".join(f"{row.get(u) or 0} {u.split('_')[1]}" for u in units))
    macs = [m for m in row.get("mac_address") or [] if m]
    hardware = [h for h in row.get("hardware") or [] if h]
    serials = [s for s in row.get("serial") or [] if s]
    identity = DeviceIdentity(
        vendor="Cisco",
        model=hardware[0] if hardware else None,
        serial=serials[0] if serials else None,
        firmware=row.get("version") or None,
        mac=canonical_mac(macs[0]) if macs else None,
        hostname=row.get("hostname") or None,
    )
    return identity, uptime


def parse_descriptions(text: str) -> dict[str, str]:
    """Full port descriptions by canonical interface name."""
    return {
        canonical_ifname(r["port"]): r["description"]
        for r in textfsm("descriptions", text)
        if r["description"]
    }


def trunk_native_vlans(config: str) -> dict[str, int]:
    """Native VLAN of every trunk port in the running-config (1 unless configured)."""
    result: dict[str, int] = {}
    for block in re.split(r"\n(?=interface )", config):
        header = re.match(r"interface (\S+)", block)
        if header and re.search(r"^\s*switchport mode trunk\s*$", block, re.MULTILINE):
            native = re.search(r"^\s*switchport trunk native vlan (\d+)", block, re.MULTILINE)
            result[canonical_ifname(header.group(1))] = int(native.group(1)) if native else 1
    return result


def _poe_status(admin: str, oper: str) -> PoeStatus:
    oper = oper.lower()
    if oper == "on":
        return PoeStatus.DELIVERING
    if oper == "faulty":
        return PoeStatus.FAULT
    if oper in {"power-deny", "err-disable"}:
        return PoeStatus.OTHER_FAULT
    return PoeStatus.DISABLED if admin.lower() in {"off", "never"} else PoeStatus.SEARCHING


def parse_power_inline(text: str) -> dict[str, PoePort]:
    """PoE per port by canonical interface name."""
    ports: dict[str, PoePort] = {}
    for row in textfsm("poe", text):
        status = _poe_status(row["admin_status"], row["operational_status"])
        delivering = status is PoeStatus.DELIVERING
        ports[canonical_ifname(row["interface"])] = PoePort(
            admin_enabled=row["admin_status"].lower() not in {"off", "never"},
            status=status,
            power_class=int(row["class"]) if delivering and row["class"].isdigit() else None,
            power_w=float(row["power"]) if row["power"] else None,
        )
    return ports


_POE_MODULE = re.compile(r"^\s*\d+\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+\d+(?:\.\d+)?\s*$", re.MULTILINE)


def parse_power_totals(text: str) -> tuple[float | None, float | None]:
    """(available, used) watts from the module lines above the port table, summed over stack members."""
    modules = _POE_MODULE.findall(text.split("Interface", 1)[0])
    if not modules:
        return None, None
    return sum(float(a) for a, _u in modules), round(sum(float(u) for _a, u in modules), 1)


def parse_interfaces(
    text: str, descriptions: Mapping[str, str], poe: Mapping[str, PoePort], natives: Mapping[str, int]
) -> list[SwitchPort]:
    """Switch ports from `show interfaces status`; routed ports (the management port) are left out."""
    ports = []
    for row in textfsm("interfaces", text):
        vlan_text = row["vlan_id"]
        if vlan_text in {"routed", "unassigned"}:
            continue
        name = canonical_ifname(row["port"])
        status = row["status"]
        vlan = int(vlan_text) if vlan_text.isdigit() else natives.get(name)
        ports.append(
            SwitchPort(
                name=name,
                alias=descriptions.get(name, row["name"]) or None,
                admin_up=status not in {"disabled"},
                oper_up=status in {"connected", "up", "monitoring"},
                speed_mbps=parse_speed(row["speed"]) if status == "connected" else None,
                vlan=vlan if vlan is not None and 1 <= vlan <= 4094 else None,
                poe=poe.get(name),
            )
        )
    return ports


def parse_mac_table(text: str) -> list[FdbEntry]:
    entries = []
    for row in textfsm("mac", text):
        ports = [p for p in row["destination_port"] if p.lower() not in _NOT_PORTS and not p.startswith("Vl")]
        if not row["vlan_id"].isdigit() or len(ports) != 1:
            continue  # "All" CPU entries, multicast to several ports
        entries.append(
            FdbEntry(port=ports[0], mac=row["destination_address"], vlan=int(row["vlan_id"]), source="cli")
        )
    return entries


def parse_lldp_detail(text: str) -> list[LldpEntry]:
    entries = []
    for row in textfsm("lldp", text):
        if not row["local_interface"] or not (row["chassis_id"] or row["neighbor_port_id"]):
            continue
        entries.append(
            LldpEntry(
                local_port=row["local_interface"],
                chassis_id=mac_or_text(row["chassis_id"]),
                port_id=mac_or_text(row["neighbor_port_id"]),
                port_description=row["neighbor_interface"] or None,
                system_name=row["neighbor_name"] or None,
                system_description=row["neighbor_description"] or None,
                capabilities=capabilities(row["capabilities"]),
                management_ip=row["mgmt_address"] or None,
            )
        )
    return entries


def parse_vlans(text: str) -> list[Vlan]:
    vlans = []
    for row in textfsm("vlans", text):
        vlan_id = int(row["vlan_id"])
        if 1 <= vlan_id <= 4094 and vlan_id not in _RESERVED_VLANS:
            vlans.append(Vlan(vlan_id=vlan_id, name=row["vlan_name"] or None))
    return vlans


class CiscoIosDriver(CliDriver):
    name = "cli.cisco_ios"
    platform = PLATFORM
    COMMANDS = COMMANDS
    SECRET_FILTERS = SECRET_FILTERS
    NOISE_FILTERS = NOISE_FILTERS
    OUIS = frozenset({"00:1b:54", "00:1e:bd", "00:25:45", "58:ac:78", "70:10:5c", "f4:cf:e2", "00:08:e3"})

    @classmethod
    def parse(cls, outputs: Outputs) -> Parsed:
        p = Parsed()
        text = outputs.get
        version: tuple[DeviceIdentity | None, int | None] = (None, None)
        if "version" in outputs:
            version = p.attempt("show version", lambda: parse_version(outputs["version"]), version)
        p.identity, p.uptime_s = version
        location = _LOCATION.search(text(CONFIG, ""))
        if p.identity is not None and location:
            p.identity = p.identity.model_copy(update={"location": location.group(1).strip()})
        no_descriptions: dict[str, str] = {}
        descriptions = p.attempt(
            "show interfaces description",
            lambda: parse_descriptions(text("descriptions", "")),
            no_descriptions,
        )
        no_poe: dict[str, PoePort] = {}
        poe = p.attempt("show power inline", lambda: parse_power_inline(text("poe", "")), no_poe)
        p.poe_budget_w, p.poe_consumption_w = parse_power_totals(text("poe", ""))
        natives = trunk_native_vlans(text(CONFIG, ""))
        p.ports = p.attempt(
            "show interfaces status",
            lambda: parse_interfaces(text("interfaces", ""), descriptions, poe, natives),
            p.ports,
        )
        p.fdb = p.attempt("show mac address-table", lambda: parse_mac_table(text("mac", "")), p.fdb)
        p.lldp = p.attempt("show lldp neighbors detail", lambda: parse_lldp_detail(text("lldp", "")), p.lldp)
        p.vlans = p.attempt("show vlan brief", lambda: parse_vlans(text("vlans", "")), p.vlans)
        return p
