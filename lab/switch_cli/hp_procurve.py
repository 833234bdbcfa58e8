"""HP/Aruba ProCurve (ArubaOS-Switch 16.x on a 2530): what its show commands print, from the site model.

Each renderer is a pure function (site, switch) -> text, laid out like the real switch. Where
ntc-templates has a template for the command (TEMPLATES) the layout follows that template's test
fixtures of real devices (tests/hp_procurve/<command>/*.raw in networktocode/ntc-templates).
Two commands have no usable template:
- `show power-over-ethernet brief`: no hp_procurve template exists. The layout is the 16.x one the
  ArubaOS-Switch management guide documents (POE Port | Power Enable, Power Priority, Alloc By,
  Alloc Power, Actual Power, Configured Type, Detection Status, Power Class); no raw capture of
  exactly this firmware was found to compare. Other firmware prints other columns (15.x: "Pre-std
  Detect"; 2930/16.10+: "PoE Port Status", "PLC Cls"), so a hand parser should go by header names.
- `show version`: the hp_procurve_show_version template is for ArubaOS controllers/APs and does not
  match a switch; netmiko returns the raw text. Firmware and serial come from `show system`.
"""

from __future__ import annotations

from collections.abc import Callable

from lab.site import Dialect, LabSite, PortView, Switch
from lab.switch_cli import facts
from lab.switch_cli.grammar import Command, Grammar

Renderer = Callable[[LabSite, Switch], str]
ArgumentRenderer = Callable[[LabSite, Switch, str], str]


def _fit(text: str, width: int) -> str:
    """ProCurve tables cut long values and mark the cut with '...'."""
    return text if len(text) <= width else text[: width - 3] + "..."


def _views(site: LabSite, switch: Switch) -> dict[int, PortView]:
    return {p: site.port_view(switch.name, p) for p in range(1, switch.port_count + 1)}


def banner(switch: Switch) -> str:
    """What a 2530 prints after SSH login, before the first prompt (netmiko expects the key prompt).

    The text must contain neither '>' nor '#': netmiko reads up to the first of them as a prompt.
    """
    return f"""
{facts.procurve_product(switch)} Switch
Software revision {switch.firmware}

(C) Copyright 2023 Hewlett Packard Enterprise Development LP

                   RESTRICTED RIGHTS LEGEND
 Confidential computer software. Valid license from HPE required for possession,
 use or copying. Consistent with FAR 12.211 and 12.212, Commercial Computer
 Software, Computer Software Documentation, and Technical Data for Commercial
 Items are licensed to the U.S. Government under vendor's standard commercial
 license.

We'd like to keep you up to date about:
  * Software feature updates
  * New product announcements
  * Special events

Please register your products now at:  https://asp.arubanetworks.com


Press any key to continue"""


# ---------------------------------------------------------------- system and version


def show_system(site: LabSite, switch: Switch) -> str:
    days = facts.uptime_seconds(switch) // 86400
    mac = facts.procurve_mac(switch.mac)
    return f"""
 Status and Counters - General System Information

  System Name        : {switch.name}
  System Contact     : {site.title or site.name}
  System Location    : {switch.location or switch.name}

  MAC Age Time (sec) : 300

  Time Zone          : 0
  Daylight Time Rule : None

  Software revision  : {switch.firmware:<20} Base MAC Addr      : {mac}
  ROM Version        : {facts.procurve_rom(switch):<20} Serial Number      : {switch.serial}

  Up Time            : {f"{days} days":<20} Memory   - Total   : 152,409,088
  CPU Util (%)       : 3                               Free    : 93,125,316

  IP Mgmt  - Pkts Rx : 1,204,519            Packet   - Total   : 6750
             Pkts Tx : 998,201              Buffers    Free    : 5093
                                                       Lowest  : 4912
                                                       Missed  : 0

"""


def show_version(site: LabSite, switch: Switch) -> str:
    return f"""Image stamp:    {facts.PROCURVE_BUILD_PATH}
                Oct 24 2023 10:14:44
                {switch.firmware}
                868
Boot Image:     Primary

Boot ROM Version:    {facts.procurve_rom(switch)}
Active Boot ROM:     Primary

"""


# ---------------------------------------------------------------- running-config


