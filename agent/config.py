"""What one scan does: the address ranges, where the protocols listen, how hard to push each device.

A `ScanConfig` is built by the command line (or the scheduler) and handed to the pipeline; it refuses
unknown fields so a typo in a config file is an error, not a silently ignored option.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from drivers.base import DriverOptions, Ports

# A /16 is 65,534 addresses: the largest range a sweep may cover with bounded memory and time.
MAX_SCOPE_ADDRESSES = 2**16
PORT_NAMES = frozenset(Ports.model_fields)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConfigError(ValueError):
    """The scan cannot start: the message says what to change."""


class Concurrency(StrictModel):
    """Devices read at the same time, per protocol pool (drivers declare their pool)."""

    onvif: int = Field(default=32, ge=1, le=512)
    snmp: int = Field(default=16, ge=1, le=256)
    cli: int = Field(default=4, ge=1, le=64, description="SSH logins are slow and switches few")

    def for_protocol(self, protocol: str) -> int:
        return int(getattr(self, protocol, 8))


class Methods(StrictModel):
    """Discovery methods to run. Collection always runs on what discovery found."""

    arp: bool = True
    wsd: bool = True
    mdns: bool = True
    tcp: bool = True

    def enabled(self) -> tuple[str, ...]:
        return tuple(name for name in type(self).model_fields if getattr(self, name))


class ScanConfig(StrictModel):
    site: str = Field(default="site", min_length=1, max_length=200, description="Site id (slug)")
    site_name: str | None = None
    scopes: tuple[str, ...] = Field(min_length=1, description="CIDRs to sweep, at most a /16 each")
    unicast_targets: tuple[str, ...] = Field(
        default=(), description="Addresses that get a unicast WS-Discovery probe besides multicast"
    )
    unicast: bool | None = Field(
        default=None,
        description="Unicast WS-Discovery to every scope address; None: only routed or loopback scopes",
    )
    interfaces: tuple[str, ...] = Field(default=(), description="Interfaces to sweep from; empty: automatic")
    ports: Ports = Field(default_factory=Ports)
    concurrency: Concurrency = Field(default_factory=Concurrency)
    timeout_s: float = Field(default=5.0, gt=0, le=120, description="Budget for one device call")
    device_budget_s: float | None = Field(
        default=None, gt=0, description="Budget for one driver on one device; None: 6 x timeout_s"
    )
    retries: int = Field(default=1, ge=0, le=5, description="Retries for transient faults only")
    max_auth_failures: int = Field(
        default=3, ge=1, le=20, description="Refused logins per device and protocol before giving up"
    )
    wsd_window_s: float = Field(default=2.0, gt=0, le=30, description="How long to listen for ProbeMatches")
    arp_timeout_s: float = Field(default=1.0, gt=0, le=30)
    methods: Methods = Field(default_factory=Methods)
    credential_cache: Path | None = Field(
        default=None, description="File remembering which credential NAME worked per device (no secrets)"
    )

    @field_validator("scopes")
    @classmethod
    def _check_scopes(cls, scopes: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(canonical_scope(s) for s in scopes)

    @field_validator("unicast_targets")
    @classmethod
    def _check_targets(cls, targets: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(ipaddress.ip_address(t.strip())) for t in targets)

    @model_validator(mode="after")
    def _targets_in_scope(self) -> ScanConfig:
        # Network safety: nothing is ever sent outside the ranges the operator named.
        outside = [t for t in self.unicast_targets if not in_scopes(t, self.scopes)]
        if outside:
            raise ValueError(f"unicast targets outside the scan scopes: {', '.join(outside)}")
        return self

    def driver_options(self) -> DriverOptions:
        return DriverOptions(timeout_s=self.timeout_s, retries=self.retries, ports=self.ports)

    def budget_s(self) -> float:
        """Wall-clock limit for one driver reading one device (all its calls together)."""
        return self.device_budget_s if self.device_budget_s is not None else self.timeout_s * 6


def canonical_scope(text: str) -> str:
    """`10.0.0.7/24` → `10.0.0.0/24`; a bare address is a /32. Ranges over a /16 are refused."""
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"not an address range: {text!r} (expected CIDR, e.g. 10.0.0.0/24)") from None
    if net.num_addresses > MAX_SCOPE_ADDRESSES:
        raise ValueError(
            f"scope {net} has {net.num_addresses:,} addresses; the largest allowed is a /16 "
            f"({MAX_SCOPE_ADDRESSES:,}): split it into /16 (or smaller) ranges"
        )
    return str(net)


def in_scopes(ip: str, scopes: tuple[str, ...] | list[str]) -> bool:
    addr = ipaddress.ip_address(ip)
    return any(addr in ipaddress.ip_network(s) for s in scopes)


def is_loopback_scope(scope: str) -> bool:
    return ipaddress.ip_network(scope).is_loopback


def parse_ports(text: str | None) -> Ports:
    """`http=8080,snmp=1161,ssh=2222` → Ports (unnamed protocols keep their standard port)."""
    if not text:
        return Ports()
    values: dict[str, int] = {}
    for part in text.split(","):
        name, sep, number = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in PORT_NAMES:
            raise ConfigError(f"bad port setting {part!r}: use NAME=PORT with NAME in {sorted(PORT_NAMES)}")
        try:
            port = int(number)
        except ValueError:
            raise ConfigError(f"bad port number in {part!r}") from None
        if not 1 <= port <= 65535:
            raise ConfigError(f"port out of range in {part!r}")
        values[name] = port
    return Ports(**values)
