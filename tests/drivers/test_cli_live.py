"""The CLI drivers against the lab's SSH switches (real SSH on loopback through netmiko), compared with
the site model. Prints the time per switch (figures for the README, not assertions).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pydantic import SecretStr

from drivers import get_driver
from drivers.base import DriverOptions, Ports
from drivers.cli.base import CONFIG_KIND
from drivers.errors import AuthError
from lab.state import LabState
from lab.switch_cli import facts
from lab.switch_cli.server import start_ssh
from tests.drivers.switch_truth import PORTS, assert_matches_site, running_lab, switch_credential

HOSTS = {"sw-core": "127.25.0.12", "sw-yard": "127.25.0.13"}
DRIVERS = {"sw-core": "cli.cisco_ios", "sw-yard": "cli.hp_procurve"}
OPTIONS = DriverOptions(timeout_s=5.0, ports=Ports(ssh=PORTS.ssh))

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def lab() -> AsyncIterator[LabState]:
    async with running_lab(start_ssh, HOSTS) as state:
        yield state


def site_secrets(lab: LabState, name: str) -> list[str]:
    """Every secret of the switch, in clear and in the forms its configuration shows them."""
    sw = lab.site.switch(name)
    clear = [
        sw.credential.password,
        sw.enable_secret,
        sw.snmp_community,
        sw.snmp_v3_auth_key,
        sw.snmp_v3_priv_key,
    ]
    clear = [s for s in clear if s]  # the ProCurve has no enable secret
    hashed = [facts.sha1_hex(s) for s in clear] + [facts.cisco_type7(s) for s in clear]
    hashed += [facts.cisco_type7(s, seed=5) for s in clear]
    hashed += [facts.cisco_type5_like(sw.enable_secret, sw.serial + "enable")] if sw.enable_secret else []
    hashed.append(facts.cisco_type5_like(sw.credential.password, sw.serial + sw.credential.username))
    return clear + hashed


@pytest.mark.parametrize("name", sorted(HOSTS))
async def test_report_matches_the_site(lab: LabState, name: str) -> None:
    sw = lab.site.switch(name)
    driver = get_driver(DRIVERS[name])
    started = time.perf_counter()
    report = await driver(HOSTS[name], switch_credential(sw), OPTIONS).collect()
    print(f"\n{driver.name} {name}: {time.perf_counter() - started:.2f} s, {len(report.fdb)} fdb")
    assert_matches_site(report, lab.site, name)
    assert report.identity is not None and report.identity.location == sw.location
    assert report.switch is not None and report.switch.uptime_s
    assert f"hostname {sw.name}" in report.configs[CONFIG_KIND].replace('"', "")


@pytest.mark.parametrize("name", sorted(HOSTS))
async def test_site_secrets_never_leave_the_driver(lab: LabState, name: str) -> None:
    sw = lab.site.switch(name)
    report = await get_driver(DRIVERS[name])(HOSTS[name], switch_credential(sw), OPTIONS).collect()
    dumped = report.model_dump_json()
    assert report.configs[CONFIG_KIND]
    assert [s for s in site_secrets(lab, name) if s in dumped] == []


@pytest.mark.parametrize("name", sorted(HOSTS))
async def test_wrong_password_is_an_auth_error(lab: LabState, name: str) -> None:
    sw = lab.site.switch(name)
    credential = switch_credential(sw, password=SecretStr("not-the-password"))
    with pytest.raises(AuthError) as failure:
        await get_driver(DRIVERS[name])(HOSTS[name], credential, OPTIONS).collect()
    assert "not-the-password" not in str(failure.value)


async def test_generic_driver_reads_version_and_config_of_an_ios_switch(lab: LabState) -> None:
    sw = lab.site.switch("sw-core")
    report = await get_driver("cli.generic")(HOSTS["sw-core"], switch_credential(sw), OPTIONS).collect()
    assert report.identity is not None and report.identity.firmware == sw.firmware
    assert report.identity.hostname == sw.name
    assert [s for s in site_secrets(lab, "sw-core") if s in report.model_dump_json()] == []


async def test_without_enable_secret_the_config_is_a_note_and_the_rest_is_read(lab: LabState) -> None:
    sw = lab.site.switch("sw-core")
    report = await get_driver("cli.cisco_ios")(
        HOSTS["sw-core"], switch_credential(sw, enable_secret=None), OPTIONS
    ).collect()
    assert report.configs == {}
    assert [(n.kind.value, n.operation) for n in report.notes] == [("unsupported", "show running-config")]
    assert report.switch is not None and len(report.switch.ports) >= sw.port_count and report.fdb


async def test_wrong_enable_secret_is_an_auth_error(lab: LabState) -> None:
    sw = lab.site.switch("sw-core")
    credential = switch_credential(sw, enable_secret=SecretStr("not-the-secret"))
    quick = OPTIONS.model_copy(update={"timeout_s": 1.0})  # netmiko waits a read timeout for the prompt
    with pytest.raises(AuthError, match="enable secret"):
        await get_driver("cli.cisco_ios")(HOSTS["sw-core"], credential, quick).collect()
