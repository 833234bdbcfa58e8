"""The driver contract: what discovery hands to identification, and what a device driver returns.

Drivers never build a whole `Device`: each returns a `DeviceReport`, a partial view of one device
as one protocol sees it, and the agent merges the reports of all drivers that read the device.
Transport I/O stays thin inside drivers; parsing lives in pure functions next to them.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from drivers.schema import (
    DeviceIdentity,
    IfName,
    IpAddress,
    MacAddress,
    NetworkSettings,
    OnvifInfo,
    ProblemKind,
    RecorderInfo,
    Role,
    SwitchInfo,
)

MAX_MERGED_ITEMS = 64  # hints kept per candidate list (types, scopes, services, TXT keys)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Candidate(Model):
    """A host found by discovery, with every hint the discoverers gathered about it."""

    ip: IpAddress
    mac: MacAddress | None = None
    sources: set[str] = Field(default_factory=set, description="arp, wsd, mdns, tcp, neigh ...")
    wsd_endpoint: str | None = None
    wsd_types: list[str] = Field(default_factory=list)
    wsd_scopes: list[str] = Field(default_factory=list)
    wsd_xaddrs: list[str] = Field(default_factory=list)
    mdns_services: list[str] = Field(default_factory=list, description="service types, e.g. _axis-video._tcp")
    mdns_txt: dict[str, str] = Field(default_factory=dict)
    mdns_name: str | None = None
    open_ports: set[int] = Field(default_factory=set)
    http_server: str | None = Field(default=None, description="HTTP Server header, when a probe saw one")

    def merge(self, other: Candidate) -> Candidate:
        """Combine what two discoverers saw of the same host."""
        data = self.model_dump()
        for name, value in other.model_dump().items():
            mine = data.get(name)
            # Bounded: a device repeating itself with new words each time must not grow a candidate.
            if isinstance(mine, set):
                data[name] = set(list(mine | value)[:MAX_MERGED_ITEMS])
            elif isinstance(mine, list):
                data[name] = list(dict.fromkeys(mine + value))[:MAX_MERGED_ITEMS]
            elif isinstance(mine, dict):
                data[name] = dict(list({**value, **mine}.items())[:MAX_MERGED_ITEMS])
            elif mine is None:
                data[name] = value
        return Candidate.model_validate(data)


class Credential(Model):
    """One set of login details from the site's credential file. Never written to a snapshot."""

    name: str = Field(description="Label for logs and problems, e.g. 'installer-axis'")
    username: str = ""
    password: SecretStr = SecretStr("")
    enable_secret: SecretStr | None = None
    snmp_community: SecretStr | None = None
    snmp_v3_user: str | None = None
    snmp_v3_auth_key: SecretStr | None = None
    snmp_v3_priv_key: SecretStr | None = None
    snmp_v3_auth_protocol: str = "SHA"
    snmp_v3_priv_protocol: str = "AES"
    drivers: list[str] = Field(default_factory=list, description="Driver names it is for; empty: any")
    vendors: list[str] = Field(default_factory=list, description="Vendors it is for; empty: any")


class Ports(Model):
    """Where the device protocols listen; standard unless the site (or the lab) moved them."""

    http: int = 80
    snmp: int = 161
    ssh: int = 22
    wsd: int = 3702


class DriverOptions(Model):
    timeout_s: float = Field(default=5.0, gt=0, description="Budget for one device call")
    retries: int = Field(default=1, ge=0, le=5, description="Retries for transient faults only")
    ports: Ports = Field(default_factory=Ports)


class FdbEntry(Model):
    """A forwarding-table entry as a switch driver read it (the agent adds the switch id)."""

    port: IfName
    mac: MacAddress
    vlan: int | None = None
    source: str


class LldpEntry(Model):
    local_port: IfName
    chassis_id: str
    port_id: str
    port_description: str | None = None
    system_name: str | None = None
    system_description: str | None = None
    capabilities: list[str] = Field(default_factory=list)
    management_ip: IpAddress | None = None


class ArpEntry(Model):
    ip: IpAddress
    mac: MacAddress


class ReportNote(Model):
    """A part of a device that could not be read while the rest could (becomes a Problem)."""

    kind: ProblemKind
    operation: str
    message: str


class DeviceReport(Model):
    """One driver's view of one device."""

    driver: str
    ip: IpAddress
    role: Role | None = None
    identity: DeviceIdentity | None = None
    network: NetworkSettings | None = None
    onvif: OnvifInfo | None = None
    recorder: RecorderInfo | None = None
    switch: SwitchInfo | None = None
    fdb: list[FdbEntry] = Field(default_factory=list)
    lldp: list[LldpEntry] = Field(default_factory=list)
    arp: list[ArpEntry] = Field(default_factory=list)
    configs: dict[str, str] = Field(default_factory=dict, description="kind -> sanitised text")
    notes: list[ReportNote] = Field(default_factory=list)
    credential: str | None = Field(default=None, description="Name of the credential that worked")


class DeviceDriver(ABC):
    """Reads one device over one protocol. Raises only drivers.errors.*; a partial read is a report
    with notes, not an exception."""

    name: ClassVar[str]
    protocol: ClassVar[str]  # concurrency pool: "onvif", "snmp" or "cli"
    needs_credential: ClassVar[bool] = True

    def __init__(self, ip: str, credential: Credential | None, options: DriverOptions) -> None:
        self.ip = ip
        self.credential = credential
        self.options = options

    @classmethod
    @abstractmethod
    def score(cls, candidate: Candidate) -> int:
        """0 = not mine; higher = more likely mine. No I/O: decide from discovery hints."""

    @abstractmethod
    async def collect(self) -> DeviceReport:
        """Read everything this driver can about the device."""

    async def close(self) -> None:  # noqa: B027 - optional hook, most drivers hold no connection
        """Release connections."""

    @classmethod
    def scan_scope(cls) -> contextlib.AbstractAsyncContextManager[None]:
        """What the driver shares between the devices of one scan (SNMP: one protocol engine), held
        open for the scan by the collector. Most drivers share nothing."""
        return contextlib.nullcontext()

    def describe(self) -> dict[str, Any]:
        return {"driver": self.name, "ip": self.ip}
