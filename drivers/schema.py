"""The snapshot contract, version 1: what an agent sends and the collector stores and diffs.

Shared by the agent and the collector, so it imports only pydantic and the standard library.

Rules (see DESIGN.md, "The snapshot contract"):
- Every record is a frozen model that refuses unknown fields.
- Each record type declares ``KEY`` (what identifies it inside a snapshot) and ``VOLATILE`` (fields
  that are stored but never make a change: uptimes, clocks, counters, measured power).
- MACs, IPs and interface names are normalised here, once, by the annotated types below.
- Secrets never enter a snapshot: there is no field for a password, and configuration text is
  sanitised by the driver before it is put into a ``ConfigText``.
- Changes to this file are additive; a breaking change bumps ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from drivers.normalize import canonical_ifname, canonical_ip, canonical_ip_interface, canonical_mac

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
JSON_SCHEMA_PATH = Path(__file__).with_name("snapshot.schema.json")

# ---------------------------------------------------------------- bounds
# Every list and every string in a snapshot has a declared maximum (DESIGN.md, "Reliability and
# security stance"). They are checked by the validator as it goes: a list longer than its maximum
# is refused on its length before any item is built, and ``fail_fast`` stops a list at its first
# bad item, so a hostile document costs one error, not millions. The figures are generous for the
# largest real site we know of (a few thousand cameras, dozens of switches) and are part of the
# contract: the committed JSON Schema publishes them.
MAX_DEVICES = 10_000
MAX_MAC_ENTRIES = 100_000  # forwarding tables of every switch together
MAX_LLDP_NEIGHBORS = 20_000
MAX_PORT_BINDINGS = 20_000
MAX_CONFIGS = 1_000
MAX_PROBLEMS = 20_000
MAX_PORTS = 1_024  # ports of one switch
MAX_VLANS = 4_094
MAX_CHANNELS = 1_024  # channels of one recorder
MAX_PROFILES = 256
MAX_ITEMS = 256  # scopes, services, users, DNS/NTP servers, drivers, methods, evidence ...
MAX_LABEL_CHARS = 256  # names, tokens, ids, vendor, model, serial, firmware
MAX_TEXT_CHARS = 4_096  # descriptions, locations, URIs, messages
MAX_CONFIG_CHARS = 1024 * 1024  # one device's configuration text
INT64_MIN, INT64_MAX, UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

# A site id ends up in URLs and file names: letters, digits and . _ - only, no "/" or spaces.
SITE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
_SITE_ID = re.compile(SITE_ID_PATTERN)


def check_site_id(value: str) -> str:
    """The one rule for site ids, used by the snapshot contract and wherever a site is created."""
    if not _SITE_ID.fullmatch(value):
        raise ValueError(
            f"site id {value[:80]!r} is not valid: use 1-200 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (no '/' or spaces)"
        )
    return value


def storable(value: str) -> str:
    """Refuse what either database cannot store: NUL (PostgreSQL text and jsonb refuse it) and lone
    surrogates (not encodable as UTF-8). Drivers clean device text before it gets here
    (drivers.sanitize); the collector refuses it at ingest with a 422 naming the field."""
    if "\x00" in value:
        raise ValueError("NUL characters cannot be stored")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("lone surrogate characters (invalid Unicode) cannot be stored") from None
    return value


Label = Annotated[str, Field(max_length=MAX_LABEL_CHARS), AfterValidator(storable)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS), AfterValidator(storable)]
ConfigBody = Annotated[str, Field(max_length=MAX_CONFIG_CHARS), AfterValidator(storable)]
Int = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
Counter64 = Annotated[int, Field(ge=0, le=UINT64_MAX)]


def bounded(maximum: int, **kwargs: Any) -> Any:
    """A list field: default empty, at most ``maximum`` items, stops at its first bad item."""
    return Field(default=(), max_length=maximum, fail_fast=True, **kwargs)


def _require_tz(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a timezone (UTC recommended)")
    return value


def _mac(value: Any) -> str:
    if not isinstance(value, str | bytes) or len(value) > 64:
        raise ValueError(f"not a MAC address: {value!r:.80}")
    return canonical_mac(value)


MacAddress = Annotated[str, BeforeValidator(_mac), Field(description="MAC, canonical aa:bb:cc:dd:ee:ff")]
IpAddress = Annotated[
    str, Field(max_length=64), AfterValidator(canonical_ip), Field(description="IPv4 or IPv6 address")
]
IpInterface = Annotated[
    str, Field(max_length=64), AfterValidator(canonical_ip_interface), Field(description="address/prefix")
]
IfName = Annotated[
    str,
    Field(max_length=MAX_LABEL_CHARS),
    AfterValidator(storable),
    AfterValidator(canonical_ifname),
    Field(description="interface name, canonical"),
]
Timestamp = Annotated[datetime, AfterValidator(_require_tz)]


class Record(BaseModel):
    """Base of every record in a snapshot."""

    # allow_inf_nan: NaN and Infinity are not JSON and PostgreSQL's jsonb refuses them.
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    KEY: ClassVar[tuple[str, ...]] = ()
    VOLATILE: ClassVar[frozenset[str]] = frozenset()

    def key(self) -> tuple[str, ...]:
        """The values of the KEY fields, as strings, for sorting and matching."""
        return tuple("" if getattr(self, name) is None else str(getattr(self, name)) for name in self.KEY)


class Role(StrEnum):
    CAMERA = "camera"
    RECORDER = "recorder"
    SWITCH = "switch"
    OTHER = "other"


class ProblemKind(StrEnum):
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    AUTH = "auth"
    PROTOCOL = "protocol"  # the device answered, but not in a form we could read (bad XML, bad UTF-8)
    UNSUPPORTED = "unsupported"
    PARSE = "parse"
    INTERNAL = "internal"


class Stage(StrEnum):
    SWEEP = "sweep"
    IDENTIFY = "identify"
    COLLECT = "collect"
    CORRELATE = "correlate"
    SNAPSHOT = "snapshot"


# ---------------------------------------------------------------- scan metadata


class SiteRef(Record):
    site_id: Annotated[str, AfterValidator(check_site_id)] = Field(
        description="Stable site identifier (slug)"
    )
    name: Label | None = Field(default=None, description="Human name of the site")


class ScanInfo(Record):
    VOLATILE = frozenset({"started_at", "finished_at", "agent_version", "agent_host"})

    agent_version: Label = Field(description="asbuilt version that took the scan")
    agent_host: Label | None = Field(default=None, description="Host name of the agent machine")
    started_at: Timestamp = Field(description="When the scan started (UTC)")
    finished_at: Timestamp = Field(description="When the scan finished (UTC)")
    scopes: tuple[Text, ...] = bounded(MAX_ITEMS, description="Address ranges scanned, e.g. 10.0.0.0/24")
    methods: tuple[Text, ...] = bounded(MAX_ITEMS, description="Discovery and collection methods used")


# ---------------------------------------------------------------- device facets


class DeviceIdentity(Record):
    vendor: Label | None = Field(default=None, description="Manufacturer as the device reports it")
    model: Label | None = Field(default=None, description="Model name or number")
    serial: Label | None = Field(default=None, description="Serial number")
    firmware: Label | None = Field(default=None, description="Firmware / software version")
    hardware_id: Label | None = Field(default=None, description="Hardware revision or ONVIF HardwareId")
    mac: MacAddress | None = Field(default=None, description="MAC of the primary interface")
    hostname: Label | None = Field(default=None, description="Host name the device reports")
    location: Text | None = Field(default=None, description="Location text (ONVIF scope, sysLocation)")


class NetworkProtocol(Record):
    KEY = ("name",)

    name: Label = Field(description="HTTP, HTTPS, RTSP, ...")
    enabled: bool
    ports: tuple[Annotated[int, Field(ge=0, le=65535)], ...] = bounded(MAX_ITEMS)


class NetworkSettings(Record):
    ip: IpAddress | None = Field(default=None, description="Address the device was reached at")
    prefix_length: int | None = Field(default=None, ge=0, le=128, description="Network prefix length")
    gateway: IpAddress | None = None
    dns: tuple[IpAddress, ...] = bounded(MAX_ITEMS, description="DNS servers")
    ntp: tuple[Text, ...] = bounded(MAX_ITEMS, description="NTP servers (address or name)")
    dhcp: bool | None = Field(default=None, description="True when the address comes from DHCP")
    protocols: tuple[NetworkProtocol, ...] = bounded(MAX_ITEMS, description="Network services and ports")


class OnvifService(Record):
    KEY = ("namespace",)

    namespace: Text = Field(description="Service namespace, e.g. http://www.onvif.org/ver10/device/wsdl")
    xaddr: Text = Field(description="Service address")
    version: Label | None = Field(default=None, description="major.minor")


class VideoEncoderSettings(Record):
    token: Label | None = Field(default=None, description="Encoder configuration token")
    encoding: Label | None = Field(default=None, description="H264, H265, JPEG, ...")
    width: Int | None = None
    height: Int | None = None
    frame_rate: float | None = Field(default=None, description="Frames per second limit")
    bitrate_kbps: Int | None = Field(default=None, description="Bit rate limit in kbit/s")
    gov_length: Int | None = Field(default=None, description="Group-of-video (I-frame interval)")
    quality: float | None = None
    profile: Label | None = Field(default=None, description="Codec profile, e.g. Main, High")


class MediaProfile(Record):
    KEY = ("token",)

    token: Label
    name: Label | None = None
    video_encoder: VideoEncoderSettings | None = None
    stream_uri: Text | None = Field(default=None, description="RTSP URI, without credentials")


class DeviceUser(Record):
    """A user account on the device: name and level only, never a password."""

    KEY = ("username",)

    username: Label
    level: Label = Field(description="Administrator, Operator, User, Anonymous, Extended, ...")


class OnvifInfo(Record):
    # The endpoint reference is an address of the discovery protocol, not a setting: it is read from
    # the device (GetEndpointReference) where the firmware allows, else heard in WS-Discovery, which
    # is UDP and loses replies. A scan that could not observe it must not report it "changed", so it
    # is stored but volatile (identity falls back to it only after MAC and serial: schema.device_id).
    VOLATILE = frozenset({"clock_offset_s", "device_time", "endpoint_reference"})

    endpoint_reference: Label | None = Field(default=None, description="WS-Discovery endpoint (urn:uuid:...)")
    scopes: tuple[Text, ...] = bounded(MAX_ITEMS, description="ONVIF scopes")
    services: tuple[OnvifService, ...] = bounded(MAX_ITEMS)
    profiles: tuple[MediaProfile, ...] = bounded(MAX_PROFILES)
    users: tuple[DeviceUser, ...] = bounded(MAX_ITEMS)
    clock_offset_s: float | None = Field(default=None, description="Device clock minus agent clock")
    device_time: Timestamp | None = Field(default=None, description="Device UTC time when read")
    unsupported_operations: tuple[str, ...] = Field(
        default=(),
        description="Optional ONVIF operations the device answered 'not supported' (a capability fact, "
        "not a problem), sorted",
    )


class RecorderChannel(Record):
    """One recording channel of an NVR and the camera it records."""

    KEY = ("channel",)

    channel: int = Field(ge=0, le=INT64_MAX, description="Channel number as the recorder shows it")
    name: Label | None = None
    recording_token: Label | None = None
    source_id: Text | None = Field(default=None, description="Source identifier the recorder reports")
    source_address: Text | None = Field(default=None, description="Address of the recorded camera")
    camera_id: Text | None = Field(default=None, description="Device.id of the recorded camera, if found")
    recording_days: Int | None = Field(default=None, description="Retention configured, in days")


class RecorderInfo(Record):
    channel_count: int | None = Field(
        default=None, ge=0, le=INT64_MAX, description="Channels the recorder has"
    )
    channels: tuple[RecorderChannel, ...] = bounded(MAX_CHANNELS)


class PoeStatus(StrEnum):
    DISABLED = "disabled"
    SEARCHING = "searching"
    DELIVERING = "delivering"
    FAULT = "fault"
    TEST = "test"
    OTHER_FAULT = "other-fault"


class PoePort(Record):
    VOLATILE = frozenset({"power_w"})

    admin_enabled: bool | None = None
    status: PoeStatus | None = None
    power_class: int | None = Field(default=None, ge=0, le=8, description="IEEE 802.3af/at/bt class")
    power_w: float | None = Field(default=None, ge=0, description="Power drawn now, watts")


class SwitchPort(Record):
    KEY = ("name",)
    VOLATILE = frozenset({"in_octets", "out_octets"})

    if_index: Int | None = Field(default=None, description="SNMP ifIndex")
    name: IfName
    alias: Text | None = Field(default=None, description="Port description set by the installer")
    admin_up: bool | None = None
    oper_up: bool | None = None
    speed_mbps: Int | None = None
    vlan: int | None = Field(default=None, ge=1, le=4094, description="Access / native VLAN (PVID)")
    poe: PoePort | None = None
    is_uplink: bool = Field(default=False, description="Leads to another switch (LLDP or FDB evidence)")
    in_octets: Counter64 | None = None
    out_octets: Counter64 | None = None


class Vlan(Record):
    KEY = ("vlan_id",)

    vlan_id: int = Field(ge=1, le=4094)
    name: Label | None = None


class SwitchInfo(Record):
    VOLATILE = frozenset({"uptime_s", "poe_consumption_w"})

    sys_object_id: Label | None = None
    sys_descr: Text | None = None
    ports: tuple[SwitchPort, ...] = bounded(MAX_PORTS)
    vlans: tuple[Vlan, ...] = bounded(MAX_VLANS)
    poe_budget_w: float | None = None
    poe_consumption_w: float | None = None
    uptime_s: Int | None = None


class Attachment(Record):
    """Where a device is plugged in: its edge switch port, as correlation found it."""

    VOLATILE = frozenset({"poe_power_w"})

    switch_id: Text = Field(description="Device.id of the switch")
    switch_name: Label | None = None
    port: IfName
    vlan: Int | None = None
    poe_status: PoeStatus | None = None
    poe_class: Int | None = None
    poe_power_w: float | None = None


class Device(Record):
    """One device on the site: camera, recorder, switch or other."""

    KEY = ("id",)
    VOLATILE = frozenset({"discovered_by", "uptime_s"})

    id: Text = Field(
        description="Identity: mac:<mac>, else serial:<vendor>:<serial>, else wsd:<uuid>, else ip:<ip>"
    )
    role: Role
    identity: DeviceIdentity = Field(default_factory=DeviceIdentity)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    onvif: OnvifInfo | None = None
    recorder: RecorderInfo | None = None
    switch: SwitchInfo | None = None
    attachment: Attachment | None = None
    drivers: tuple[Label, ...] = bounded(MAX_ITEMS, description="Drivers that read this device")
    discovered_by: tuple[Label, ...] = bounded(MAX_ITEMS, description="Discovery methods that saw it")
    uptime_s: Int | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_identity(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id"):
            identity, network, onvif = (data.get(k) for k in ("identity", "network", "onvif"))
            data = {
                **data,
                "id": device_id(
                    mac=_part(identity, "mac"),
                    vendor=_part(identity, "vendor"),
                    serial=_part(identity, "serial"),
                    endpoint_reference=_part(onvif, "endpoint_reference"),
                    ip=_part(network, "ip"),
                ),
            }
        return data


def _part(obj: Any, name: str) -> str | None:
    """A text field of a facet given either as a model or as a plain dict (before validation); anything
    but a short string is left for the field's own validator to refuse."""
    value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return value if isinstance(value, str) and len(value) <= MAX_TEXT_CHARS else None


