"""WS-Discovery probe (SOAP-over-UDP, port 3702): which ONVIF devices are there.

A raw asyncio implementation (research/libraries.md §2): the `wsdiscovery` package is threaded
and its strict parser misses non-conformant ProbeMatches that real cameras send.

- Multicast: one socket per interface, IP_MULTICAST_IF set and TTL 1, so a multi-homed agent
  probes every LAN and never routes a probe off-site.
- Unicast: the same probe sent to listed hosts, for routed subnets (multicast does not cross a
  router) and loopback labs; paced so that a /16 does not flood the network.
- One probe per type, since a probe's Types are AND-matched; multicast sends each twice (UDP may
  drop), unicast once per host (a /22 is 2,044 datagrams, not 4,088): a host the sweep finds with a
  web port that did not answer gets its own second Probe from the scan (agent/stream.py).
- Replies come from port 3702 or from an ephemeral port: nothing is filtered on the source port.
- Parsing is by local name and tolerant of missing wrappers; hostile input is bounded and never
  expanded (no DTDs, no entities).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lxml import etree

from drivers.base import Candidate

log = logging.getLogger(__name__)

MULTICAST_GROUP = "239.255.255.250"
WSD_PORT = 3702
MAX_DATAGRAM = 64 * 1024
MAX_MATCHES_PER_DATAGRAM = 32
MAX_ITEMS = 64  # types / scopes / xaddrs kept per match
MAX_ENDPOINTS_PER_HOST = 8  # an NVR may announce a few endpoints; a host sending thousands is hostile
MAX_CANDIDATES = 65_536  # a /16
REPEATS = 2  # multicast rounds
UNICAST_ROUNDS = 1
REPEAT_GAP_S = 0.1
UNICAST_RATE_PPS = 2000  # datagrams per second for unicast sweeps
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
APP_MAX_DELAY_S = 0.5  # WS-Discovery: a target replies to a probe within this random delay
LARGE_SWEEP = 4096  # unicast targets that get the full probe set; the rest of a /16 gets one datagram

NS_D = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
PROBE_TYPES = {
    "dn:NetworkVideoTransmitter": "http://www.onvif.org/ver10/network/wsdl",
    "tds:Device": "http://www.onvif.org/ver10/device/wsdl",
}
KNOWN_PREFIXES = {
    "http://www.onvif.org/ver10/network/wsdl": "dn",
    "http://www.onvif.org/ver10/device/wsdl": "tds",
}

_PROBE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:{prefix}="{ns}">'
    "<s:Header><a:MessageID>{message_id}</a:MessageID>"
    "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"
    "<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>"
    "<s:Body><d:Probe><d:Types>{type}</d:Types></d:Probe></s:Body></s:Envelope>"
)

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)


@dataclass(frozen=True)
class ProbeMatch:
    endpoint: str | None
    types: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    xaddrs: tuple[str, ...] = ()
    metadata_version: int | None = None
    relates_to: str | None = None


def probe_message(probe_type: str, message_id: str) -> bytes:
    prefix, _local = probe_type.split(":", 1)
    return _PROBE.format(
        prefix=prefix, ns=PROBE_TYPES[probe_type], message_id=message_id, type=probe_type
    ).encode()


# ---------------------------------------------------------------- parsing (pure)


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _first(parent: etree._Element, local: str) -> etree._Element | None:
    return next((e for e in parent.iter() if _local(e) == local), None)


def _text(element: etree._Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _qnames(element: etree._Element | None) -> tuple[str, ...]:
    """``dn:NetworkVideoTransmitter tds:Device`` → the same, with well-known namespaces given their
    usual prefix whatever the device called them; unknown ones keep the device's spelling."""
    out: list[str] = []
    if element is None:
        return ()
    for word in _text(element).split()[:MAX_ITEMS]:
        prefix, _, local = word.rpartition(":")
        namespace = element.nsmap.get(prefix or None)
        name = f"{KNOWN_PREFIXES[namespace]}:{local}" if namespace in KNOWN_PREFIXES else word
        if name not in out:
            out.append(name)
    return tuple(out)


def split_scopes(text: str) -> tuple[str, ...]:
    """Scopes are a space-separated list of URIs. Some firmware (ipycam, cheap OEM cameras) does
    not percent-encode spaces in values, so a word that is not a URI belongs to the scope before it.

    Example:: split_scopes("onvif://www.onvif.org/name/LP Test Cam") → one scope, "…/name/LP Test Cam"
    """
    scopes: list[str] = []
    for word in text.split():
        if ":" in word.split("/", 1)[0] or not scopes:
            scopes.append(word)
        else:
            scopes[-1] += " " + word
    return tuple(dict.fromkeys(scopes[:MAX_ITEMS]))


