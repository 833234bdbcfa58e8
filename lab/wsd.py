"""WS-Discovery responder of a simulated camera or recorder (SOAP-over-UDP on port 3702).

What a scanner meets on a real LAN, and what is imitated here:
- Probes arrive multicast on 239.255.255.250:3702 (or unicast, for routed subnets). The device
  answers with ONE unicast ProbeMatches to the sender's address and port, from its port 3702,
  after a random delay of up to 100 ms (APP_MAX_DELAY; the spec allows 500 ms, cameras are quicker).
- Messages use SOAP 1.2, WS-Addressing 2004/08 and WS-Discovery 2005/04. RelatesTo carries the
  probe's MessageID; the EndpointReference is the device's stable urn:uuid (derived from its MAC,
  like firmware does), so it survives IP changes.
- Types: every ONVIF device is `dn:NetworkVideoTransmitter tds:Device`; recorders add
  `dn:NetworkVideoStorage`. A probe's Types are AND-matched (all must match; none matches all);
  a prefix the probe forgot to declare is compared by local name, as lenient firmware does.
- Scopes: the same list as GetScopes. Probe scopes match by RFC 3986 prefix (per path segment,
  case-insensitive scheme and host), or exactly with MatchBy .../strcmp0.
- Installers can switch WS-Discovery off (`faults.wsd_disabled`): such a device stays silent.
- `faults.wsd_drop_ratio`: that share of scans hears nothing from the device. The decision is taken
  once per scanner socket and burst (probes from one address:port within DROP_BURST_S), since a
  scanner repeats each probe: a busy publisher that drops replies drops the whole burst's.
  A device the lab marked gone is silent too; `gone_after_discovery` alone still answers here
  (it is the HTTP side that dies).
- In namespace mode the device joins the group on its own interface, announces itself with a
  multicast Hello when it starts and a Bye when it stops. On loopback nothing is ever multicast.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import random
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from lxml import etree

from lab.host import SimHost
from lab.onvif.server import base_url
from lab.onvif.soap import BadXml, esc, parse_xml
from lab.onvif.vendor import scopes as device_scopes
from lab.site import OnvifDevice
from lab.state import LabState

log = logging.getLogger(__name__)

MULTICAST_GROUP = "239.255.255.250"
WSD_PORT = 3702
MAX_DATAGRAM = 32 * 1024  # probes are ~1 KiB; anything bigger is not a probe
APP_MAX_DELAY_S = 0.1
MAX_PENDING_REPLIES = 64  # a probe storm must not grow memory without bound
DROP_BURST_S = 2.0

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_D = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
NS_DN = "http://www.onvif.org/ver10/network/wsdl"
NS_TDS = "http://www.onvif.org/ver10/device/wsdl"
DISCOVERY_URN = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
ANONYMOUS = NS_WSA + "/role/anonymous"
MATCH_RFC3986 = NS_D + "/rfc3986"
MATCH_STRCMP0 = NS_D + "/strcmp0"

QName = tuple[str, str]  # (namespace, local name); namespace "" when the probe left it undeclared
PREFIXES = {NS_DN: "dn", NS_TDS: "tds"}


# ---------------------------------------------------------------- pure message logic


@dataclass(frozen=True)
class Probe:
    message_id: str
    types: list[QName] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    match_by: str = MATCH_RFC3986


def device_types(device: OnvifDevice) -> list[QName]:
    types = [(NS_DN, "NetworkVideoTransmitter"), (NS_TDS, "Device")]
    if device.role == "recorder":
        types.append((NS_DN, "NetworkVideoStorage"))
    return types


def _local(el: Any) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _child(parent: Any, local: str) -> Any:
    return next((c for c in parent if _local(c) == local), None)


def parse_probe(data: bytes) -> Probe | None:
    """A Probe message, or None for anything else (other actions, junk, hostile XML)."""
    if len(data) > MAX_DATAGRAM:
        return None
    try:
        root = parse_xml(data)
    except BadXml:
        return None
    header, body = _child(root, "Header"), _child(root, "Body")
    if _local(root) != "Envelope" or body is None:
        return None
    probe = _child(body, "Probe")
    if probe is None:
        return None
    message_id = ""
    if header is not None and (mid := _child(header, "MessageID")) is not None:
        message_id = (mid.text or "").strip()
    types: list[QName] = []
    types_el = _child(probe, "Types")
    if types_el is not None:
        for text in (types_el.text or "").split():
            prefix, _, local = text.rpartition(":")
            types.append((types_el.nsmap.get(prefix or None, ""), local))
    scopes_el = _child(probe, "Scopes")
    scopes = (scopes_el.text or "").split() if scopes_el is not None else []
    match_by = (scopes_el.get("MatchBy") if scopes_el is not None else None) or MATCH_RFC3986
    return Probe(message_id, types, scopes, match_by.strip())


def _types_match(wanted: list[QName], have: list[QName]) -> bool:
    return all(any(local == h_local and ns in ("", h_ns) for h_ns, h_local in have) for ns, local in wanted)


def _segments(uri: str) -> tuple[str, str, list[str]] | None:
    try:
        parts = urlsplit(uri.strip())
    except ValueError:
        return None
    path = [unquote(s) for s in parts.path.split("/") if s]
    return parts.scheme.lower(), parts.netloc.lower(), path


def scope_matches(wanted: str, have: str, match_by: str = MATCH_RFC3986) -> bool:
    """WS-Discovery scope matching: strcmp0 is exact; anything else is an RFC 3986 prefix match."""
    if match_by == MATCH_STRCMP0:
        return wanted == have
    w, h = _segments(wanted), _segments(have)
    if w is None or h is None or w[:2] != h[:2]:
        return False
    return h[2][: len(w[2])] == w[2]


def probe_matches(probe: Probe, types: list[QName], scopes: list[str]) -> bool:
    """All requested types present, and every requested scope matched by one of the device's."""
    if not _types_match(probe.types, types):
        return False
    return all(any(scope_matches(w, h, probe.match_by) for h in scopes) for w in probe.scopes)


