"""HP ProCurve / Aruba-OS switches (2530, 2540, 2930, 3810 ...) over SSH.

Parsed with ntc-templates (platform hp_procurve), field names as the templates spell them:
  show system                         name, location, software_version, mac_address, serial, uptime
  show interfaces brief               port, enabled, status, mode
  show interfaces status              port, name (cut at 10), status, speed, vlan_tagged, vlan_untagged
  show mac-address                    mac_address, port, vlan_id
  show lldp info remote-device        local_interface (the summary: which ports have neighbours)
  show lldp info remote-device <ports> local_interface, chassis_id, neighbor_interface, neighbor_name,
                                      neighbor_description, neighbor_interface_description,
                                      capabilities, mgmt_address
  show vlans                          vlan_id, vlan_name
By hand, because no template exists: `show power-over-ethernet brief`, and from the running-config
the model (its "; J9773A Configuration Editor" header) and the full port names.
"""

from __future__ import annotations

import re

from drivers.base import FdbEntry, LldpEntry
from drivers.cli.base import CONFIG, CliDriver, Outputs, Parsed, capabilities, duration_seconds, mac_or_text
from drivers.cli.base import speed_mbps as parse_speed
from drivers.cli.base import textfsm as _textfsm
from drivers.errors import ParseError
from drivers.normalize import canonical_mac
from drivers.sanitize import PROCURVE_NOISE, PROCURVE_SECRETS
from drivers.schema import DeviceIdentity, PoePort, PoeStatus, SwitchPort, Vlan

PLATFORM = "hp_procurve"

COMMANDS = {
    "system": "show system",
    "brief": "show interfaces brief",
    "status": "show interfaces status",
    "poe": "show power-over-ethernet brief",
    "mac": "show mac-address",
    "lldp": "show lldp info remote-device",
    "vlans": "show vlans",
    CONFIG: "show running-config",
}
LLDP_DETAIL = "lldp_detail"

SECRET_FILTERS = PROCURVE_SECRETS
NOISE_FILTERS = PROCURVE_NOISE


def textfsm(command: str, text: str) -> list[dict[str, str]]:
    return _textfsm(PLATFORM, command, text)


# ---------------------------------------------------------------- identity


def vendor_for(firmware: str | None) -> str:
    """HPE rebranded the line: ArubaOS-Switch 16.x and later call themselves Aruba, older ones HP."""
    match = re.match(r"[A-Z]+\.(\d+)\.", firmware or "")
    return "Aruba" if match and int(match.group(1)) >= 16 else "HP"


_CONFIG_HEADER = re.compile(r"^; (\S+) Configuration Editor; Created on release #(\S+)", re.MULTILINE)


def model_from_config(config: str) -> str | None:
    """The product number from the configuration header ('; J9773A Configuration Editor; ...')."""
    match = _CONFIG_HEADER.search(config)
    return match.group(1) if match else None


def parse_system(text: str, config: str) -> tuple[DeviceIdentity, int | None]:
    rows = textfsm("show system", text)
    if not rows:
        raise ValueError("show system: nothing recognised")
    row = rows[0]
    firmware = row.get("software_version") or None
    identity = DeviceIdentity(
        vendor=vendor_for(firmware),
        model=model_from_config(config),
        serial=row.get("serial") or None,
        firmware=firmware,
        mac=canonical_mac(row["mac_address"]) if row.get("mac_address") else None,
        hostname=row.get("name") or None,
        location=row.get("location") or None,
    )
    return identity, duration_seconds(row.get("uptime"))


# ---------------------------------------------------------------- ports


_INTERFACE_NAME = re.compile(r'^interface (\S+)\n((?:[ \t]+.*\n)*?)[ \t]+name "([^"]*)"', re.MULTILINE)


def port_names_from_config(config: str) -> dict[str, str]:
    """Full port names ('interface 5' ... 'name "cab-poe-1"'): show interfaces status cuts them at 10."""
    return {m.group(1): m.group(3) for m in _INTERFACE_NAME.finditer(config)}


