"""Compare a switch driver's report with the lab site model (the ground truth both simulators serve)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pydantic import SecretStr

from drivers.base import Credential, DeviceReport
from drivers.normalize import canonical_ifname
from lab.host import PortPlan, SimHost
from lab.site import LabSite, Switch, load_site
from lab.state import LabState

PORTS = PortPlan.unprivileged()
Starter = Callable[[LabState, str, SimHost], Awaitable[Any]]


@contextlib.asynccontextmanager
async def running_lab(starter: Starter, hosts: dict[str, str]) -> AsyncIterator[LabState]:
    """The small site with `starter` serving each named switch at its loopback address; stopped after."""
    state = LabState(load_site("small"))
    servers: list[Any] = []
    try:
        for name, ip in hosts.items():
            servers.append(await starter(state, name, SimHost(name, ip=ip, ports=PORTS)))
        yield state
    finally:
        for server in servers:
            await server.close()


def switch_credential(sw: Switch, **overrides: Any) -> Credential:
    """The credential the site configured on a switch (CLI login, enable secret, v2c community)."""
    fields: dict[str, Any] = {
        "name": f"site-{sw.name}",
        "username": sw.credential.username,
        "password": SecretStr(sw.credential.password),
        "enable_secret": SecretStr(sw.enable_secret) if sw.enable_secret else None,
        "snmp_community": SecretStr(sw.snmp_community),
    }
    fields.update(overrides)
    return Credential(**fields)


def v3_credential(sw: Switch, **overrides: Any) -> Credential:
    fields: dict[str, Any] = {
        "name": f"site-{sw.name}-v3",
        "snmp_v3_user": sw.snmp_v3_user,
        "snmp_v3_auth_key": SecretStr(sw.snmp_v3_auth_key),
        "snmp_v3_priv_key": SecretStr(sw.snmp_v3_priv_key),
    }
    fields.update(overrides)
    return Credential(**fields)


def assert_matches_site(report: DeviceReport, site: LabSite, name: str) -> None:
    """Identity, every port (link, name, VLAN, uplink, PoE), forwarding table and LLDP as the site says."""
    sw = site.switch(name)
    identity = report.identity
    assert identity is not None
    assert (identity.vendor, identity.serial, identity.firmware, identity.hostname, identity.mac) == (
        sw.vendor,
        sw.serial,
        sw.firmware,
        sw.name,
        sw.mac,
    )
    assert identity.model and sw.model.startswith(identity.model)
    assert report.switch is not None
    ports = {p.name: p for p in report.switch.ports}
    for number in range(1, sw.port_count + 1):
        view = site.port_view(name, number)
        port = ports[canonical_ifname(view.name)]
        seen = (port.oper_up, port.alias or "", port.vlan, port.is_uplink)
        assert seen == (view.oper_up, view.alias, view.vlan, view.is_uplink), f"port {number}"
        if view.oper_up:
            assert port.speed_mbps == view.speed_mbps, f"port {number}"
        if number <= sw.poe_ports:
            assert port.poe is not None, f"port {number}"
            poe = (port.poe.admin_enabled, port.poe.status, port.poe.power_class, port.poe.power_w)
            assert poe == (view.poe_enabled, view.poe_status, view.poe_class, view.power_w), f"port {number}"
    fdb = {(e.mac, e.vlan, e.port) for e in report.fdb}
    assert fdb == {(mac, vlan, canonical_ifname(sw.port_name(port))) for mac, vlan, port in site.fdb(name)}
    lldp = {(e.local_port, e.chassis_id, e.system_name) for e in report.lldp}
    links = [(p, site.link_on(name, p)) for p in range(1, sw.port_count + 1)]
    assert lldp == {(canonical_ifname(sw.port_name(p)), far[0].mac, far[0].name) for p, far in links if far}
    assert {v.vlan_id: v.name for v in report.switch.vlans} == sw.vlans
    assert report.switch.poe_budget_w == sw.poe_budget_w
    assert not report.notes, [n.message for n in report.notes]