def show_running_config(site: LabSite, switch: Switch) -> str:
    views = _views(site, switch)
    part_number = switch.model.split()[0].lower()
    lines = [
        "",
        "Running configuration:",
        "",
        f"; {switch.model.split()[0]} Configuration Editor; Created on release #{switch.firmware}",
        "; Ver #14:01.4f.f8.1d.9b.3f.bf.bb.ef.7c.59.fc.6b.fb.9f.fc.ff.ff.37.ef:04",
        f'hostname "{switch.name}"',
        f"module 1 type {part_number}",
        "include-credentials",
        f'snmp-server community "{switch.snmp_community}" operator',
        *([f'snmp-server location "{switch.location}"'] if switch.location else []),
        "snmpv3 enable",
        f'snmpv3 user "{switch.snmp_v3_user}" auth sha "{facts.sha1_hex(switch.snmp_v3_auth_key)}" '
        f'priv aes "{facts.sha1_hex(switch.snmp_v3_priv_key)}"',
        "timesync sntp",
        "sntp unicast",
        f"sntp server priority 1 {facts.gateway(switch)}",
        f"ip default-gateway {facts.gateway(switch)}",
    ]
    for port, view in views.items():
        if not view.alias and view.poe_enabled == (port <= switch.poe_ports):
            continue
        lines.append(f"interface {port}")
        if view.alias:
            lines.append(f'   name "{view.alias}"')
        if port <= switch.poe_ports and not view.poe_enabled:
            lines.append("   no power-over-ethernet")
        lines.append("   exit")
    for vlan_id, name in sorted(switch.vlans.items()):
        untagged = [p for p in facts.all_ports(switch) if _untagged_vlan(views.get(p)) == vlan_id]
        tagged = [p for p, v in views.items() if v.is_uplink and vlan_id != 1]
        lines += [f"vlan {vlan_id}", f'   name "{name}"']
        if untagged:
            lines.append(f"   untagged {facts.port_ranges(untagged)}")
        if tagged:
            lines.append(f"   tagged {facts.port_ranges(tagged)}")
        if vlan_id == 1:
            lines.append(f"   ip address {switch.ip} {facts.netmask(switch)}")
            others = [p for p in facts.all_ports(switch) if p not in untagged]
            if others:
                lines.append(f"   no untagged {facts.port_ranges(others)}")
        else:
            lines.append("   no ip address")
        lines.append("   exit")
    lines += [
        "spanning-tree",
        "no tftp server",
        "no autorun",
        "no dhcp config-file-update",
        "no dhcp image-file-update",
        f'password manager user-name "{switch.credential.username}" sha1 '
        f'"{facts.sha1_hex(switch.credential.password)}"',
        "",
    ]
    return "\n".join(lines) + "\n"


def _untagged_vlan(view: PortView | None) -> int:
    """The VLAN a port carries untagged (uplinks carry VLAN 1 untagged, the camera VLAN tagged)."""
    return 1 if view is None else view.vlan


# ---------------------------------------------------------------- interfaces


def show_interfaces_brief(site: LabSite, switch: Switch) -> str:
    views = _views(site, switch)
    lines = [
        "",
        " Status and Counters - Port Status",
        "",
        "                  | Intrusion                           MDI  Flow Bcast",
        "  Port  Type      | Alert     Enabled Status Mode       Mode Ctrl Limit",
        "  ----- --------- + --------- ------- ------ ---------- ---- ---- -----",
    ]
    for port in facts.all_ports(switch):
        view = views.get(port)
        if view is None:  # empty SFP slot
            lines.append(f"  {port:<5} {'':<9} | {'No':<9} {'Yes':<7} {'Down':<6} {'.':<10} {'':<4} off  0")
            continue
        status = "Up" if view.oper_up else "Down"
        mode = f"{view.speed_mbps}FDx" if view.oper_up else "1000FDx"
        mdi = "MDIX" if view.oper_up else "Auto"
        lines.append(
            f"  {port:<5} {'100/1000T':<9} | {'No':<9} {'Yes':<7} {status:<6} {mode:<10} {mdi:<4} off  0"
        )
    return "\n".join(lines) + "\n\n"


def show_interfaces_status(site: LabSite, switch: Switch) -> str:
    views = _views(site, switch)
    lines = [
        "",
        "  Port     Name       Status  Config-mode   Speed    Type       Tagged Untagged",
        "  -------- ---------- ------- ------------- -------- ---------- ------ --------",
    ]
    for port in facts.all_ports(switch):
        view = views.get(port)
        if view is None:
            lines.append(f"  {port:<8} {'':<10} {'Down':<7} {'':<13} {'':<8} {'':<10} {'No':<6} 1")
            continue
        status = "Up" if view.oper_up else "Down"
        speed = f"{view.speed_mbps}FDx" if view.oper_up else "1000FDx"
        tagged = ",".join(str(v) for v in sorted(switch.vlans) if v != 1) if view.is_uplink else "No"
        tagged = "multi" if "," in tagged else tagged
        lines.append(
            f"  {port:<8} {_fit(view.alias, 10):<10} {status:<7} {'Auto':<13} {speed:<8} {'100/1000T':<10} "
            f"{tagged:<6} {_untagged_vlan(view)}"
        )
    return "\n".join(lines) + "\n\n"