def parse_ports(brief: str, status: str, names: dict[str, str], poe: dict[str, PoePort]) -> list[SwitchPort]:
    """Ports from `show interfaces brief` (enabled, link, speed) and `show interfaces status` (VLAN)."""
    untagged: dict[str, int] = {}
    short_names: dict[str, str] = {}
    for row in textfsm("show interfaces status", status) if status else []:
        if row["vlan_untagged"].isdigit():
            untagged[row["port"]] = int(row["vlan_untagged"])
        if row["name"] and not row["name"].endswith("..."):
            short_names[row["port"]] = row["name"]
    ports = []
    for row in textfsm("show interfaces brief", brief):
        name = row["port"]
        up = row["status"] == "Up"
        vlan = untagged.get(name)
        ports.append(
            SwitchPort(
                name=name,
                alias=names.get(name) or short_names.get(name),
                admin_up=row["enabled"] == "Yes",
                oper_up=up,
                speed_mbps=parse_speed(row["mode"]) if up else None,
                vlan=vlan if vlan is not None and 1 <= vlan <= 4094 else None,
                poe=poe.get(name),
            )
        )
    return ports


# ---------------------------------------------------------------- PoE (hand parser: no template)

_POE_ROW = re.compile(r"^\s*(?P<port>[A-Za-z]?\d+(?:/\d+)?)\s*\|?\s+(?P<enable>Yes|No)\b(?P<rest>.*)$")
_WATTS = re.compile(r"(\d+(?:\.\d+)?)\s*W\b")
_DETECTION = {
    "delivering": PoeStatus.DELIVERING,
    "searching": PoeStatus.SEARCHING,
    "disabled": PoeStatus.DISABLED,
    "fault": PoeStatus.FAULT,
    "other fault": PoeStatus.OTHER_FAULT,
    "deny": PoeStatus.OTHER_FAULT,
    "test": PoeStatus.TEST,
}
_DETECTION_WORDS = re.compile(
    r"\b(Delivering|Searching|Disabled|Other Fault|Fault|Deny|Test)\b", re.IGNORECASE
)
_BUDGET = re.compile(r"Available:\s*(\d+(?:\.\d+)?)\s*W\s+Used:\s*(\d+(?:\.\d+)?)\s*W")


def parse_poe_brief(text: str) -> tuple[dict[str, PoePort], float | None, float | None]:
    """`show power-over-ethernet brief` -> (PoE by port, budget W, used W).

    Columns moved between firmware (2910al: no priority or class; 16.x: '| Enable Priority By Alloc
    Actual Type Status Class'), so a row is read by what its values look like: Yes/No, then the
    watts (allocated first, actual last), the detection status word, and a trailing class digit.
    """
    ports: dict[str, PoePort] = {}
    for line in text.splitlines():
        row = _POE_ROW.match(line)
        if not row:
            continue
        rest = row.group("rest")
        detection = _DETECTION_WORDS.search(rest)
        status = _DETECTION[detection.group(1).lower()] if detection else None
        watts = _WATTS.findall(rest)
        # the class is the last column, after the detection status ("Phone 1" is a configured type)
        after = rest[detection.end() :] if detection else ""
        klass = re.fullmatch(r"\s+(\d)\s*", after)
        delivering = status is PoeStatus.DELIVERING
        ports[row.group("port")] = PoePort(
            admin_enabled=row.group("enable") == "Yes",
            status=status,
            power_class=int(klass.group(1)) if klass and delivering else None,
            power_w=float(watts[-1]) if watts else None,
        )
    budget = _BUDGET.search(text)
    if budget is None:
        return ports, None, None
    return ports, float(budget.group(1)), float(budget.group(2))


# ---------------------------------------------------------------- tables


