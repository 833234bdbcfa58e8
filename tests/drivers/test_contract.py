"""The contract every registered driver keeps (drivers/base.py), checked for each entry of REGISTRY.

- the class declares name, protocol and needs_credential, and is complete (no abstract method left);
- score() is a pure function of the candidate: an int >= 0, no network I/O;
- collect() against the lab returns a DeviceReport that survives a JSON round trip through the schema;
- collect() against nothing, or with a wrong credential, raises drivers.errors only.
A new driver needs a lab target in LAB_TARGETS (by protocol) to pass; the test says so when it is missing.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import Any

import pytest
from pydantic import SecretStr

from drivers import REGISTRY, get_driver
from drivers.base import Candidate, Credential, DeviceDriver, DeviceReport, DriverOptions, Ports
from drivers.errors import AuthError, DeviceTimeout, DriverError
from lab.host import PortPlan, SimHost
from lab.site import LabSite, load_site
from lab.state import LabState

NAMES = sorted(REGISTRY)
LAB_PORTS = PortPlan.unprivileged()
OPTIONS = DriverOptions(
    timeout_s=3.0, retries=0, ports=Ports(http=LAB_PORTS.http, snmp=LAB_PORTS.snmp, ssh=LAB_PORTS.ssh)
)
DEAD_IP = "127.25.0.250"  # nothing listens there


# ---------------------------------------------------------------- the import boundary


def test_importing_the_schema_pulls_in_no_vendor_library() -> None:
    """The collector imports drivers.schema; it must not drag netmiko, pysnmp or zeep along."""
    code = (
        "import sys, drivers, drivers.schema, drivers.base, drivers.errors, drivers.sanitize\n"
        "heavy = ('netmiko', 'paramiko', 'pysnmp', 'zeep', 'onvif', 'textfsm', 'ntc_templates', 'lxml')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""


def test_registry_entries_are_lazy_strings_and_unknown_names_are_refused() -> None:
    assert all(isinstance(target, str) and ":" in target for target in REGISTRY.values())
    with pytest.raises(KeyError, match="known drivers"):
        get_driver("cli.no_such_platform")


# ---------------------------------------------------------------- class attributes and score()


@pytest.mark.parametrize("name", NAMES)
def test_class_declares_the_contract(name: str) -> None:
    cls = get_driver(name)
    assert issubclass(cls, DeviceDriver) and not inspect.isabstract(cls)
    assert cls.name == name
    assert cls.protocol in {"onvif", "snmp", "cli"}
    assert isinstance(cls.needs_credential, bool)
    assert inspect.iscoroutinefunction(cls.collect)


CANDIDATES = [
    Candidate(ip="10.0.0.5"),
    Candidate(ip="10.0.0.6", mac="ac:cc:8e:5a:01:01", sources={"wsd"}, open_ports={80, 554},
              wsd_types=["dn:NetworkVideoTransmitter"], wsd_xaddrs=["http://10.0.0.6/onvif/device_service"]),
    Candidate(ip="10.0.0.2", mac="00:1b:54:c2:10:00", sources={"arp", "snmp"}, open_ports={22, 443}),
    Candidate(ip="10.0.0.3", mac="94:18:82:7a:20:00", sources={"arp"}, open_ports={22, 23, 80}),
    Candidate(ip="10.0.0.7", sources={"mdns"}, mdns_services=["_axis-video._tcp"], open_ports={80}),
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_score_is_an_int_and_does_no_io(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("score() must not touch the network")

    for method in ("connect", "connect_ex", "send", "sendto", "sendall"):
        monkeypatch.setattr(socket.socket, method, refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    cls = get_driver(name)
    for candidate in CANDIDATES:
        score = cls.score(candidate)
        assert type(score) is int and score >= 0, (candidate, score)


# ---------------------------------------------------------------- collect() against the lab

Starter = Callable[[LabState, str, SimHost], Awaitable[Any]]


def _starter(path: str) -> Starter:
    module, _, function = path.partition(":")
    starter: Starter = getattr(import_module(module), function)
    return starter


def _switch_credential(site: LabSite, device: str) -> Credential:
    sw = site.switch(device)
    return Credential(
        name="lab",
        username=sw.credential.username,
        password=SecretStr(sw.credential.password),
        enable_secret=SecretStr(sw.enable_secret) if sw.enable_secret else None,
        snmp_community=SecretStr(sw.snmp_community),
    )


def _device_credential(site: LabSite, device: str) -> Credential:
    camera = site.device(device)
    return Credential(
        name="lab", username=camera.credential.username, password=SecretStr(camera.credential.password)
    )


# protocol -> (simulator starter, credential maker, device by driver name or "*")
LAB_TARGETS: dict[str, tuple[str, Callable[[LabSite, str], Credential], dict[str, str]]] = {
    "snmp": ("lab.snmp.agent:start_snmp", _switch_credential, {"*": "sw-core"}),
    "cli": (
        "lab.switch_cli.server:start_ssh",
        _switch_credential,
        {"cli.hp_procurve": "sw-yard", "*": "sw-core"},
    ),
    "onvif": ("lab.onvif.server:start_onvif", _device_credential, {"*": "cam-entrance"}),
}


def lab_target(cls: type[DeviceDriver]) -> tuple[Starter, Callable[[LabSite, str], Credential], str]:
    if cls.protocol not in LAB_TARGETS:
        pytest.fail(f"driver {cls.name}: add a lab target for protocol {cls.protocol!r} to LAB_TARGETS")
    starter, credential, devices = LAB_TARGETS[cls.protocol]
    return _starter(starter), credential, devices.get(cls.name, devices["*"])


@pytest.mark.parametrize(("index", "name"), list(enumerate(NAMES)))
async def test_collect_from_the_lab_gives_a_valid_report(index: int, name: str) -> None:
    cls = get_driver(name)
    starter, make_credential, device = lab_target(cls)
    state = LabState(load_site("small"))
    ip = f"127.25.0.{30 + index}"
    server = await starter(state, device, SimHost(device, ip=ip, ports=LAB_PORTS))
    try:
        driver = cls(ip, make_credential(state.site, device), OPTIONS)
        try:
            report = await asyncio.wait_for(driver.collect(), 60)
        finally:
            await driver.close()
        assert isinstance(report, DeviceReport)
        assert DeviceReport.model_validate_json(report.model_dump_json()) == report
        assert report.driver == name and report.ip == ip
        assert report.identity is not None and report.role is not None

        wrong = make_credential(state.site, device).model_copy(
            update={"password": SecretStr("wrong-pass-123"), "snmp_community": SecretStr("wrong-comm-123")}
        )
        fast = OPTIONS.model_copy(update={"timeout_s": 1.0})
        with pytest.raises((AuthError, DeviceTimeout)):  # v2c agents stay silent on a wrong community
            await asyncio.wait_for(cls(ip, wrong, fast).collect(), 60)
    finally:
        await server.close()


@pytest.mark.parametrize("name", NAMES)
async def test_collect_from_a_dead_address_raises_a_driver_error(name: str) -> None:
    cls = get_driver(name)
    credential = Credential(name="any", username="u", password=SecretStr("p"), snmp_community=SecretStr("c"))
    options = DriverOptions(timeout_s=1.0, retries=0, ports=Ports(http=9, snmp=9, ssh=9))
    driver = cls(DEAD_IP, credential, options)
    try:
        with pytest.raises(DriverError):
            await asyncio.wait_for(driver.collect(), 30)
    finally:
        await driver.close()
