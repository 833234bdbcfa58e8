"""Pure CLI parsing helpers and the hand parsers (where ntc-templates has no template)."""

from __future__ import annotations

import pytest

from drivers.cli import cisco_ios, generic, hp_procurve
from drivers.cli.base import capabilities, duration_seconds, mac_or_text, speed_mbps, textfsm, usable
from drivers.errors import ParseError
from drivers.schema import PoeStatus


@pytest.mark.parametrize(
    ("text", "mbps"),
    [("a-100", 100), ("a-1000", 1000), ("1000", 1000), ("100FDx", 100), ("10GigFD", 10000), ("10G", 10000),
     ("auto", None), ("", None), (None, None), (".", None)],
)  # fmt: skip
def test_speed(text: str | None, mbps: int | None) -> None:
    assert speed_mbps(text) == mbps


def test_duration_and_capabilities_and_macs() -> None:
    assert duration_seconds("2 years, 31 weeks, 6 days, 9 hours, 55 minutes") == 82_374_900
    assert duration_seconds("15 days") == 1_296_000
    assert duration_seconds("a while") is None
    assert capabilities("B,R") == ["bridge", "router"]
    assert capabilities("bridge, wlan-access-point") == ["bridge", "wlan-access-point"]
    assert mac_or_text("001b.54c2.1000") == "00:1b:54:c2:10:00"
    assert mac_or_text("3c e1 a1 22 18 f0") == "3c:e1:a1:22:18:f0"
    assert mac_or_text("172.16.4.125") == "172.16.4.125"


def test_refused_or_empty_output_is_not_usable() -> None:
    assert usable("% Invalid input detected at '^' marker.") is None
    assert usable("Invalid input: poe") is None
    assert usable("             ^\n% Invalid input detected at '^' marker.\n") is None
    assert usable("\n\n") is None
    assert usable("Port Name Status\n") == "Port Name Status\n"


def test_a_command_without_template_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        textfsm("hp_procurve", "show power-over-ethernet brief", "anything")


POE_2910 = """
 Status and Counters - Port Power Status

  Available: 398 W  Used: 23 W  Remaining: 375 W

  Port   Power     Pre-std   Alloc   Alloc    Actual   Configured  Detection
         Enable    Detect    By      Power    Power    Type        Status
  ------ --------- --------- ------- -------- -------- ----------- ------------
  1      Yes       Off       usage   17 W     3.9 W                Delivering
  2      Yes       Off       usage   17 W     0 W                  Searching
  3      No        Off       usage   0 W      0 W                  Disabled
"""

POE_16X = """
 Status and Counters - Port Power Status

  System Power Status  : No redundancy
  PoE Power Status     : No redundancy

  Available: 195 W  Used: 44 W  Remaining: 151 W

 POE  | Power  Power    Alloc Alloc  Actual Configured Detection   Power
 Port | Enable Priority By    Power  Power  Type       Status      Class
 ---- + ------ -------- ----- ------ ------ ---------- ----------- -----
 1    | Yes    low      usage 30 W   9.6 W             Delivering  4
 2    | Yes    low      usage 17 W   0.0 W             Searching   0
 24   | No     low      usage 17 W   0.0 W             Disabled    0
"""


def test_procurve_poe_brief_old_layout_without_class() -> None:
    ports, budget, used = hp_procurve.parse_poe_brief(POE_2910)
    assert (budget, used) == (398.0, 23.0)
    assert ports["1"].status is PoeStatus.DELIVERING and ports["1"].power_w == 3.9
    assert ports["1"].power_class is None
    assert ports["3"].admin_enabled is False and ports["3"].status is PoeStatus.DISABLED


def test_procurve_poe_brief_16x_layout_with_class() -> None:
    ports, budget, used = hp_procurve.parse_poe_brief(POE_16X)
    assert (budget, used) == (195.0, 44.0)
    assert (ports["1"].status, ports["1"].power_class, ports["1"].power_w) == (PoeStatus.DELIVERING, 4, 9.6)
    assert ports["2"].status is PoeStatus.SEARCHING and ports["2"].power_class is None
    assert ports["24"].admin_enabled is False


def test_procurve_names_model_and_vendor_from_the_configuration() -> None:
    config = (
        "; J9773A Configuration Editor; Created on release #YA.16.11.0016\n"
        'interface 5\n   name "cab-poe-1"\n   exit\ninterface 6\n   no power-over-ethernet\n   exit\n'
        'interface 7\n   no power-over-ethernet\n   name "door"\n   exit\n'
    )
    assert hp_procurve.model_from_config(config) == "J9773A"
    assert hp_procurve.port_names_from_config(config) == {"5": "cab-poe-1", "7": "door"}
    assert hp_procurve.vendor_for("YA.16.11.0016") == "Aruba"
    assert hp_procurve.vendor_for("K.15.06.0017") == "HP"


def test_cisco_trunk_native_vlans_from_the_configuration() -> None:
    config = (
        "interface GigabitEthernet1/0/23\n switchport mode trunk\n switchport trunk native vlan 99\n!\n"
        "interface GigabitEthernet1/0/24\n switchport mode trunk\n!\n"
        "interface GigabitEthernet1/0/1\n switchport access vlan 20\n switchport mode access\n!\n"
    )
    assert cisco_ios.trunk_native_vlans(config) == {"GigabitEthernet1/0/23": 99, "GigabitEthernet1/0/24": 1}


def test_cisco_power_totals_sum_stack_members() -> None:
    text = (
        "Module   Available     Used     Remaining\n          (Watts)     (Watts)    (Watts)\n"
        "------   ---------   --------   ---------\n1           370.0       42.6       327.4\n"
        "2           370.0       10.0       360.0\nInterface Admin  Oper       Power\n"
    )
    assert cisco_ios.parse_power_totals(text) == (740.0, 52.6)
    assert cisco_ios.parse_power_totals("") == (None, None)


def test_cisco_mac_table_skips_cpu_and_svi_entries() -> None:
    text = (
        "          Mac Address Table\n-------------------------------------------\n\n"
        "Vlan    Mac Address       Type        Ports\n----    -----------       --------    -----\n"
        " All    0100.0ccc.cccc    STATIC      CPU\n"
        "  20    c056.e344.1001    DYNAMIC     Gi1/0/5\n"
        " 999    30a3.30a3.a1cc    STATIC      Vl99\n"
    )
    entries = cisco_ios.parse_mac_table(text)
    assert [(e.port, e.mac, e.vlan) for e in entries] == [("GigabitEthernet1/0/5", "c0:56:e3:44:10:01", 20)]


def test_generic_identity_from_loose_patterns() -> None:
    identity = generic.parse_identity(
        "EdgeSwitch 24-Port 250W, 1.9.3.5252345, Linux 3.6.5\nSoftware Version.............. 1.9.3\n",
        'hostname "edge-sw-1"\n',
    )
    assert identity is not None and identity.hostname == "edge-sw-1" and identity.firmware == "1.9.3"
    assert generic.parse_identity("", "") is None
