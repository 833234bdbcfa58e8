"""Small in-process drivers for flow tests of identify and collect (parsing is tested elsewhere)."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from drivers.base import Candidate, Credential, DeviceDriver, DeviceReport, DriverOptions
from drivers.errors import AuthError, DeviceTimeout, ProtocolError, Unreachable
from drivers.schema import DeviceIdentity, Role, SwitchInfo


class Behaviour:
    """What each fake device does, keyed by IP; shared by the fake drivers below."""

    def __init__(self) -> None:
        self.passwords: dict[str, str] = {}  # ip -> password accepted
        self.flaky: dict[str, int] = {}  # ip -> transient failures before answering
        self.delay: dict[str, float] = {}
        self.broken: set[str] = set()  # answers with bad XML
        self.silent: set[str] = set()  # never answers (Unreachable)
        self.calls: list[tuple[str, str, str | None]] = []  # (driver, ip, credential name)
        self.sys_object_id: dict[str, str] = {}
        self.dialect: dict[str, str] = {}  # ip -> the CLI driver whose parser recognises the switch


BEHAVIOUR = Behaviour()


class _Base(DeviceDriver):
    role: ClassVar[Role] = Role.CAMERA

    async def collect(self) -> DeviceReport:
        b = BEHAVIOUR
        b.calls.append((self.name, self.ip, self.credential.name if self.credential else None))
        if self.ip in b.delay:
            await asyncio.sleep(b.delay[self.ip])
        if self.ip in b.silent:
            raise Unreachable("no route")
        if b.flaky.get(self.ip, 0) > 0:
            b.flaky[self.ip] -= 1
            raise DeviceTimeout("timed out")
        if self.ip in b.broken:
            raise ProtocolError("invalid XML in GetDeviceInformation")
        want = b.passwords.get(self.ip)
        if self.needs_credential and want is not None:
            got = self.credential.password.get_secret_value() if self.credential else None
            if got != want:
                raise AuthError("Sender not Authorized")
        return self.report()

    def report(self) -> DeviceReport:
        return DeviceReport(
            driver=self.name, ip=self.ip, role=self.role, identity=DeviceIdentity(vendor="AXIS")
        )


class FakeOnvif(_Base):
    name = "onvif"
    protocol = "onvif"

    @classmethod
    def score(cls, candidate: Candidate) -> int:
        return 80 if candidate.wsd_endpoint or "wsd" in candidate.sources else 0


class FakeSnmp(_Base):
    name = "snmp"
    protocol = "snmp"
    needs_credential = False

    @classmethod
    def score(cls, candidate: Candidate) -> int:
        return 10

    def report(self) -> DeviceReport:
        oid = BEHAVIOUR.sys_object_id.get(self.ip, "1.3.6.1.4.1.9.1.1208")
        return DeviceReport(
            driver=self.name,
            ip=self.ip,
            role=Role.SWITCH,
            identity=DeviceIdentity(vendor="Cisco"),
            switch=SwitchInfo(sys_object_id=oid),
        )


class FakeCiscoCli(_Base):
    name = "cli.cisco_ios"
    protocol = "cli"

    @classmethod
    def score(cls, candidate: Candidate) -> int:
        return 20 if 22 in candidate.open_ports or 2222 in candidate.open_ports else 0

    def report(self) -> DeviceReport:
        mine = BEHAVIOUR.dialect.get(self.ip, self.name) == self.name
        return DeviceReport(
            driver=self.name,
            ip=self.ip,
            role=Role.SWITCH,
            identity=DeviceIdentity(model="WS-C2960X" if mine else None),
            configs={"running-config": "hostname x"},
        )


class FakeProcurveCli(FakeCiscoCli):
    name = "cli.hp_procurve"

    @classmethod
    def score(cls, candidate: Candidate) -> int:
        return 10 if 22 in candidate.open_ports or 2222 in candidate.open_ports else 0


def fake_drivers() -> dict[str, type[DeviceDriver]]:
    return {d.name: d for d in (FakeOnvif, FakeSnmp, FakeCiscoCli, FakeProcurveCli)}


def make(cls: type[DeviceDriver], ip: str, credential: Credential | None = None) -> DeviceDriver:
    return cls(ip, credential, DriverOptions())