# ---------------------------------------------------------------- MAC table


def show_mac_address(site: LabSite, switch: Switch) -> str:
    rows = [
        f"  {facts.procurve_mac(mac):<17} {switch.port_short_name(port):<31} {vlan}"
        for mac, vlan, port in site.fdb(switch.name)
    ]
    return (
        "\n Status and Counters - Port Address Table\n\n"
        "  MAC Address       Port                            VLAN\n"
        "  ----------------- ------------------------------- ----\n" + "\n".join(rows) + "\n\n"
    )


# ---------------------------------------------------------------- PoE


def show_power_over_ethernet_brief(site: LabSite, switch: Switch) -> str:
    used = facts.poe_total_w(site, switch)
    lines = [
        "",
        " Status and Counters - Port Power Status",
        "",
        "  System Power Status  : No redundancy",
        "  PoE Power Status     : No redundancy",
        "",
        f"  Available: {switch.poe_budget_w:.0f} W  Used: {used:.0f} W  "
        f"Remaining: {switch.poe_budget_w - used:.0f} W",
        "",
        " POE  | Power  Power    Alloc Alloc  Actual Configured Detection   Power",
        " Port | Enable Priority By    Power  Power  Type       Status      Class",
        " ---- + ------ -------- ----- ------ ------ ---------- ----------- -----",
    ]
    for port in range(1, min(switch.poe_ports, switch.port_count) + 1):
        view = site.port_view(switch.name, port)
        enable = "Yes" if view.poe_enabled else "No"
        detection = view.poe_status.capitalize()
        klass = view.poe_class if view.poe_class is not None else 0
        alloc = "30 W" if klass == 4 else "17 W"
        actual = f"{view.power_w:.1f} W"
        lines.append(
            f" {port:<4} | {enable:<6} {'low':<8} {'usage':<5} {alloc:<6} {actual:<6} {'':<10} "
            f"{detection:<11} {klass}"
        )
    return "\n".join(lines) + "\n\n"


# ---------------------------------------------------------------- LLDP


def _neighbours(
    site: LabSite, switch: Switch, ports: set[int] | None = None
) -> list[tuple[int, Switch, int]]:
    found = []
    for port in range(1, switch.port_count + 1):
        far = site.link_on(switch.name, port)
        if far is not None and (ports is None or port in ports):
            found.append((port, far[0], far[1]))
    return found


def show_lldp_info_remote_device(site: LabSite, switch: Switch) -> str:
    lines = [
        "",
        " LLDP Remote Devices Information",
        "",
        "  LocalPort | ChassisId          PortId             PortDescr SysName           ",
        "  --------- + ------------------ ------------------ --------- ------------------",
    ]
    for port, far, far_port in _neighbours(site, switch):
        descr = site.port_view(far.name, far_port).alias or far.port_name(far_port)
        lines.append(
            f"  {port:<9} | {facts.procurve_mac(far.mac):<18} {_fit(far.port_short_name(far_port), 18):<18} "
            f"{_fit(descr, 9):<9} {_fit(far.name, 18):<18}"
        )
    return "\n".join(lines) + "\n\n"


def show_lldp_info_remote_device_detail(site: LabSite, switch: Switch, argument: str) -> str:
    """`show lldp info remote-device <port-list>`: the detail view of the ports asked for."""
    wanted = _parse_port_list(argument)
    blocks = []
    for port, far, far_port in _neighbours(site, switch, wanted):
        far_view = site.port_view(far.name, far_port)
        far_is_procurve = far.dialect is Dialect.HP_PROCURVE
        blocks.append(
            "\n".join(
                [
                    f"  Local Port   : {port}",
                    "  ChassisType  : mac-address         ",
                    f"  ChassisId    : {facts.procurve_mac(far.mac)}",
                    f"  PortType     : {'local' if far_is_procurve else 'interface-name'}",
                    f"  PortId       : {far.port_short_name(far_port)}",
                    f"  SysName      : {far.name}",
                    f"  System Descr : {_fit(facts.lldp_system_description(far), 62)}",
                    f"  PortDescr    : {far_view.alias or far.port_name(far_port)}",
                    "  Pvid         : 1",
                    "",
                    "  System Capabilities Supported  : bridge, router",
                    "  System Capabilities Enabled    : bridge",
                    "",
                    "  Remote Management Address",
                    "     Type    : ipv4",
                    f"     Address : {far.ip}",
                    "",
                ]
            )
        )
    separator = "\n" + "-" * 78 + "\n"
    return "\n LLDP Remote Device Information Detail\n\n" + separator.join(blocks) + "\n"


