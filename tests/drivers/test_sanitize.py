"""Secret and noise filters: each line keeps its keyword and loses its value; noise lines go away."""

from __future__ import annotations

import pytest

from drivers.cli.base import CliDriver
from drivers.cli.cisco_ios import CiscoIosDriver
from drivers.cli.generic import GenericCliDriver
from drivers.cli.hp_procurve import HpProcurveDriver
from drivers.sanitize import (
    CISCO_NOISE,
    CISCO_SECRETS,
    GENERIC_SECRETS,
    PROCURVE_SECRETS,
    REMOVED,
    apply_filters,
    drop_line,
    redact_values,
    sub,
)

CISCO_CASES = [
    ("enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0", "enable secret <removed>"),
    ("enable secret 9 $9$abc$def", "enable secret <removed>"),
    ("enable password 7 0822455D0A16544541", "enable password <removed>"),
    ("enable password level 7 Pw-Level", "enable password level 7 <removed>"),
    ("username admin privilege 15 secret 9 $9$nhEmQ$X.Hs", "username admin privilege 15 secret <removed>"),
    ("username backup password 0 Plain-Pw", "username backup password <removed>"),
    ("snmp-server community S3cret RO 10", "snmp-server community <removed>"),
    ("snmp-server host 10.1.1.9 version 2c Trap-Comm", "snmp-server host 10.1.1.9 version 2c <removed>"),
    (
        "snmp-server host 10.1.1.9 informs version 2c Trap-Comm",
        "snmp-server host 10.1.1.9 informs version 2c <removed>",
    ),
    (
        "snmp-server user mon GRP v3 auth sha A-Key priv aes 128 P-Key",
        "snmp-server user mon GRP v3 <removed>",
    ),
    ("tacacs-server host 10.1.1.5 key 7 045802150C", "tacacs-server host 10.1.1.5 key <removed>"),
    ("tacacs-server key Tac-Key", "tacacs-server key <removed>"),
    (
        "radius-server host 10.1.1.6 auth-port 1812 key Rad-Key",
        "radius-server host 10.1.1.6 auth-port 1812 key <removed>",
    ),
    (" key 7 08701E1D5D4C", " key <removed>"),
    (" server-key Rad-Key-2", " server-key <removed>"),
    (" key-string 7 0105", " key-string <removed>"),
    (" password 7 094F471A1A0A", " password <removed>"),
    (" wpa-psk ascii 0 My-Wifi-Psk", " wpa-psk ascii <removed>"),
    (" ip ospf authentication-key 7 Ospf-1", " ip ospf authentication-key <removed>"),
    (" ip ospf message-digest-key 1 md5 7 Ospf-2", " ip ospf message-digest-key 1 md5 <removed>"),
    ("ntp authentication-key 1 md5 Ntp-Key 7", "ntp authentication-key 1 md5 <removed>"),
    ("crypto isakmp key Isakmp-Key address 10.0.0.1", "crypto isakmp key <removed> address 10.0.0.1"),
    (" neighbor 10.0.0.1 password 7 Bgp-Key", " neighbor 10.0.0.1 password <removed>"),
]


@pytest.mark.parametrize(("line", "expected"), CISCO_CASES, ids=[c[0][:30] for c in CISCO_CASES])
def test_cisco_secret_lines_keep_keyword_lose_value(line: str, expected: str) -> None:
    assert apply_filters(line, CISCO_SECRETS) == expected


PROCURVE_CASES = [
    ('password manager user-name "manager" sha1 "5baa61e4c9b9"', "password manager <removed>"),
    ('password operator user-name "op" plaintext "Op-Plain"', "password operator <removed>"),
    ('snmp-server community "Comm-1" unrestricted', 'snmp-server community "<removed>" unrestricted'),
    ("snmp-server community public operator", 'snmp-server community "<removed>" operator'),
    ('snmp-server host 10.1.1.9 community "Trap-2"', 'snmp-server host 10.1.1.9 community "<removed>"'),
    ('snmpv3 user "mon" auth sha "A-Key" priv aes "P-Key"', 'snmpv3 user "mon" <removed>'),
    ('radius-server host 10.1.1.6 key "Rad-Key"', "radius-server host 10.1.1.6 key <removed>"),
    ('tacacs-server key "Tac-Key"', "tacacs-server key <removed>"),
]


@pytest.mark.parametrize(("line", "expected"), PROCURVE_CASES, ids=[c[0][:30] for c in PROCURVE_CASES])
def test_procurve_secret_lines_keep_keyword_lose_value(line: str, expected: str) -> None:
    assert apply_filters(line, PROCURVE_SECRETS) == expected


def test_lines_without_secrets_are_left_alone() -> None:
    text = "hostname sw-core\ninterface Gi1/0/1\n description cam-entrance\n switchport access vlan 20\n"
    assert apply_filters(text, CISCO_SECRETS) == text
    assert apply_filters(text, PROCURVE_SECRETS) == text


def test_generic_catch_all_removes_what_follows_a_secret_word() -> None:
    text = 'set system login password "Ub1-Pw"\nset snmp community Ub1-Comm\nset system host-name sw1\n'
    cleaned = apply_filters(text, GENERIC_SECRETS)
    assert "Ub1-Pw" not in cleaned and "Ub1-Comm" not in cleaned
    assert "host-name sw1" in cleaned


def test_noise_lines_are_dropped_whole() -> None:
    text = (
        "Building configuration...\n\nCurrent configuration : 4711 bytes\n!\n"
        "! Last configuration change at 14:02:11 UTC Mon Nov 2 2026 by admin\n"
        "! NVRAM config last updated at 14:02:18 UTC Mon Nov 2 2026 by admin\n"
        "hostname sw\nntp clock-period 36028797018963968\nend\n"
    )
    assert apply_filters(text, CISCO_NOISE) == "\n!\nhostname sw\nend\n"


def test_drop_line_and_sub_build_filters() -> None:
    assert apply_filters("a\nuptime 5\nb\n", [drop_line("uptime")]) == "a\nb\n"
    assert apply_filters("token abc\n", [sub(r"^(token) \S+$")]) == f"token {REMOVED}\n"


def test_redact_values_removes_literal_secrets_longest_first() -> None:
    text = "banner motd Welcome to the lab, the password is Depot-Pass-2 (old: Depot-Pass)\n"
    cleaned = redact_values(text, ["Depot-Pass", "Depot-Pass-2", None, "ab"])
    assert "Depot-Pass" not in cleaned
    assert cleaned.count(REMOVED) == 2
    assert "lab," in cleaned  # a two-letter value would eat ordinary words, so it is not redacted


@pytest.mark.parametrize("driver", [CiscoIosDriver, HpProcurveDriver, GenericCliDriver])
def test_every_platform_declares_its_filters(driver: type[CliDriver]) -> None:
    assert driver.SECRET_FILTERS, "a platform without secret filters would ship passwords"
    assert all(f.pattern.flags for f in driver.SECRET_FILTERS)


def test_sanitize_config_applies_secrets_then_literal_values_then_noise() -> None:
    config = (
        "! Last configuration change at 14:02:11 UTC\n"
        "hostname sw\nbanner motd ^C call 555 Depot-Pw ^C\nenable secret 0 Depot-Pw\n"
    )
    cleaned = CiscoIosDriver.sanitize_config(config, ["Depot-Pw"])
    assert "Depot-Pw" not in cleaned
    assert "Last configuration change" not in cleaned
    assert cleaned.startswith("hostname sw\n")
