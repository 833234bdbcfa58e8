"""The SNMP driver against the lab's SNMP agents (real UDP on loopback), compared with the site model.

Prints the time per switch (figures for the README, not assertions).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pydantic import SecretStr

from drivers.base import DriverOptions, Ports
from drivers.errors import AuthError, DeviceTimeout
from drivers.snmp import SnmpDriver
from lab.site import LabSite
from lab.snmp.agent import start_snmp
from lab.state import LabState
from tests.drivers.switch_truth import (
    PORTS,
    assert_matches_site,
    running_lab,
    switch_credential,
    v3_credential,
)

HOSTS = {"sw-core": "127.25.0.2", "sw-yard": "127.25.0.3"}
OPTIONS = DriverOptions(timeout_s=2.0, retries=1, ports=Ports(snmp=PORTS.snmp))
FAST_FAIL = DriverOptions(timeout_s=0.5, retries=0, ports=Ports(snmp=PORTS.snmp))
# A v3 refusal is a report the agent sends at once, but before the client can read it, it derives its
# keys from the passphrases (a megabyte of hashing each, in Python): on a loaded machine that alone
# passed 0.5 s, and the refusal came out as a timeout. The wrong-community case above keeps 0.5 s.
V3_FAIL = DriverOptions(timeout_s=3.0, retries=0, ports=Ports(snmp=PORTS.snmp))

# One lab for the whole module: starting the agents (v3 key localisation) costs about a second.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def lab() -> AsyncIterator[LabState]:
    async with running_lab(start_snmp, HOSTS) as state:
        yield state


@pytest.mark.parametrize("name", sorted(HOSTS))
async def test_v2c_report_matches_the_site(lab: LabState, name: str) -> None:
    sw = lab.site.switch(name)
    started = time.perf_counter()
    report = await SnmpDriver(HOSTS[name], switch_credential(sw), OPTIONS).collect()
    print(f"\nsnmp v2c {name}: {time.perf_counter() - started:.2f} s, {len(report.fdb)} fdb")
    assert_matches_site(report, lab.site, name)
    assert report.credential == f"site-{name}"
    assert report.switch is not None and report.switch.uptime_s is not None


@pytest.mark.parametrize("name", sorted(HOSTS))
async def test_v3_authpriv_report_matches_the_site(lab: LabState, name: str) -> None:
    """SHA/AES; on the Cisco the per-VLAN forwarding tables come through contexts vlan-N."""
    sw = lab.site.switch(name)
    started = time.perf_counter()
    report = await SnmpDriver(HOSTS[name], v3_credential(sw), OPTIONS).collect()
    print(f"\nsnmp v3 {name}: {time.perf_counter() - started:.2f} s")
    assert_matches_site(report, lab.site, name)


async def test_wrong_community_is_a_timeout(lab: LabState) -> None:
    sw = lab.site.switch("sw-core")
    credential = switch_credential(sw, snmp_community=SecretStr("not-" + sw.snmp_community))
    with pytest.raises(DeviceTimeout):
        await SnmpDriver(HOSTS["sw-core"], credential, FAST_FAIL).collect()


@pytest.mark.parametrize("key", ["snmp_v3_auth_key", "snmp_v3_priv_key"])
async def test_wrong_v3_key_is_an_auth_error(lab: LabState, key: str) -> None:
    sw = lab.site.switch("sw-yard")
    credential = v3_credential(sw, **{key: SecretStr("wrong-key-123")})
    with pytest.raises(AuthError):
        await SnmpDriver(HOSTS["sw-yard"], credential, V3_FAIL).collect()


async def test_unknown_v3_user_is_an_auth_error(lab: LabState) -> None:
    credential = v3_credential(lab.site.switch("sw-core"), snmp_v3_user="nobody")
    with pytest.raises(AuthError):
        await SnmpDriver(HOSTS["sw-core"], credential, V3_FAIL).collect()


async def test_a_change_on_site_shows_in_the_next_scan(lab: LabState) -> None:
    site = lab.site
    data = site.model_dump()
    (camera,) = [d for d in data["devices"] if d["name"] == "cam-office"]
    camera["uplink"]["port"] = 11  # re-patched from port 5 to port 11
    moved = LabSite.model_validate(data)
    lab.replace(moved)
    try:
        report = await SnmpDriver(
            HOSTS["sw-core"], switch_credential(moved.switch("sw-core")), OPTIONS
        ).collect()
    finally:
        lab.replace(site)
    ports = {e.mac: e.port for e in report.fdb}
    assert ports[moved.device("cam-office").mac] == "GigabitEthernet1/0/11"


async def test_transport_get_reads_scalars(lab: LabState) -> None:
    """The cheap confirming call identification can make before choosing the driver."""
    from drivers.snmp import oids
    from drivers.snmp.transport import PysnmpTransport

    sw = lab.site.switch("sw-yard")
    transport = await PysnmpTransport.open(
        HOSTS["sw-yard"], PORTS.snmp, switch_credential(sw), timeout_s=2, retries=0
    )
    try:
        values = await transport.get([oids.SYS_NAME, oids.SYS_OBJECT_ID, "1.3.6.1.2.1.1.99.0"])
    finally:
        await transport.close()
    assert values == {oids.SYS_NAME: b"sw-yard", oids.SYS_OBJECT_ID: "1.3.6.1.4.1.11.2.3.7.11.137"}
