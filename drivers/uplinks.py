"""The uplink rule, in one place: which LLDP neighbours make a switch port lead to another switch.

A neighbour that forwards frames for others (LLDP capability "bridge" or "router") makes the port
an uplink — unless it also says it is an end device: an IP phone with a PC port says "bridge" and
"telephone", an access point says "bridge" and "wlan-access-point", and a camera behind either is
still on an edge port. The switch drivers (CLI and SNMP) mark ports with `lldp_uplink_ports`; the
agent's correlation (agent/correlate.py) adds the forwarding-table evidence (a port that learned
another scanned switch's MAC) and has the last word; the collector shows `SwitchPort.is_uplink` as
the snapshot says. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

FORWARDING_CAPABILITIES = frozenset({"bridge", "router"})
END_DEVICE_CAPABILITIES = frozenset({"telephone", "station", "station-only", "wlan-access-point"})


class HasCapabilities(Protocol):
    @property
    def capabilities(self) -> Iterable[str]: ...


class LocalNeighbour(HasCapabilities, Protocol):
    @property
    def local_port(self) -> str: ...


def forwards_for_others(capabilities: Iterable[str]) -> bool:
    """True for a neighbour that is a switch or router, not an end device with a bridge in it."""
    caps = {c.strip().lower() for c in capabilities}
    return bool(caps & FORWARDING_CAPABILITIES) and not caps & END_DEVICE_CAPABILITIES


def lldp_uplink_ports(neighbours: Iterable[LocalNeighbour]) -> set[str]:
    """The local ports whose LLDP neighbour forwards for others."""
    return {n.local_port for n in neighbours if forwards_for_others(n.capabilities)}