def device_id(
    *,
    mac: Label | None = None,
    vendor: Label | None = None,
    serial: Label | None = None,
    endpoint_reference: Label | None = None,
    ip: Label | None = None,
) -> str:
    """Identity rule: MAC of the primary interface, else vendor+serial, else WSD endpoint, else IP."""
    if mac:
        return f"mac:{canonical_mac(mac)}"
    if serial:
        return f"serial:{(vendor or 'unknown').strip().lower()}:{serial.strip()}"
    if endpoint_reference:
        return f"wsd:{endpoint_reference.strip().lower()}"
    if ip:
        return f"ip:{canonical_ip(ip)}"
    raise ValueError("a device needs a MAC, a serial, a WS-Discovery endpoint or an IP to be identified")


# ---------------------------------------------------------------- tables


class MacEntry(Record):
    """One forwarding-table entry of a switch."""

    KEY = ("switch_id", "vlan", "mac")
    VOLATILE = frozenset({"source"})

    switch_id: Text
    port: IfName
    mac: MacAddress
    vlan: Int | None = None
    source: Label | None = Field(default=None, description="snmp:q-bridge, snmp:bridge, cli, ...")


class LldpNeighbor(Record):
    KEY = ("switch_id", "local_port", "chassis_id", "port_id")

    switch_id: Text
    local_port: IfName
    chassis_id: Text = Field(description="Remote chassis id (a MAC when its subtype is macAddress)")
    port_id: Text = Field(description="Remote port id")
    port_description: Text | None = None
    system_name: Label | None = None
    system_description: Text | None = None
    capabilities: tuple[Label, ...] = bounded(MAX_ITEMS, description="bridge, router, telephone, ...")
    management_ip: IpAddress | None = None


