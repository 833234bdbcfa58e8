"""ONVIF replies (as zeep deserialised them) → snapshot records. Pure functions, no I/O.

Why zeep objects and not our own XML parsing: the live driver gets zeep objects from
onvif-zeep-async anyway, and the fixture tests push recorded reply bodies through the very same
zeep deserialisation (drivers/onvif/replay.py). One parsing path, tested on recorded bytes. Every
field is read with `_get`, which tolerates missing elements: firmware leaves out optional parts
of the schema all the time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from drivers.normalize import LABEL_CHARS, TEXT_CHARS, canonical_ip, canonical_mac, clean_text
from drivers.schema import (
    DeviceIdentity,
    DeviceUser,
    NetworkProtocol,
    OnvifService,
    RecorderChannel,
    VideoEncoderSettings,
)

SCOPE_PREFIX = "onvif://www.onvif.org/"
RECORDING_NS = "http://www.onvif.org/ver10/recording/wsdl"
SEARCH_NS = "http://www.onvif.org/ver10/search/wsdl"

# Capability names in GetCapabilities and the service namespace each stands for.
_CAPABILITY_NAMESPACES = {
    "Device": "http://www.onvif.org/ver10/device/wsdl",
    "Media": "http://www.onvif.org/ver10/media/wsdl",
    "Events": "http://www.onvif.org/ver10/events/wsdl",
    "Imaging": "http://www.onvif.org/ver20/imaging/wsdl",
    "PTZ": "http://www.onvif.org/ver20/ptz/wsdl",
    "Analytics": "http://www.onvif.org/ver20/analytics/wsdl",
    "DeviceIO": "http://www.onvif.org/ver10/deviceIO/wsdl",
    "Recording": RECORDING_NS,
    "Search": SEARCH_NS,
    "Replay": "http://www.onvif.org/ver10/replay/wsdl",
    "Receiver": "http://www.onvif.org/ver10/receiver/wsdl",
}
# Query keys and path segments under which cheap firmware puts the login into a stream URI.
_CREDENTIAL_KEYS = frozenset({"user", "username", "usr", "password", "pass", "passwd", "pwd"})


def _get(obj: Any, *path: str) -> Any:
    """obj.a.b.c, or None as soon as a step is missing (zeep objects, dicts or None)."""
    for name in path:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def _text(value: Any, limit: int = LABEL_CHARS) -> str | None:
    """A reply value as one line of text fit for a snapshot (controls removed, at most ``limit``)."""
    if value is None:
        return None
    text = " ".join(clean_text(str(value)[: limit * 4], limit).split())
    return text or None


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _ip_or_none(value: Any) -> str | None:
    try:
        return canonical_ip(str(value)) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------- device management


def parse_device_information(reply: Any) -> DeviceIdentity:
    """GetDeviceInformation → vendor, model, firmware, serial, hardware id.

    Example:: Manufacturer "AXIS", Model "P3245-LVE" → DeviceIdentity(vendor="AXIS", model="P3245-LVE", ...)
    """
    return DeviceIdentity(
        vendor=_text(_get(reply, "Manufacturer")),
        model=_text(_get(reply, "Model")),
        firmware=_text(_get(reply, "FirmwareVersion")),
        serial=_text(_get(reply, "SerialNumber")),
        hardware_id=_text(_get(reply, "HardwareId")),
    )


def parse_system_date_and_time(reply: Any) -> dt.datetime | None:
    """GetSystemDateAndTime → the device's UTC time (None when it only reports local time)."""
    date, time = _get(reply, "UTCDateTime", "Date"), _get(reply, "UTCDateTime", "Time")
    try:
        return dt.datetime(
            int(_get(date, "Year")),
            int(_get(date, "Month")),
            int(_get(date, "Day")),
            int(_get(time, "Hour")),
            int(_get(time, "Minute")),
            int(_get(time, "Second")),
            tzinfo=dt.UTC,
        )
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class InterfaceFacts:
    mac: str | None = None
    ip: str | None = None
    prefix_length: int | None = None
    dhcp: bool | None = None