def _types_text(types: list[QName]) -> str:
    return " ".join(f"{PREFIXES[ns]}:{local}" for ns, local in types)


def _envelope(action: str, to: str, extra_header: str, body: str, message_id: str, app_seq: str) -> bytes:
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{NS_SOAP}" xmlns:wsa="{NS_WSA}" xmlns:d="{NS_D}"'
        f' xmlns:dn="{NS_DN}" xmlns:tds="{NS_TDS}"><SOAP-ENV:Header>'
        f"<wsa:MessageID>{esc(message_id)}</wsa:MessageID>{extra_header}"
        f'<wsa:To SOAP-ENV:mustUnderstand="true">{esc(to)}</wsa:To>'
        f'<wsa:Action SOAP-ENV:mustUnderstand="true">{NS_D}/{action}</wsa:Action>{app_seq}'
        f"</SOAP-ENV:Header><SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    return text.encode()


def _endpoint_body(device: OnvifDevice, xaddrs: str, metadata_version: int, with_details: bool = True) -> str:
    address = f"<wsa:Address>{esc(device.endpoint_uuid)}</wsa:Address>"
    epr = f"<wsa:EndpointReference>{address}</wsa:EndpointReference>"
    if not with_details:
        return epr
    return (
        f"{epr}<d:Types>{_types_text(device_types(device))}</d:Types>"
        f"<d:Scopes>{esc(' '.join(device_scopes(device)))}</d:Scopes>"
        f"<d:XAddrs>{esc(xaddrs)}</d:XAddrs><d:MetadataVersion>{metadata_version}</d:MetadataVersion>"
    )


@dataclass
class AppSequence:
    """WS-Discovery AppSequence: an instance id per start, a number per message sent."""

    instance_id: int = field(default_factory=lambda: int(time.time()))
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def header(self) -> str:
        return f'<d:AppSequence InstanceId="{self.instance_id}" MessageNumber="{next(self.counter)}"/>'


def probe_matches_message(
    device: OnvifDevice, xaddrs: str, relates_to: str, seq: AppSequence, metadata_version: int = 1
) -> bytes:
    match = _endpoint_body(device, xaddrs, metadata_version)
    body = f"<d:ProbeMatches><d:ProbeMatch>{match}</d:ProbeMatch></d:ProbeMatches>"
    relates = f"<wsa:RelatesTo>{esc(relates_to)}</wsa:RelatesTo>"
    return _envelope("ProbeMatches", ANONYMOUS, relates, body, _new_id(), seq.header())


def hello_message(device: OnvifDevice, xaddrs: str, seq: AppSequence, metadata_version: int = 1) -> bytes:
    body = f"<d:Hello>{_endpoint_body(device, xaddrs, metadata_version)}</d:Hello>"
    return _envelope("Hello", DISCOVERY_URN, "", body, _new_id(), seq.header())


def bye_message(device: OnvifDevice, seq: AppSequence) -> bytes:
    body = f"<d:Bye>{_endpoint_body(device, '', 0, with_details=False)}</d:Bye>"
    return _envelope("Bye", DISCOVERY_URN, "", body, _new_id(), seq.header())