class PortBinding(Record):
    """Correlation result: this MAC (and device) sits on this edge port."""

    KEY = ("switch_id", "port", "mac")
    # Which sources confirmed a binding depends on what this scan heard (an mDNS announcement adds
    # "arp" evidence, a lost one removes it): how we know, not what is, so it never makes a change.
    VOLATILE = frozenset({"evidence"})

    switch_id: Text
    port: IfName
    mac: MacAddress
    device_id: Text | None = Field(
        default=None, description="Device.id when the MAC belongs to a known device"
    )
    ip: IpAddress | None = None
    vlan: Int | None = None
    evidence: tuple[Label, ...] = bounded(MAX_ITEMS, description="e.g. ('fdb', 'arp', 'poe')")


class ConfigText(Record):
    """A device's configuration as text, already passed through the driver's secret filter."""

    KEY = ("device_id", "kind")

    device_id: Text
    kind: Label = Field(description="running-config, startup-config, ...")
    text: ConfigBody
    source: Label | None = Field(default=None, description="Driver that read it")


class Problem(Record):
    """Something that could not be read, and why. Partial results are normal."""

    KEY = ("target", "driver", "stage", "kind")
    VOLATILE = frozenset({"message"})

    target: Text = Field(description="IP, host or device id the problem concerns")
    driver: Label = Field(description="Driver or component: onvif, snmp, cli.cisco_ios, arp, ...")
    stage: Stage
    kind: ProblemKind
    message: Annotated[str, Field(max_length=2000), AfterValidator(storable)]
    device_id: Text | None = None