def parse_mac_table(text: str) -> list[FdbEntry]:
    entries = []
    for row in textfsm("show mac-address", text):
        vlan = int(row["vlan_id"]) if row.get("vlan_id", "").isdigit() else None
        entries.append(FdbEntry(port=row["port"], mac=row["mac_address"], vlan=vlan, source="cli"))
    return entries


def lldp_ports(summary: str) -> list[str]:
    """Local ports that have an LLDP neighbour, from the summary table."""
    return [row["local_interface"] for row in textfsm("show lldp info remote-device", summary)]


def parse_lldp_detail(text: str) -> list[LldpEntry]:
    entries = []
    for row in textfsm("show lldp info remote-device 1", text):
        if not row["chassis_id"]:
            continue
        port_id = row["neighbor_interface"].strip()
        entries.append(
            LldpEntry(
                local_port=row["local_interface"],
                # "3c e1 a1 22 18 f0" and "3ce1a1-2218f0" are both MACs
                chassis_id=mac_or_text(row["chassis_id"]),
                port_id=mac_or_text(port_id) if row["port_type"] == "mac-address" else port_id,
                port_description=row["neighbor_interface_description"].strip() or None,
                system_name=row["neighbor_name"].strip() or None,
                system_description=row["neighbor_description"].strip() or None,
                capabilities=capabilities(row["capabilities"]),
                management_ip=row["mgmt_address"].strip() or None,
            )
        )
    return entries


def parse_vlans(text: str) -> list[Vlan]:
    vlans = []
    for row in textfsm("show vlans", text):
        vlan_id = int(row["vlan_id"])
        if 1 <= vlan_id <= 4094:
            vlans.append(Vlan(vlan_id=vlan_id, name=row["vlan_name"].strip() or None))
    return vlans


class HpProcurveDriver(CliDriver):
    name = "cli.hp_procurve"
    platform = PLATFORM
    COMMANDS = COMMANDS
    SECRET_FILTERS = SECRET_FILTERS
    NOISE_FILTERS = NOISE_FILTERS
    OUIS = frozenset({"94:18:82", "00:1f:fe", "3c:a8:2a", "70:10:6f", "b0:5a:da", "ec:eb:b8", "38:21:c7"})

    @classmethod
    def follow_up(cls, outputs: Outputs) -> dict[str, str]:
        """The LLDP detail view needs the ports it is for: those the summary listed."""
        summary = outputs.get("lldp", "")
        try:
            ports = (
                lldp_ports(summary) if summary and not summary.lstrip().startswith(("%", "Invalid")) else []
            )
        except ParseError:
            return {}
        return {LLDP_DETAIL: f"{COMMANDS['lldp']} {','.join(ports)}"} if ports else {}

    @classmethod
    def parse(cls, outputs: Outputs) -> Parsed:
        p = Parsed()
        text = outputs.get
        config = text(CONFIG, "")
        system: tuple[DeviceIdentity | None, int | None] = (None, None)
        if "system" in outputs:
            system = p.attempt("show system", lambda: parse_system(outputs["system"], config), system)
        p.identity, p.uptime_s = system
        no_poe: tuple[dict[str, PoePort], float | None, float | None] = ({}, None, None)
        poe, p.poe_budget_w, p.poe_consumption_w = p.attempt(
            "show power-over-ethernet brief", lambda: parse_poe_brief(text("poe", "")), no_poe
        )
        names = port_names_from_config(config)
        p.ports = p.attempt(
            "show interfaces brief",
            lambda: parse_ports(text("brief", ""), text("status", ""), names, poe),
            p.ports,
        )
        p.fdb = p.attempt("show mac-address", lambda: parse_mac_table(text("mac", "")), p.fdb)
        p.lldp = p.attempt(
            "show lldp info remote-device", lambda: parse_lldp_detail(text(LLDP_DETAIL, "")), p.lldp
        )
        p.vlans = p.attempt("show vlans", lambda: parse_vlans(text("vlans", "")), p.vlans)
        return p