def _new_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def device_xaddrs(host: SimHost) -> str:
    return base_url(host) + "/onvif/device_service"


# ---------------------------------------------------------------- the responder (I/O)


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, state: LabState, name: str, host: SimHost, seq: AppSequence) -> None:
        self.state = state
        self.name = name
        self.host = host
        self.seq = seq
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: set[asyncio.Task[None]] = set()
        self._drops: dict[tuple[str, int], tuple[float, bool]] = {}  # scanner -> (last probe, dropped)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def live_device(self) -> OnvifDevice | None:
        device = self.state.device(self.name)
        if device is None or self.name in self.state.gone or device.faults.wsd_disabled:
            return None
        return device

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        device = self.live_device()
        if device is None or len(self.pending) >= MAX_PENDING_REPLIES:
            return
        probe = parse_probe(data)
        if probe is None or not probe_matches(probe, device_types(device), device_scopes(device)):
            return
        scanner = (str(addr[0]), int(addr[1]))
        if self._dropped(scanner, device.faults.wsd_drop_ratio):
            return
        task = asyncio.get_running_loop().create_task(self._reply(probe, scanner))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    def _dropped(self, scanner: tuple[str, int], ratio: float) -> bool:
        if ratio <= 0:
            return False
        now = time.monotonic()
        last, dropped = self._drops.get(scanner, (-DROP_BURST_S * 2, False))
        if now - last > DROP_BURST_S:
            dropped = random.random() < ratio
        if len(self._drops) > MAX_PENDING_REPLIES:
            self._drops.clear()
        self._drops[scanner] = (now, dropped)
        return dropped

    async def _reply(self, probe: Probe, addr: tuple[str, int]) -> None:
        await asyncio.sleep(random.uniform(0, APP_MAX_DELAY_S))
        device = self.live_device()  # it may have gone silent while we waited
        if device is None or self.transport is None or self.transport.is_closing():
            return
        message = probe_matches_message(device, device_xaddrs(self.host), probe.message_id, self.seq)
        self.transport.sendto(message, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("wsd %s: %s", self.name, exc)


class WsdResponder:
    """A running responder; `close()` says Bye (namespace mode) and releases the socket."""

    def __init__(self, transport: asyncio.DatagramTransport, protocol: _Responder, multicast: bool) -> None:
        self._transport = transport
        self._protocol = protocol
        self._multicast = multicast

    async def close(self) -> None:
        for task in list(self._protocol.pending):
            task.cancel()
        device = self._protocol.live_device()
        if self._multicast and device is not None and not self._transport.is_closing():
            self._transport.sendto(bye_message(device, self._protocol.seq), (MULTICAST_GROUP, WSD_PORT))
        self._transport.close()


def _multicast_socket(host: SimHost) -> socket.socket:
    """Bound to the WS-Discovery port on all of the namespace's addresses, member of the group on the
    device's interface, sending multicast out of that interface only with TTL 1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("", host.ports.wsd))
        iface = socket.inet_aton(host.ip)
        sock.setsockopt(
            socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(MULTICAST_GROUP) + iface
        )
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, iface)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def start_wsd(state: LabState, name: str, host: SimHost, multicast: bool) -> WsdResponder:
    """Answer WS-Discovery probes for device `name`.

    multicast=False (loopback mode): bind host.ip:3702 and answer unicast probes sent there.
    multicast=True (namespace mode): listen on the group inside the device's namespace, answer
    multicast and unicast probes, and announce with Hello / Bye.
    """
    if multicast and host.netns is None:
        raise ValueError("multicast WS-Discovery only runs inside a device namespace")
    if not multicast and not ipaddress.ip_address(host.ip).is_loopback:
        raise ValueError(f"loopback WS-Discovery needs a loopback address, got {host.ip}")
    if multicast:
        sock = await asyncio.to_thread(host.call, lambda: _multicast_socket(host))
    else:
        sock = await asyncio.to_thread(host.udp_socket, host.ports.wsd)
    seq = AppSequence()
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: _Responder(state, name, host, seq), sock=sock
        )
    except BaseException:
        sock.close()
        raise
    if multicast and (device := state.device(name)) is not None and not device.faults.wsd_disabled:
        with contextlib.suppress(OSError):
            transport.sendto(hello_message(device, device_xaddrs(host), seq), (MULTICAST_GROUP, WSD_PORT))
    return WsdResponder(transport, protocol, multicast)