# ---------------------------------------------------------------- the snapshot


def _sorted(records: Iterable[Record]) -> tuple[Any, ...]:
    return tuple(sorted(records, key=lambda r: r.key()))


class Snapshot(Record):
    """One scan of one site. Its identity is the sha256 of its significant content."""

    schema_version: Literal[1] = Field(default=1, description="Contract version (SCHEMA_VERSION)")
    site: SiteRef
    scan: ScanInfo
    devices: tuple[Device, ...] = bounded(MAX_DEVICES)
    mac_table: tuple[MacEntry, ...] = bounded(MAX_MAC_ENTRIES)
    lldp_neighbors: tuple[LldpNeighbor, ...] = bounded(MAX_LLDP_NEIGHBORS)
    port_bindings: tuple[PortBinding, ...] = bounded(MAX_PORT_BINDINGS)
    configs: tuple[ConfigText, ...] = bounded(MAX_CONFIGS)
    problems: tuple[Problem, ...] = bounded(MAX_PROBLEMS)

    @model_validator(mode="after")
    def _canonical_order(self) -> Snapshot:
        # Records are stored in key order so that equal content gives equal JSON.
        for name in ("devices", "mac_table", "lldp_neighbors", "port_bindings", "configs", "problems"):
            records = getattr(self, name)
            ordered = _sorted(records)
            counts = Counter(r.key() for r in ordered)
            if len(counts) != len(ordered):  # one pass: 20k duplicates must not cost seconds
                dupes = sorted(k for k, n in counts.items() if n > 1)
                raise ValueError(f"{name}: {len(ordered) - len(counts)} duplicate keys, e.g. {dupes[:3]}")
            object.__setattr__(self, name, ordered)
        return self

    def device(self, device_id: str) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def canonical_json(self) -> str:
        """The whole snapshot as canonical JSON (sorted keys, records in key order)."""
        return canonical_dumps(self.model_dump(mode="json"))

    def content_hash(self) -> str:
        """sha256 of the significant content: volatile fields do not take part."""
        return hashlib.sha256(canonical_dumps(significant(self)).encode()).hexdigest()


def canonical_dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def significant(value: Any) -> Any:
    """A JSON-ready copy of a record without its volatile fields, recursively."""
    if isinstance(value, Record):
        return {
            name: significant(getattr(value, name))
            for name in type(value).model_fields
            if name not in type(value).VOLATILE
        }
    if isinstance(value, tuple | list):
        return [significant(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def json_schema() -> dict[str, Any]:
    schema = Snapshot.model_json_schema()
    schema["$id"] = f"https://asbuilt.invalid/schema/snapshot/v{SCHEMA_VERSION}.json"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # python -m drivers.schema  → rewrites the committed JSON Schema
    JSON_SCHEMA_PATH.write_text(json_schema_text())
    print(f"wrote {JSON_SCHEMA_PATH}")