def parse_network_interfaces(reply: Any, reached_ip: str | None = None) -> InterfaceFacts:
    """GetNetworkInterfaces → the primary interface: the one holding the address we reached,
    else the first enabled one with a MAC."""
    candidates: list[InterfaceFacts] = []
    for nic in _items(reply):
        if _get(nic, "Enabled") is False:
            continue
        mac = None
        with contextlib.suppress(ValueError):
            mac = canonical_mac(str(_get(nic, "Info", "HwAddress") or ""))
        config = _get(nic, "IPv4", "Config")
        dhcp = _get(config, "DHCP")
        addresses = _items(_get(config, "FromDHCP")) if dhcp else []
        addresses += _items(_get(config, "Manual")) + _items(_get(config, "FromDHCP"))
        ip, prefix = None, None
        for address in addresses:
            ip, prefix = _ip_or_none(_get(address, "Address")), _get(address, "PrefixLength")
            if ip and (reached_ip is None or ip == reached_ip):
                break
        candidates.append(
            InterfaceFacts(
                mac=mac, ip=ip, prefix_length=int(prefix) if prefix is not None else None, dhcp=dhcp
            )
        )
    for facts in candidates:
        if reached_ip and facts.ip == reached_ip:
            return facts
    return next((f for f in candidates if f.mac), candidates[0] if candidates else InterfaceFacts())


def parse_endpoint_reference(reply: Any) -> str | None:
    """GetEndpointReference → the WS-Discovery endpoint (``urn:uuid:...``), as the device spells it."""
    return _text(reply if isinstance(reply, str) else _get(reply, "GUID"))


def parse_hostname(reply: Any) -> str | None:
    return _text(_get(reply, "Name"))


def parse_default_gateway(reply: Any) -> str | None:
    for value in _items(_get(reply, "IPv4Address")) + _items(_get(reply, "IPv6Address")):
        ip = _ip_or_none(value)
        if ip and ip not in ("0.0.0.0", "::"):
            return ip
    return None


def _host_addresses(hosts: Iterable[Any]) -> list[str]:
    """IPAddress / NetworkHost entries → addresses (or DNS names for NetworkHost of type DNS)."""
    out: list[str] = []
    for host in hosts:
        value = _get(host, "IPv4Address") or _get(host, "IPv6Address") or _get(host, "DNSname")
        text = _text(value)
        if text and text not in out and text not in ("0.0.0.0", "::"):
            out.append(text)
    return out


def parse_dns(reply: Any) -> tuple[str, ...]:
    """GetDNS → DNS server addresses in use (DHCP-provided when FromDHCP is set)."""
    hosts = _items(_get(reply, "DNSFromDHCP")) if _get(reply, "FromDHCP") else []
    hosts += _items(_get(reply, "DNSManual"))
    return tuple(a for a in _host_addresses(hosts) if _ip_or_none(a))


def parse_ntp(reply: Any) -> tuple[str, ...]:
    """GetNTP → NTP servers in use (address or name)."""
    hosts = _items(_get(reply, "NTPFromDHCP")) if _get(reply, "FromDHCP") else []
    hosts += _items(_get(reply, "NTPManual"))
    return tuple(_host_addresses(hosts))


def parse_network_protocols(reply: Any) -> tuple[NetworkProtocol, ...]:
    protocols: dict[str, NetworkProtocol] = {}
    for item in _items(reply):
        name = _text(_get(item, "Name"))
        if not name:
            continue
        ports = tuple(sorted({int(p) for p in _items(_get(item, "Port")) if str(p).isdigit()}))
        protocols[name.upper()] = NetworkProtocol(
            name=name.upper(), enabled=bool(_get(item, "Enabled")), ports=ports
        )
    return tuple(sorted(protocols.values(), key=lambda p: p.name))


