"""Scan configuration: scope limits, ports, unicast targets inside the scopes only."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent.config import ConfigError, ScanConfig, parse_ports
from agent.scan_cli import parse_methods


def test_scope_larger_than_slash_16_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="largest allowed is a /16"):
        ScanConfig(scopes=("10.0.0.0/15",))
    assert ScanConfig(scopes=("10.1.2.3/16",)).scopes == ("10.1.0.0/16",)
    with pytest.raises(ValidationError, match="not an address range"):
        ScanConfig(scopes=("10.0.0.0/33",))


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        ScanConfig.model_validate({"scopes": ["10.0.0.0/24"], "timeuot_s": 3})


def test_unicast_targets_must_be_inside_the_scopes() -> None:
    with pytest.raises(ValidationError, match="outside the scan scopes"):
        ScanConfig(scopes=("10.0.0.0/24",), unicast_targets=("10.0.1.5",))
    assert ScanConfig(scopes=("10.0.0.0/24",), unicast_targets=("10.0.0.5",)).unicast_targets == ("10.0.0.5",)


def test_ports_option() -> None:
    ports = parse_ports("http=8080, snmp=1161,ssh=2222")
    assert (ports.http, ports.snmp, ports.ssh, ports.wsd) == (8080, 1161, 2222, 3702)
    for bad in ("http", "ftp=21", "http=0", "http=x"):
        with pytest.raises(ConfigError):
            parse_ports(bad)


def test_methods_option() -> None:
    assert parse_methods("wsd,tcp").enabled() == ("wsd", "tcp")
    with pytest.raises(ConfigError, match="unknown"):
        parse_methods("wsd,carrier-pigeon")


def test_budget_defaults_to_a_multiple_of_the_call_timeout() -> None:
    assert ScanConfig(scopes=("10.0.0.0/24",), timeout_s=2).budget_s() == 12
    assert ScanConfig(scopes=("10.0.0.0/24",), device_budget_s=3).budget_s() == 3