def parse_probe_matches(data: bytes) -> list[ProbeMatch]:
    """ProbeMatches (or a Hello) → matches. Garbage, oversized or DTD-carrying input gives []."""
    if len(data) > MAX_DATAGRAM:
        return []
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root.getroottree().docinfo.doctype or root.getroottree().docinfo.internalDTD is not None:
        return []  # an entity-expansion attack, or at least nothing a camera sends
    relates_to = _text(_first(root, "RelatesTo")) or None
    holders = [e for e in root.iter() if _local(e) in ("ProbeMatch", "Hello")][:MAX_MATCHES_PER_DATAGRAM]
    matches = []
    for holder in holders:
        reference = _first(holder, "EndpointReference")
        endpoint = _text(_first(reference, "Address")) if reference is not None else ""
        version = _text(_first(holder, "MetadataVersion"))
        matches.append(
            ProbeMatch(
                endpoint=endpoint or None,
                types=_qnames(_first(holder, "Types")),
                scopes=split_scopes(_text(_first(holder, "Scopes"))),
                xaddrs=tuple(dict.fromkeys(_text(_first(holder, "XAddrs")).split()[:MAX_ITEMS])),
                metadata_version=int(version)
                if version.isascii() and version.isdigit() and len(version) < 19
                else None,
                relates_to=relates_to,
            )
        )
    return matches


def to_candidate(match: ProbeMatch, source_ip: str) -> Candidate:
    """The address a reply came from is the address we reach the device at; XAddrs are kept as the
    device states them (they may name a NAT-inside address)."""
    return Candidate(
        ip=source_ip,
        sources={"wsd"},
        wsd_endpoint=match.endpoint,
        wsd_types=list(match.types),
        wsd_scopes=list(match.scopes),
        wsd_xaddrs=list(match.xaddrs),
    )


# ---------------------------------------------------------------- I/O


@dataclass
class _Collector(asyncio.DatagramProtocol):
    sent_ids: set[str]
    found: dict[str, Candidate] = field(default_factory=dict)
    on_match: Callable[[Candidate], object] | None = None  # streaming: called for every reply as it lands
    per_host: dict[str, int] = field(default_factory=dict)

    def datagram_received(self, data: bytes, addr: tuple[str | bytes, int]) -> None:
        source = str(addr[0])
        for match in parse_probe_matches(data):
            if match.relates_to is not None and match.relates_to not in self.sent_ids:
                continue  # a reply to someone else's probe; devices that omit RelatesTo are kept
            key = f"{source}|{match.endpoint}"
            if key not in self.found:
                if (
                    len(self.found) >= MAX_CANDIDATES
                    or self.per_host.get(source, 0) >= MAX_ENDPOINTS_PER_HOST
                ):
                    continue  # a host inventing endpoints, or a flood: what we have is kept, nothing more
                self.per_host[source] = self.per_host.get(source, 0) + 1
            candidate = to_candidate(match, source)
            self.found[key] = self.found[key].merge(candidate) if key in self.found else candidate
            if self.on_match is not None:
                self.on_match(self.found[key])

    def error_received(self, exc: Exception) -> None:
        log.debug("wsd: %s", exc)


def _socket(bind_ip: str, multicast_if: str | None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        if multicast_if is not None:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(multicast_if))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.bind((bind_ip, 0))
        # Hundreds of ProbeMatches arrive within the publishers' random delay, while the scan's
        # loop may be busy with the hosts found first: a larger buffer keeps them (best effort).
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def interface_addresses(interfaces: list[str] | None) -> list[str]:
    """IPv4 addresses to multicast from: given addresses as they are, interface names resolved with
    ifaddr; None means every non-loopback IPv4 interface of this host."""
    import ifaddr

    adapters = ifaddr.get_adapters()
    out: list[str] = []
    for item in interfaces if interfaces is not None else [a.name for a in adapters]:
        try:
            out.append(str(ipaddress.IPv4Address(item)))
            continue
        except ValueError:
            pass
        for adapter in adapters:
            if adapter.name == item:
                out += [
                    str(ip.ip)
                    for ip in adapter.ips
                    if isinstance(ip.ip, str) and not ipaddress.IPv4Address(ip.ip).is_loopback
                ]
    return list(dict.fromkeys(out))


