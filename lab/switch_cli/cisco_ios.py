"""Cisco IOS 15.2 on a Catalyst 2960-X: what its show commands print, rendered from the site model.

Each renderer is a pure function (site, switch) -> text, laid out column for column like the real
switch, so ntc-templates parses it as it parses a real device's output (the templates named in
TEMPLATES; tests/lab/test_switch_cli_sim.py proves it through netmiko). Formats were taken from the
ntc-templates test fixtures of real devices (tests/cisco_ios/<command>/*.raw).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lab.site import LabSite, PortView, Switch
from lab.switch_cli import facts
from lab.switch_cli.grammar import Command, Grammar

Renderer = Callable[[LabSite, Switch], str]

_BOOTLDR = "15.2(3r)E1, RELEASE SOFTWARE (fc1)"
# The static CPU entries every 2960 lists in its MAC table (a scanner must skip them).
_CPU_MACS = (
    "0100.0ccc.cccc",
    "0100.0ccc.cccd",
    *(f"0180.c200.{i:04x}" for i in range(0x11)),
    "ffff.ffff.ffff",
)


def _image_version(firmware: str) -> str:
    """15.2(7)E8 -> 152-7.E8, as in the image file name."""
    m = re.fullmatch(r"(\d+)\.(\d+)\((\d+)\)(\S*)", firmware)
    return f"{m[1]}{m[2]}-{m[3]}.{m[4]}" if m else firmware


def _views(site: LabSite, switch: Switch) -> list[PortView]:
    return [site.port_view(switch.name, p) for p in range(1, switch.port_count + 1)]


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


def _uptime_text(seconds: int) -> str:
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    years, days = divmod(days, 365)
    weeks, days = divmod(days, 7)
    units = [(years, "year"), (weeks, "week"), (days, "day"), (hours, "hour"), (minutes, "minute")]
    return ", ".join(_plural(n, u) for n, u in units if n) or "0 minutes"


# ---------------------------------------------------------------- show version


def show_version(site: LabSite, switch: Switch) -> str:
    boot = facts.boot_time(switch)
    image_file = f"{facts.cisco_image(switch).lower().replace('-m', '-mz')}.{_image_version(switch.firmware)}"
    copper = switch.port_count + facts.SFP_SLOTS
    platform = facts.cisco_platform(switch)
    return f"""{facts.cisco_software_line(switch)}
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2023 by Cisco Systems, Inc.
Compiled Tue 14-Mar-23 03:24 by mcpre

ROM: Bootstrap program is {platform} boot loader
BOOTLDR: {platform} Boot Loader ({platform}-HBOOT-M) Version {_BOOTLDR}

{switch.name} uptime is {_uptime_text(facts.uptime_seconds(switch))}
System returned to ROM by power-on
System restarted at {boot:%H:%M:%S} UTC {boot:%a %b %-d %Y}
System image file is "flash:{image_file}/{image_file}.bin"
Last reload reason: power-on



This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use. Delivery of Cisco cryptographic products does not imply
third-party authority to import, export, distribute or use encryption.
Importers, exporters, distributors and users are responsible for
compliance with U.S. and local country laws. By using this product you
agree to comply with applicable laws and regulations. If you are unable
to comply with U.S. and local laws, return this product immediately.

A summary of U.S. laws governing Cisco cryptographic products may be found at:
http://www.cisco.com/wwl/export/crypto/tool/stqrg.html

If you require further assistance please contact us by sending email to
export@cisco.com.

License Level: lanbase
License Type: Permanent
Next reload license Level: lanbase

cisco {switch.model} (APM86XXX) processor (revision B0) with 524288K bytes of memory.
Processor board ID {switch.serial}
Last reset from power-on
1 Virtual Ethernet interface
1 FastEthernet interface
{copper} Gigabit Ethernet interfaces
The password-recovery mechanism is enabled.