def parse_scopes(reply: Any) -> tuple[str, ...]:
    """GetScopes → the scope URIs, in the device's order, without duplicates."""
    out: list[str] = []
    for item in _items(reply):
        scope = _text(_get(item, "ScopeItem") if not isinstance(item, str) else item, TEXT_CHARS)
        if scope and scope not in out:
            out.append(scope)
    return tuple(out)


def scope_values(scopes: Iterable[str], category: str) -> list[str]:
    """Values of ``onvif://www.onvif.org/<category>/<value>`` scopes, percent-decoded.

    Example:: scope_values(["onvif://www.onvif.org/location/Main%20gate"], "location") == ["Main gate"]
    """
    prefix = f"{SCOPE_PREFIX}{category}/".lower()
    return [
        unquote(s[len(prefix) :]) for s in scopes if s.lower().startswith(prefix) and len(s) > len(prefix)
    ]


def location_from_scopes(scopes: Iterable[str]) -> str | None:
    """The installer's location text. Factory defaults such as ``country/china`` or
    ``city/hangzhou`` are not a location anyone typed, so they do not count."""
    for value in scope_values(scopes, "location"):
        if value.split("/")[0].lower() in ("country", "city", "region"):
            continue
        return _text(value)
    return None


def parse_services(reply: Any) -> tuple[OnvifService, ...]:
    """GetServices → (namespace, advertised XAddr, major.minor) per service."""
    services: dict[str, OnvifService] = {}
    for item in _items(reply):
        namespace, xaddr = _text(_get(item, "Namespace"), TEXT_CHARS), _text(_get(item, "XAddr"), TEXT_CHARS)
        if not namespace or not xaddr:
            continue
        major, minor = _get(item, "Version", "Major"), _get(item, "Version", "Minor")
        version = f"{major}.{minor}" if major is not None and minor is not None else None
        services[namespace] = OnvifService(namespace=namespace, xaddr=xaddr, version=version)
    return tuple(sorted(services.values(), key=lambda s: s.namespace))


def parse_capabilities(reply: Any) -> tuple[OnvifService, ...]:
    """GetCapabilities (for devices without GetServices) → services, without versions.

    Recording, search and replay sit under ``Extension`` in this older structure.
    """
    services: dict[str, OnvifService] = {}
    for holder in (reply, _get(reply, "Extension")):
        for name, namespace in _CAPABILITY_NAMESPACES.items():
            xaddr = _text(_get(holder, name, "XAddr"), TEXT_CHARS)
            if xaddr:
                services[namespace] = OnvifService(namespace=namespace, xaddr=xaddr)
    return tuple(sorted(services.values(), key=lambda s: s.namespace))


def parse_users(reply: Any) -> tuple[DeviceUser, ...]:
    """GetUsers → user names and levels. The reply may carry passwords; they are never read."""
    users: dict[str, DeviceUser] = {}
    for item in _items(reply):
        name = _text(_get(item, "Username"))
        if name:
            users[name] = DeviceUser(username=name, level=_text(_get(item, "UserLevel")) or "Unknown")
    return tuple(sorted(users.values(), key=lambda u: u.username))


# ---------------------------------------------------------------- media


@dataclass(frozen=True)
class ProfileFacts:
    token: str
    name: str | None
    video_encoder: VideoEncoderSettings | None


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def parse_profiles(reply: Any) -> list[ProfileFacts]:
    """Media GetProfiles → token, name and video encoder settings per profile."""
    profiles: list[ProfileFacts] = []
    for item in _items(reply):
        token = _text(_get(item, "token"))
        if not token:
            continue
        vec = _get(item, "VideoEncoderConfiguration")
        encoder = None
        if vec is not None:
            encoding = _text(_get(vec, "Encoding"))
            codec = _get(vec, "H264") if encoding == "H264" else _get(vec, "MPEG4")
            encoder = VideoEncoderSettings(
                token=_text(_get(vec, "token")),
                encoding=encoding,
                width=_number(_get(vec, "Resolution", "Width"), int),
                height=_number(_get(vec, "Resolution", "Height"), int),
                frame_rate=_number(_get(vec, "RateControl", "FrameRateLimit"), float),
                bitrate_kbps=_number(_get(vec, "RateControl", "BitrateLimit"), int),
                gov_length=_number(_get(codec, "GovLength"), int),
                quality=_number(_get(vec, "Quality"), float),
                profile=_text(_get(codec, "H264Profile") or _get(codec, "Mpeg4Profile")),
            )
        profiles.append(ProfileFacts(token=token, name=_text(_get(item, "Name")), video_encoder=encoder))
    return profiles