async def probe(
    interfaces: list[str] | None,
    unicast_targets: Iterable[str] = (),
    port: int = WSD_PORT,
    window_s: float = 2.0,
    *,
    rate_pps: int = UNICAST_RATE_PPS,
    on_match: Callable[[Candidate], object] | None = None,
) -> list[Candidate]:
    """Probe for ONVIF devices; returns one Candidate per (address, endpoint) that answered.

    interfaces: IPv4 addresses or interface names to multicast on; None = all non-loopback
    interfaces, [] = no multicast. unicast_targets: hosts probed directly (iterated lazily, so a
    /16 costs no memory), at most `rate_pps` datagrams per second. The listening window counts from
    the first probe, and lasts at least APP_MAX_DELAY_S after the last one. `on_match` sees every
    reply as it arrives (so a scan can read a device while the window is still open).
    """
    loop = asyncio.get_running_loop()
    ids = {t: [f"urn:uuid:{uuid.uuid4()}" for _ in range(REPEATS)] for t in PROBE_TYPES}
    collector = _Collector(sent_ids={i for v in ids.values() for i in v}, on_match=on_match)
    transports: list[asyncio.DatagramTransport] = []

    async def open_endpoint(bind_ip: str, multicast_if: str | None) -> asyncio.DatagramTransport:
        sock = _socket(bind_ip, multicast_if)
        transport, _ = await loop.create_datagram_endpoint(lambda: collector, sock=sock)
        transports.append(transport)
        return transport

    def messages(round_: int) -> list[bytes]:
        return [probe_message(t, ids[t][round_]) for t in PROBE_TYPES]

    started = loop.time()
    try:
        multicast = (
            [await open_endpoint(ip, ip) for ip in interface_addresses(interfaces)]
            if interfaces != []
            else []
        )
        targets = iter(unicast_targets)
        first = next(targets, None)
        unicast = await open_endpoint("0.0.0.0", None) if first is not None else None
        for round_ in range(REPEATS):
            for transport in multicast:
                for message in messages(round_):
                    with contextlib.suppress(OSError):
                        transport.sendto(message, (MULTICAST_GROUP, port))
            await asyncio.sleep(REPEAT_GAP_S)
        if unicast is not None and first is not None:
            await _unicast_sweep(unicast, itertools.chain([first], targets), port, messages, rate_pps)
        # The window counts from the first probe: a long unicast sweep overlaps it; the last
        # targets still get the publishers' full reply delay (APP_MAX_DELAY) after their probe.
        sent = loop.time() - started
        await asyncio.sleep(max(window_s - sent, APP_MAX_DELAY_S if unicast is not None else 0.0))
    finally:
        for transport in transports:
            transport.close()
    return sorted(collector.found.values(), key=lambda c: (ipaddress.ip_address(c.ip), c.wsd_endpoint or ""))


class UnicastProber:
    """One socket that sends unicast Probes to single hosts and keeps listening until closed, so a
    reply that comes late (a busy publisher) is still heard. `on_match` sees every reply."""

    def __init__(self, port: int = WSD_PORT, on_match: Callable[[Candidate], object] | None = None) -> None:
        self.port = port
        self._ids = {t: [f"urn:uuid:{uuid.uuid4()}"] for t in PROBE_TYPES}
        self._collector = _Collector(sent_ids={i for v in self._ids.values() for i in v}, on_match=on_match)
        self._transport: asyncio.DatagramTransport | None = None

    async def send(self, ip: str) -> None:
        if self._transport is None:
            sock = _socket("0.0.0.0", None)
            loop = asyncio.get_running_loop()
            self._transport, _ = await loop.create_datagram_endpoint(lambda: self._collector, sock=sock)
        for probe_type in PROBE_TYPES:
            with contextlib.suppress(OSError):
                self._transport.sendto(probe_message(probe_type, self._ids[probe_type][0]), (ip, self.port))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


async def _unicast_sweep(
    transport: asyncio.DatagramTransport,
    targets: Iterable[str],
    port: int,
    messages: Callable[[int], list[bytes]],
    rate_pps: int,
    unicast_rounds: int = UNICAST_ROUNDS,
) -> None:
    """Send `unicast_rounds` rounds of probes to each target in turn, at most `rate_pps` datagrams
    per second. Targets are walked once (they may be a lazy iterator over a /16)."""
    batch = max(1, rate_pps // 20)  # pause every 50 ms worth of datagrams
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = 0
    for index, target in enumerate(targets):
        # One round per host (the scan's second-chance Probe covers a lost reply); past the first
        # LARGE_SWEEP targets (a /16 of mostly empty space) one datagram (a tds:Device probe, which
        # every ONVIF device answers) instead of one per type.
        for round_ in range(unicast_rounds):
            for message in messages(round_) if index < LARGE_SWEEP else messages(round_)[-1:]:
                with contextlib.suppress(OSError):
                    transport.sendto(message, (target, port))
                sent += 1
                if sent % batch == 0:
                    # Paced against the clock, not by fixed naps: on a loop busy reading the devices
                    # found first, naps would stretch a 0.5 s sweep of a /24 to seconds.
                    ahead = sent / rate_pps - (loop.time() - started)
                    await asyncio.sleep(max(ahead, 0.0))