512K bytes of flash-simulated non-volatile configuration memory.
Base ethernet MAC Address       : {switch.mac.upper()}
Motherboard assembly number     : 73-15804-04
Power supply part number        : 341-0528-02
Motherboard serial number       : {switch.serial[:3]}21330{switch.serial[-3:]}
Power supply serial number      : DCB2128E0{switch.serial[-2:]}
Model revision number           : B0
Motherboard revision number     : A0
Model number                    : {switch.model}
Daughterboard assembly number   : 73-14200-02
Daughterboard serial number     : {switch.serial[:3]}21331{switch.serial[-3:]}
System serial number            : {switch.serial}
Top Assembly Part Number        : 68-4801-02
Top Assembly Revision Number    : C0
Version ID                      : V05
CLEI Code Number                : CMM1T00ARA
Hardware Board Revision Number  : 0x0C


Switch Ports Model                     SW Version            SW Image
------ ----- -----                     ----------            ----------
*    1 {copper:<5} {switch.model:<25} {switch.firmware:<21} {facts.cisco_image(switch)}


Configuration register is 0xF

"""


# ---------------------------------------------------------------- show running-config


def show_running_config(site: LabSite, switch: Switch) -> str:
    views = {v.number: v for v in _views(site, switch)}
    body: list[str] = [
        "!",
        "! Last configuration change at 14:02:11 UTC Mon Nov 2 2026 by admin",
        "! NVRAM config last updated at 14:02:18 UTC Mon Nov 2 2026 by admin",
        "!",
        "version 15.2",
        "no service pad",
        "service timestamps debug datetime msec",
        "service timestamps log datetime msec",
        "service password-encryption",
        "!",
        f"hostname {switch.name}",
        "!",
        "boot-start-marker",
        "boot-end-marker",
        "!",
        f"enable secret 5 {facts.cisco_type5_like(switch.enable_secret, switch.serial + 'enable')}",
        "!",
        f"username {switch.credential.username} secret 5 "
        + facts.cisco_type5_like(switch.credential.password, switch.serial + switch.credential.username),
        "username netadmin privilege 15 secret 5 "
        + facts.cisco_type5_like(switch.enable_secret + "-netadmin", switch.serial + "netadmin"),
        "no aaa new-model",
        f"switch 1 provision {switch.model.lower()}",
        "!",
        "!",
        "no ip domain-lookup",
        "ip domain-name site.local",
        "!",
        "!",
        "spanning-tree mode rapid-pvst",
        "spanning-tree extend system-id",
        "!",
        "vlan internal allocation policy ascending",
        "!",
    ]
    for vlan_id, name in sorted(switch.vlans.items()):
        if vlan_id != 1:
            body += [f"vlan {vlan_id}", f" name {name}", "!"]
    body += ["lldp run", "!", "!", "interface FastEthernet0", " no ip address", " shutdown", "!"]
    for port in facts.all_ports(switch):
        body.append(f"interface {switch.port_name(port)}")
        view = views.get(port)
        if view is not None:
            if view.alias:
                body.append(f" description {view.alias}")
            if view.is_uplink:
                body.append(" switchport mode trunk")
            else:
                body += [f" switchport access vlan {view.vlan}", " switchport mode access"]
            if port <= switch.poe_ports and not view.poe_enabled:
                body.append(" power inline never")
            if not view.is_uplink:
                body.append(" spanning-tree portfast edge")
        body.append("!")
    body += [
        "interface Vlan1",
        f" ip address {switch.ip} {facts.netmask(switch)}",
        "!",
        f"ip default-gateway {facts.gateway(switch)}",
        "ip http server",
        "ip http secure-server",
        "!",
        "ip ssh version 2",
        "!",
        f"snmp-server community {switch.snmp_community} RO",
        *([f"snmp-server location {switch.location}"] if switch.location else []),
        "!",
        "line con 0",
        f" password 7 {facts.cisco_type7(switch.enable_secret, seed=5)}",
        "line vty 0 4",
        f" password 7 {facts.cisco_type7(switch.credential.password)}",
        " login local",
        " transport input ssh",
        "line vty 5 15",
        " login local",
        " transport input ssh",
        "!",
        f"ntp server {facts.gateway(switch)}",
        "end",
    ]
    config = "\n".join(body) + "\n"
    return f"Building configuration...\n\nCurrent configuration : {len(config)} bytes\n{config}\n"


# ---------------------------------------------------------------- interfaces


def _status_row(port: str, name: str, status: str, vlan: str, duplex: str, speed: str, kind: str) -> str:
    return f"{port:<10}{name[:18]:<19}{status:<13}{vlan:<11}{duplex:>6} {speed:>6} {kind}"


def show_interfaces_status(site: LabSite, switch: Switch) -> str:
    lines = ["", _status_row("Port", "Name", "Status", "Vlan", "Duplex", " Speed", "Type").rstrip()]
    views = {v.number: v for v in _views(site, switch)}
    for port in facts.all_ports(switch):
        short = switch.port_short_name(port)
        view = views.get(port)
        if view is None:
            lines.append(_status_row(short, "", "notconnect", "1", "auto", "auto", "Not Present"))
            continue
        vlan = "trunk" if view.is_uplink else str(view.vlan)
        if view.oper_up:
            row = _status_row(short, view.alias, "connected", vlan, "a-full", f"a-{view.speed_mbps}", "")
        else:
            row = _status_row(short, view.alias, "notconnect", vlan, "auto", "auto", "")
        lines.append(row + "10/100/1000BaseTX")
    lines.append(_status_row("Fa0", "", "disabled", "routed", "auto", "auto", "10/100BaseTX"))
    return "\n".join(lines) + "\n"


def show_interfaces_description(site: LabSite, switch: Switch) -> str:
    lines = [
        f"{'Interface':<31}{'Status':<15}{'Protocol':<9}Description",
        f"{'Fa0':<31}{'admin down':<15}down",
    ]
    views = {v.number: v for v in _views(site, switch)}
    for port in facts.all_ports(switch):
        view = views.get(port)
        state = "up" if view is not None and view.oper_up else "down"
        alias = view.alias if view is not None else ""
        lines.append(f"{switch.port_short_name(port):<31}{state:<15}{state:<9}{alias}".rstrip())
    lines.append(f"{'Vl1':<31}{'up':<15}up")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- MAC table


def show_mac_address_table(site: LabSite, switch: Switch) -> str:
    rows = [f" All    {mac}    {'STATIC':<12}CPU" for mac in _CPU_MACS]
    for mac, vlan, port in site.fdb(switch.name):
        rows.append(f"{vlan:>4}    {facts.cisco_mac(mac)}    {'DYNAMIC':<12}{switch.port_short_name(port)}")
    return (
        "          Mac Address Table\n"
        "-------------------------------------------\n\n"
        "Vlan    Mac Address       Type        Ports\n"
        "----    -----------       --------    -----\n"
        + "\n".join(rows)
        + f"\nTotal Mac Addresses for this criterion: {len(rows)}\n"
    )


# ---------------------------------------------------------------- PoE


def show_power_inline(site: LabSite, switch: Switch) -> str:
    used = facts.poe_total_w(site, switch)
    lines = [
        "",
        "Module   Available     Used     Remaining",
        "          (Watts)     (Watts)    (Watts) ",
        "------   ---------   --------   ---------",
        f"{1:<12}{switch.poe_budget_w:>5.1f}{used:>11.1f}{switch.poe_budget_w - used:>12.1f}",
        "Interface Admin  Oper       Power   Device              Class Max",
        "                            (Watts)                            ",
        "--------- ------ ---------- ------- ------------------- ----- ----",
    ]
    for port in range(1, min(switch.poe_ports, switch.port_count) + 1):
        view = site.port_view(switch.name, port)
        admin = "auto" if view.poe_enabled else "off"
        delivering = view.poe_status == "delivering"
        oper = "on" if delivering else "off"
        device = "Ieee PD" if delivering else "n/a"
        klass = str(view.poe_class) if delivering and view.poe_class is not None else "n/a"
        lines.append(
            f"{view.short_name:<10}{admin:<7}{oper:<11}{view.power_w:<8.1f}{device:<20}{klass:<6}"
            f"{facts.MAX_POE_W:.1f}"
        )
    return "\n".join(lines) + "\n\n"


# ---------------------------------------------------------------- LLDP


def _lldp_links(site: LabSite, switch: Switch) -> list[tuple[int, Switch, int]]:
    links = []
    for port in range(1, switch.port_count + 1):
        far = site.link_on(switch.name, port)
        if far is not None:
            links.append((port, far[0], far[1]))
    return links


def _far_port_id(far: Switch, far_port: int) -> str:
    """What the neighbour sends as LLDP port id: IOS the short name, ProCurve the port number."""
    return far.port_short_name(far_port)


def show_lldp_neighbors(site: LabSite, switch: Switch) -> str:
    lines = [
        "Capability codes:",
        "    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device",
        "    (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other",
        "",
        "Device ID           Local Intf     Hold-time  Capability      Port ID",
    ]
    links = _lldp_links(site, switch)
    for port, far, far_port in links:
        lines.append(
            f"{far.name[:20]:<20}{switch.port_short_name(port):<15}{'120':<11}{'B':<16}"
            f"{_far_port_id(far, far_port)}"
        )
    return "\n".join(["", *lines, "", f"Total entries displayed: {len(links)}", ""]) + "\n"


def show_lldp_neighbors_detail(site: LabSite, switch: Switch) -> str:
    out = [""]
    links = _lldp_links(site, switch)
    for port, far, far_port in links:
        far_view = site.port_view(far.name, far_port)
        out += [
            "------------------------------------------------",
            f"Local Intf: {switch.port_short_name(port)}",
            f"Chassis id: {facts.cisco_mac(far.mac)}",
            f"Port id: {_far_port_id(far, far_port)}",
            f"Port Description: {far_view.alias or far.port_name(far_port)}",
            f"System Name: {far.name}",
            "",
            "System Description: ",
            facts.lldp_system_description(far),
            "",
            "Time remaining: 104 seconds",
            "System Capabilities: B,R",
            "Enabled Capabilities: B",
            "Management Addresses:",
            f"    IP: {far.ip}",
            "Auto Negotiation - supported, enabled",
            "Physical media capabilities:",
            "    1000baseT(FD)",
            "    100base-TX(FD)",
            "    100base-TX(HD)",
            "    10base-T(FD)",
            "    10base-T(HD)",
            "Media Attachment Unit type: 30",
            "Vlan ID: 1",
            "",
        ]
    out += ["", f"Total entries displayed: {len(links)}", ""]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- inventory, VLANs


def show_inventory(site: LabSite, switch: Switch) -> str:
    return (
        f'NAME: "1", DESCR: "{switch.model}"\nPID: {switch.model:<18}, VID: V05  , SN: {switch.serial}\n\n\n'
    )


def show_vlan_brief(site: LabSite, switch: Switch) -> str:
    members: dict[int, list[str]] = {vid: [] for vid in switch.vlans}
    views = {v.number: v for v in _views(site, switch)}
    for port in facts.all_ports(switch):
        view = views.get(port)
        if view is not None and view.is_uplink:
            continue  # trunks are not listed in show vlan
        vlan = view.vlan if view is not None else 1
        members.setdefault(vlan, []).append(switch.port_short_name(port))
    lines = [
        "",
        "VLAN Name                             Status    Ports",
        "---- -------------------------------- --------- -------------------------------",
    ]
    for vid in sorted(members):
        name = switch.vlans.get(vid, f"VLAN{vid:04d}")
        chunks = _wrap_ports(members[vid], width=31)
        lines.append(f"{vid:<5}{name:<33}{'active':<10}{chunks[0]}".rstrip())
        lines += [f"{'':<48}{chunk}" for chunk in chunks[1:]]
    for vid, name in ((1002, "fddi-default"), (1003, "token-ring-default"), (1004, "fddinet-default")):
        lines.append(f"{vid:<5}{name:<33}act/unsup")
    lines.append(f"{1005:<5}{'trnet-default':<33}act/unsup")
    return "\n".join(lines) + "\n"


def _wrap_ports(ports: list[str], width: int) -> list[str]:
    """IOS wraps the Ports column: comma separated, continuation lines indented under it."""
    chunks: list[str] = []
    current = ""
    for name in ports:
        piece = f"{current}, {name}" if current else name
        if current and len(piece) + 1 > width:
            chunks.append(current + ",")
            current = name
        else:
            current = piece
    chunks.append(current)
    return chunks


# ---------------------------------------------------------------- command table

COMMANDS: dict[str, Renderer] = {
    "show version": show_version,
    "show running-config": show_running_config,
    "show interfaces status": show_interfaces_status,
    "show interfaces description": show_interfaces_description,
    "show mac address-table": show_mac_address_table,
    "show mac-address-table": show_mac_address_table,
    "show power inline": show_power_inline,
    "show lldp neighbors": show_lldp_neighbors,
    "show lldp neighbors detail": show_lldp_neighbors_detail,
    "show inventory": show_inventory,
    "show vlan brief": show_vlan_brief,
    "show vlan": show_vlan_brief,
}

# The ntc-templates template that parses each command's output (netmiko use_textfsm=True).
TEMPLATES: dict[str, str] = {
    "show version": "cisco_ios_show_version.textfsm",
    "show interfaces status": "cisco_ios_show_interfaces_status.textfsm",
    "show interfaces description": "cisco_ios_show_interfaces_description.textfsm",
    "show mac address-table": "cisco_ios_show_mac-address-table.textfsm",
    "show power inline": "cisco_ios_show_power_inline.textfsm",
    "show lldp neighbors": "cisco_ios_show_lldp_neighbors.textfsm",
    "show lldp neighbors detail": "cisco_ios_show_lldp_neighbors_detail.textfsm",
    "show inventory": "cisco_ios_show_inventory.textfsm",
    "show vlan brief": "cisco_ios_show_vlan.textfsm",
}

_PRIVILEGED = {"show running-config"}

GRAMMAR = Grammar(
    commands=[
        *(Command(tuple(key.split()), privileged=key in _PRIVILEGED) for key in COMMANDS),
        Command(("enable",)),
        Command(("disable",)),
        Command(("exit",)),
        Command(("logout",)),
        Command(("quit",)),
        Command(("terminal", "length"), takes_argument=True),
        Command(("terminal", "width"), takes_argument=True),
    ],
    # Keywords a 2960-X also has at these positions, so abbreviations are as ambiguous as there.
    decoys={
        (): [
            "clear",
            "clock",
            "configure",
            "connect",
            "copy",
            "debug",
            "delete",
            "dir",
            "disconnect",
            "emergency",
            "erase",
            "login",
            "more",
            "no",
            "ping",
            "reload",
            "send",
            "ssh",
            "telnet",
            "traceroute",
            "undebug",
            "verify",
            "write",
        ],
        ("show",): [
            "aaa",
            "access-lists",
            "archive",
            "arp",
            "boot",
            "cdp",
            "clock",
            "controllers",
            "env",
            "errdisable",
            "etherchannel",
            "flash:",
            "history",
            "hosts",
            "interfaces",
            "inventory",
            "ip",
            "ipv6",
            "license",
            "line",
            "logging",
            "memory",
            "mls",
            "module",
            "ntp",
            "platform",
            "port-security",
            "power",
            "privilege",
            "processes",
            "sessions",
            "snmp",
            "spanning-tree",
            "ssh",
            "startup-config",
            "storm-control",
            "switch",
            "tech-support",
            "terminal",
            "users",
            "vlan",
            "vtp",
        ],
        ("show", "interfaces"): ["counters", "switchport", "transceiver", "trunk"],
        ("show", "lldp"): ["entry", "errors", "interface", "traffic"],
        ("show", "power"): ["inline"],
        ("terminal",): ["monitor", "history"],
    },
)


def prompt(switch: Switch, privileged: bool) -> str:
    return f"{switch.name}{'#' if privileged else '>'}"