def strip_credentials(uri: str) -> str:
    """A stream URI without any login in it: userinfo, ``user=``/``password=`` query keys, and the
    ``/user=admin&password=x&channel=1`` path style of XiongMai-based OEM firmware.

    Example:: strip_credentials("rtsp://admin:pw@10.0.0.5/s?pass=pw&ch=1") == "rtsp://10.0.0.5/s?ch=1"
    """
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = "&".join(_without_credentials(parts.query.split("&"))) if parts.query else ""
    path = "/".join("&".join(_without_credentials(segment.split("&"))) for segment in parts.path.split("/"))
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


def _without_credentials(pairs: list[str]) -> list[str]:
    """``key=value`` pieces minus those whose key names a login; other pieces stay byte for byte."""
    return [p for p in pairs if "=" not in p or unquote(p.split("=", 1)[0]).lower() not in _CREDENTIAL_KEYS]


def parse_stream_uri(reply: Any) -> str | None:
    uri = _text(_get(reply, "Uri"), TEXT_CHARS)
    return strip_credentials(uri) if uri else None


# ---------------------------------------------------------------- recording and search

_NAMED_CHANNEL = re.compile(r"^[A-Za-z]+[_\-]?(\d+)$")  # Record_3, Recording3, Channel-3
_HIKVISION_CHANNEL = re.compile(r"^(\d{1,3})0\d$")  # Hikvision NVR: channel then stream, 0101 / 1601 / 101


def channel_number(token: str | None, position: int) -> int:
    """The channel a recording belongs to, from its token when the firmware's naming says so,
    else its 1-based position in GetRecordings."""
    text = (token or "").strip()
    for pattern in (_NAMED_CHANNEL, _HIKVISION_CHANNEL):
        match = pattern.match(text)
        if match and int(match.group(1)) > 0:
            return int(match.group(1))
    return position


def _retention_days(value: Any) -> int | None:
    if isinstance(value, dt.timedelta):
        return round(value.total_seconds() / 86400) if value.total_seconds() > 0 else None
    return None


def parse_recordings(reply: Any) -> tuple[RecorderChannel, ...]:
    """Recording GetRecordings → one channel per recording, with the source camera it records.

    Channels nobody connected yet come as recordings with an empty source: they are listed too,
    since the channel count is part of the as-built record.
    """
    channels: dict[int, RecorderChannel] = {}
    for position, item in enumerate(_items(reply), start=1):
        token = _text(_get(item, "RecordingToken"))
        source = _get(item, "Configuration", "Source")
        source_id = _text(_get(source, "SourceId"))
        number = channel_number(token, position)
        if number in channels:
            number = max(channels) + 1
        address = _text(_get(source, "Address"), TEXT_CHARS)
        channels[number] = RecorderChannel(
            channel=number,
            name=_text(_get(source, "Name")) or _text(_get(item, "Configuration", "Content")),
            recording_token=token,
            source_id=strip_credentials(source_id) if source_id and "://" in source_id else source_id,
            source_address=address,
            recording_days=_retention_days(_get(item, "Configuration", "MaximumRetentionTime")),
        )
    return tuple(channels[n] for n in sorted(channels))


def parse_recording_summary(reply: Any) -> int | None:
    """Search GetRecordingSummary → number of recordings the recorder holds."""
    return _number(_get(reply, "NumberRecordings"), int)
