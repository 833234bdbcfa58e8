"""The uplink rule lives in drivers/uplinks.py; the CLI drivers, the SNMP parser and the agent's
correlation all ask it, so an IP phone's or an access point's "bridge" never makes an uplink in one
place and an edge port in another."""

from __future__ import annotations

import pytest

from agent.correlate import find_uplinks
from drivers.base import LldpEntry
from drivers.cli.base import mark_uplinks
from drivers.schema import LldpNeighbor, SwitchPort
from drivers.uplinks import forwards_for_others, lldp_uplink_ports

NEIGHBOURS = {
    "GigabitEthernet1/0/1": ["bridge", "router"],  # a distribution switch
    "GigabitEthernet1/0/2": ["Bridge"],  # an access switch (capitalised, as some dialects print it)
    "GigabitEthernet1/0/3": ["bridge", "telephone"],  # an IP phone with a PC port
    "GigabitEthernet1/0/4": ["bridge", "wlan-access-point"],  # an access point
    "GigabitEthernet1/0/5": ["station-only"],  # a camera that speaks LLDP
    "GigabitEthernet1/0/6": [],  # capabilities not advertised
}
EXPECTED = {"GigabitEthernet1/0/1", "GigabitEthernet1/0/2"}


@pytest.mark.parametrize(
    ("caps", "uplink"),
    [
        (["bridge"], True),
        (["router"], True),
        (["bridge", "telephone"], False),
        (["wlan-access-point"], False),
        ([" BRIDGE "], True),
        ([], False),
        (["other"], False),
    ],
)
def test_forwarding_neighbours_are_uplinks_end_devices_are_not(caps: list[str], uplink: bool) -> None:
    assert forwards_for_others(caps) is uplink


def test_cli_driver_snmp_parser_and_correlation_agree() -> None:
    entries = [
        LldpEntry(local_port=p, chassis_id=f"remote-{p}", port_id="1", capabilities=c)
        for p, c in NEIGHBOURS.items()
    ]
    assert lldp_uplink_ports(entries) == EXPECTED

    ports = [SwitchPort(name=p) for p in [*NEIGHBOURS, "GigabitEthernet1/0/7"]]
    marked = {p.name for p in mark_uplinks(ports, entries) if p.is_uplink}
    assert marked == EXPECTED

    neighbours = [
        LldpNeighbor(
            switch_id="sw1",
            local_port=e.local_port,
            chassis_id=e.chassis_id,
            port_id=e.port_id,
            capabilities=tuple(e.capabilities),
        )
        for e in entries
    ]
    assert {port for _, port in find_uplinks({}, {}, neighbours)} == EXPECTED
