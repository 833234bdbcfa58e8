"""Fallback for an SSH switch without a platform module (the Oxidized 'defacto' idea).

Many switches copy Cisco's CLI closely enough for `show version` and `show running-config`. This
driver reads only those two: the configuration (through every known secret filter plus a catch-all)
and a hostname and firmware version picked out with loose patterns. Ports, tables and PoE need a
platform module.
"""

from __future__ import annotations

import re

from drivers.base import Candidate
from drivers.cli.base import CONFIG, CliDriver, Outputs, Parsed
from drivers.sanitize import CISCO_NOISE, CISCO_SECRETS, GENERIC_SECRETS, PROCURVE_NOISE, PROCURVE_SECRETS
from drivers.schema import DeviceIdentity

COMMANDS = {"version": "show version", CONFIG: "show running-config"}

# The generic catch-all goes last, after the specific filters have kept their keywords readable.
SECRET_FILTERS = (*CISCO_SECRETS, *PROCURVE_SECRETS, *GENERIC_SECRETS)
NOISE_FILTERS = (*CISCO_NOISE, *PROCURVE_NOISE)

_HOSTNAME = re.compile(
    r'^\s*(?:(?:hostname|sysname|set system host-name)\s+"?([^"\s]+)"?|(\S+) uptime is .*)\s*$', re.MULTILINE
)
_FIRMWARE = re.compile(
    r"\b(?:Version|revision|firmware)[\s.:]+v?([0-9A-Za-z][\w.()\-]*\d[\w.()\-]*)", re.IGNORECASE
)


def parse_identity(version: str, config: str) -> DeviceIdentity | None:
    hostname = _HOSTNAME.search(config) or _HOSTNAME.search(version)
    firmware = _FIRMWARE.search(version)
    if hostname is None and firmware is None:
        return None
    return DeviceIdentity(
        hostname=(hostname.group(1) or hostname.group(2)) if hostname else None,
        firmware=firmware.group(1).rstrip(",.") if firmware else None,
    )


class GenericCliDriver(CliDriver):
    name = "cli.generic"
    platform = "generic"
    COMMANDS = COMMANDS
    # netmiko's generic type does not turn paging off; most Cisco-like CLIs take this (others refuse it).
    SETUP_COMMANDS = ("terminal length 0",)
    SECRET_FILTERS = SECRET_FILTERS
    NOISE_FILTERS = NOISE_FILTERS

    @classmethod
    def score(cls, candidate: Candidate) -> int:
        """Lowest of the CLI drivers: it is what is left when no platform module claims the device."""
        return min(super().score(candidate), 1)

    @classmethod
    def parse(cls, outputs: Outputs) -> Parsed:
        p = Parsed()
        p.identity = p.attempt(
            "show version", lambda: parse_identity(outputs.get("version", ""), outputs.get(CONFIG, "")), None
        )
        return p
