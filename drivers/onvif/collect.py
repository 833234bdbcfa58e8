"""What to ask an ONVIF device, in which order, and what a failure of each question means.

Works on any `Session` (live HTTP in transport.py, recorded bodies in replay.py), so the same
sequence runs against real cameras, the lab and the fixture folders.

Identity is read first (GetDeviceInformation, right after the clock), and every operation after it
is isolated: a failure is a ReportNote for that operation and the device keeps whatever else it
answered (a camera whose GetServices crashes still has its vendor, model, serial and firmware).

Fatal (raised): the device does not answer (Unreachable, DeviceTimeout on the first calls), the
credential is refused on the identity call (AuthError), or nothing identifying could be read at all
(neither GetDeviceInformation nor GetNetworkInterfaces, and no service list): then it is not an
ONVIF device we can read, and the first error says why.

An optional operation the device answers "not supported" is a capability fact, recorded in
`OnvifInfo.unsupported_operations`, not a problem.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from drivers.base import DeviceReport, ReportNote
from drivers.errors import AuthError, DeviceTimeout, DriverError, NotSupported, ProtocolError, Unreachable
from drivers.onvif import parse
from drivers.schema import (
    DeviceIdentity,
    MediaProfile,
    NetworkSettings,
    OnvifInfo,
    OnvifService,
    RecorderChannel,
    RecorderInfo,
    Role,
)

log = logging.getLogger(__name__)

DEVICE, MEDIA, RECORDING, SEARCH = "devicemgmt", "media", "recording", "search"
# Service namespaces we call, by the onvif-zeep-async service name that holds their WSDL.
SERVICE_NAMESPACES = {
    MEDIA: "http://www.onvif.org/ver10/media/wsdl",
    RECORDING: parse.RECORDING_NS,
    SEARCH: parse.SEARCH_NS,
}
MAX_PROFILES = 64  # stream URIs are fetched one call per profile; a 64-channel NVR is the largest we plan for
STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}


class Session(Protocol):
    host: str

    def use_services(self, advertised: dict[str, str]) -> None: ...
    async def set_clock_offset(self, offset_s: float) -> None: ...
    def has_service(self, name: str) -> bool: ...
    async def call(
        self, service: str, operation: str, params: dict[str, Any] | None = None, *, auth: bool = True
    ) -> Any: ...
    async def close(self) -> None: ...


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class ClockReading:
    device_time: dt.datetime
    offset_s: float  # device clock minus agent clock


@dataclass
class _Notes:
    items: list[ReportNote] = field(default_factory=list)
    unsupported: set[str] = field(default_factory=set)  # operations the device does not implement
    gone: Unreachable | None = None  # set by a concurrent call that found the device gone

    def add(self, error: DriverError, operation: str) -> None:
        if isinstance(error, NotSupported):
            self.unsupported.add(operation)
            return
        self.items.append(ReportNote(kind=error.kind, operation=operation, message=str(error)[:500]))


async def read_clock(session: Session, now: Callable[[], dt.datetime] = utcnow) -> ClockReading | None:
    """Measure the device clock before any signed call.

    GetSystemDateAndTime is pre-auth in the ONVIF core spec, so it is asked without a token first:
    a camera whose clock is hours off would reject a token signed with our time. Some firmware
    (and ipycam) demands a token even here; then we ask again signed and hope the skew is small.
    The offset is taken against the middle of the round trip.
    """
    started = now()
    try:
        reply = await session.call(DEVICE, "GetSystemDateAndTime", auth=False)
    except (AuthError, ProtocolError):
        started = now()
        reply = await session.call(DEVICE, "GetSystemDateAndTime")
    finished = now()
    device_time = parse.parse_system_date_and_time(reply)
    if device_time is None:
        return None
    midpoint = started + (finished - started) / 2
    return ClockReading(device_time=device_time, offset_s=round((device_time - midpoint).total_seconds(), 1))


async def _services(session: Session, notes: _Notes) -> tuple[OnvifService, ...] | None:
    """GetServices (with versions), else GetCapabilities for firmware older than ONVIF 2.0; None when
    neither answers (then only the device service, at the address we reached, is used)."""
    try:
        return parse.parse_services(await session.call(DEVICE, "GetServices", {"IncludeCapability": False}))
    except (Unreachable, DeviceTimeout, AuthError):
        raise
    except DriverError as exc:
        log.debug("%s: GetServices failed (%s), trying GetCapabilities", session.host, exc)
        notes.add(exc, "GetServices")
    except Exception as exc:  # a parser that met an answer it cannot handle: that answer is lost, no more
        notes.add(DriverError(f"unreadable reply: {type(exc).__name__}: {exc}"), "GetServices")
    try:
        return parse.parse_capabilities(await session.call(DEVICE, "GetCapabilities", {"Category": "All"}))
    except (Unreachable, DeviceTimeout, AuthError):
        raise
    except DriverError as exc:
        notes.add(exc, "GetCapabilities")
    except Exception as exc:
        notes.add(DriverError(f"unreadable reply: {type(exc).__name__}: {exc}"), "GetCapabilities")
    return None


async def _optional(notes: _Notes, operation: str, call: Awaitable[Any]) -> Any:
    """Run one optional call: its failure is a note (or, for "not supported", a capability fact),
    except a device that went away, which is remembered and raised by `_raise_if_gone` once the
    concurrent calls have all finished."""
    try:
        return await call
    except Unreachable as exc:
        notes.gone = exc
        return None
    except DriverError as exc:
        notes.add(exc, operation)
        return None


def _raise_if_gone(notes: _Notes) -> None:
    if notes.gone is not None:
        raise notes.gone


def decide_role(
    scopes: tuple[str, ...], services: tuple[OnvifService, ...], channel_count: int | None
) -> Role:
    """Recorder or camera.

    A recorder says so in its type scope (NetworkVideoStorage) or has more than one channel. A
    recording/search service alone is not enough: ONVIF Profile G cameras with an SD card
    advertise both for their single edge recording.
    """
    types = {t.lower() for t in parse.scope_values(scopes, "type")}
    if "networkvideostorage" in types or (channel_count or 0) > 1:
        return Role.RECORDER
    namespaces = {s.namespace for s in services}
    if {parse.RECORDING_NS, parse.SEARCH_NS} & namespaces and channel_count is None:
        return Role.RECORDER
    return Role.CAMERA


async def read_device(
    session: Session, *, driver: str = "onvif", now: Callable[[], dt.datetime] = utcnow
) -> DeviceReport:
    """Everything ONVIF tells about one device, as one DeviceReport."""
    notes = _Notes()
    clock: ClockReading | None = None
    try:
        clock = await read_clock(session, now)
    except (Unreachable, DeviceTimeout):
        raise
    except DriverError as exc:
        notes.add(exc, "GetSystemDateAndTime")
    if clock is not None:
        await session.set_clock_offset(clock.offset_s)

    # Identity first: whatever fails after this, the device keeps who it is.
    identity = DeviceIdentity()
    identity_error: DriverError | None = None
    try:
        identity = parse.parse_device_information(await session.call(DEVICE, "GetDeviceInformation"))
    except (Unreachable, AuthError, DeviceTimeout):
        raise
    except DriverError as exc:
        identity_error = exc
        notes.add(exc, "GetDeviceInformation")

    services = await _services(session, notes)
    if services is None and identity_error is not None:
        raise identity_error  # nothing ONVIF answered usefully: not a device we can read
    services = services or ()
    session.use_services(
        {name: s.xaddr for s in services for name, ns in SERVICE_NAMESPACES.items() if s.namespace == ns}
    )

    names = (
        "GetScopes",
        "GetNetworkInterfaces",
        "GetHostname",
        "GetNetworkDefaultGateway",
        "GetDNS",
        "GetNTP",
        "GetNetworkProtocols",
        "GetUsers",
        "GetEndpointReference",
    )
    replies = dict(
        zip(
            names,
            await asyncio.gather(*(_optional(notes, n, session.call(DEVICE, n)) for n in names)),
            strict=True,
        )
    )
    _raise_if_gone(notes)
    if isinstance(identity_error, ProtocolError) and replies["GetNetworkInterfaces"] is None:
        # Neither serial nor MAC could be read: the device cannot be identified, so its replies
        # are unusable as a whole (broken XML on every signed call), not just one quirky answer.
        raise identity_error
    profiles = await _media_profiles(session, notes)
    recorder = await _recorder(session, notes)
    _raise_if_gone(notes)

    scopes = parse.parse_scopes(replies["GetScopes"]) if replies["GetScopes"] is not None else ()
    nic = parse.parse_network_interfaces(replies["GetNetworkInterfaces"], reached_ip=session.host)
    identity = identity.model_copy(
        update={
            "mac": nic.mac,
            "hostname": parse.parse_hostname(replies["GetHostname"]),
            "location": parse.location_from_scopes(scopes),
        }
    )
    network = NetworkSettings(
        ip=session.host,
        prefix_length=nic.prefix_length,
        dhcp=nic.dhcp,
        gateway=parse.parse_default_gateway(replies["GetNetworkDefaultGateway"]),
        dns=parse.parse_dns(replies["GetDNS"]),
        ntp=parse.parse_ntp(replies["GetNTP"]),
        protocols=parse.parse_network_protocols(replies["GetNetworkProtocols"]),
    )
    guid = replies["GetEndpointReference"]
    onvif = OnvifInfo(
        endpoint_reference=parse.parse_endpoint_reference(guid),
        scopes=scopes,
        services=services,
        profiles=profiles,
        users=parse.parse_users(replies["GetUsers"]),
        clock_offset_s=clock.offset_s if clock else None,
        device_time=clock.device_time if clock else None,
        unsupported_operations=tuple(sorted(notes.unsupported)),
    )
    role = decide_role(scopes, services, recorder.channel_count if recorder else None)
    return DeviceReport(
        driver=driver,
        ip=session.host,
        role=role,
        identity=identity,
        network=network,
        onvif=onvif,
        recorder=recorder if role is Role.RECORDER else None,
        notes=notes.items,
    )


async def _media_profiles(session: Session, notes: _Notes) -> tuple[MediaProfile, ...]:
    if not session.has_service(MEDIA):
        return ()
    reply = await _optional(notes, "GetProfiles", session.call(MEDIA, "GetProfiles"))
    facts = parse.parse_profiles(reply)[:MAX_PROFILES]
    uris = await asyncio.gather(
        *(
            _optional(
                notes,
                "GetStreamUri",
                session.call(MEDIA, "GetStreamUri", {"StreamSetup": STREAM_SETUP, "ProfileToken": p.token}),
            )
            for p in facts
        )
    )
    return tuple(
        sorted(
            (
                MediaProfile(
                    token=p.token,
                    name=p.name,
                    video_encoder=p.video_encoder,
                    stream_uri=parse.parse_stream_uri(uri),
                )
                for p, uri in zip(facts, uris, strict=True)
            ),
            key=lambda m: m.token,
        )
    )


async def _recorder(session: Session, notes: _Notes) -> RecorderInfo | None:
    if not (session.has_service(RECORDING) or session.has_service(SEARCH)):
        return None
    channels: tuple[RecorderChannel, ...] = ()
    count: int | None = None
    if session.has_service(RECORDING):
        reply = await _optional(notes, "GetRecordings", session.call(RECORDING, "GetRecordings"))
        if reply is not None:
            channels = parse.parse_recordings(reply)
            count = len(channels)
    if session.has_service(SEARCH):
        reply = await _optional(notes, "GetRecordingSummary", session.call(SEARCH, "GetRecordingSummary"))
        summary = parse.parse_recording_summary(reply)
        if summary is not None:
            count = max(summary, count or 0)
    return RecorderInfo(channel_count=count, channels=channels)