def _parse_port_list(text: str) -> set[int] | None:
    """ "1-3,24" -> {1, 2, 3, 24}; "all" -> None (every port). Anything else -> empty set."""
    if text.strip().lower() in ("", "all"):
        return None
    ports: set[int] = set()
    for part in text.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            return set()
        ports.update(range(int(low), int(high or low) + 1))
    return ports


# ---------------------------------------------------------------- VLANs


def show_vlans(site: LabSite, switch: Switch) -> str:
    lines = [
        "",
        " Status and Counters - VLAN Information",
        "",
        "  Maximum VLANs to support : 256",
        f"  Primary VLAN : {switch.vlans.get(1, 'DEFAULT_VLAN')}",
        "  Management VLAN :",
        "",
        "  VLAN ID Name                             | Status     Voice Jumbo",
        "  ------- -------------------------------- + ---------- ----- -----",
    ]
    for vlan_id, name in sorted(switch.vlans.items()):
        lines.append(f"  {vlan_id:<7} {name:<32} | {'Port-based':<10} {'No':<5} No")
    return "\n".join(lines) + "\n\n"


# ---------------------------------------------------------------- command table

COMMANDS: dict[str, Renderer] = {
    "show system": show_system,
    "show system information": show_system,
    "show version": show_version,
    "show running-config": show_running_config,
    "show interfaces brief": show_interfaces_brief,
    "show interfaces status": show_interfaces_status,
    "show mac-address": show_mac_address,
    "show power-over-ethernet brief": show_power_over_ethernet_brief,
    "show lldp info remote-device": show_lldp_info_remote_device,
    "show vlans": show_vlans,
}

# Commands followed by free text (a port list), rendered with it.
ARGUMENT_COMMANDS: dict[str, ArgumentRenderer] = {
    "show lldp info remote-device": show_lldp_info_remote_device_detail,
}

# The ntc-templates template that parses each command's output (netmiko use_textfsm=True).
TEMPLATES: dict[str, str] = {
    "show system": "hp_procurve_show_system.textfsm",
    "show interfaces brief": "hp_procurve_show_interfaces_brief.textfsm",
    "show interfaces status": "hp_procurve_show_interfaces_status.textfsm",
    "show mac-address": "hp_procurve_show_mac-address.textfsm",
    "show lldp info remote-device": "hp_procurve_show_lldp_info_remote-device.textfsm",
    "show lldp info remote-device <ports>": "hp_procurve_show_lldp_info_remote-device_detail.textfsm",
    "show vlans": "hp_procurve_show_vlans.textfsm",
}

GRAMMAR = Grammar(
    commands=[
        *(
            Command(
                tuple(key.split()), takes_argument=key in ARGUMENT_COMMANDS, privileged=key.endswith("config")
            )
            for key in COMMANDS
        ),
        Command(("enable",)),
        Command(("exit",)),
        Command(("logout",)),
        Command(("no", "page")),
        Command(("page",)),
        Command(("terminal", "width"), takes_argument=True),
        Command(("terminal", "length"), takes_argument=True),
    ],
    # Keywords a 2530 also has at these positions, so abbreviations are as ambiguous as there.
    decoys={
        (): [
            "boot",
            "clear",
            "configure",
            "copy",
            "end",
            "erase",
            "kill",
            "licenses",
            "link-test",
            "ping",
            "reload",
            "repeat",
            "session",
            "setup",
            "telnet",
            "traceroute",
            "write",
        ],
        ("show",): [
            "aaa",
            "arp",
            "authentication",
            "config",
            "cpu",
            "crypto",
            "debug",
            "dhcp-snooping",
            "flash",
            "history",
            "instrumentation",
            "interfaces",
            "ip",
            "ipv6",
            "licenses",
            "lldp",
            "logging",
            "loop-protect",
            "mac-address",
            "management",
            "modules",
            "name",
            "ntp",
            "port-access",
            "port-security",
            "power-over-ethernet",
            "rate-limit",
            "sessions",
            "snmp-server",
            "snmpv3",
            "spanning-tree",
            "system",
            "tech",
            "telnet",
            "time",
            "trunks",
            "uptime",
            "users",
            "version",
            "vlans",
        ],
        ("show", "interfaces"): ["config", "custom", "display", "transceiver"],
        ("show", "lldp"): ["auto-deny", "config", "stats"],
        ("show", "lldp", "info"): ["local-device"],
    },
)


def prompt(switch: Switch, privileged: bool) -> str:
    return f"{switch.name}{'#' if privileged else '>'} "
