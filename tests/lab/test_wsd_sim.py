"""The simulated WS-Discovery responders, probed the way a scanner probes a LAN.

The message builders are checked as pure functions; the responders are probed over real UDP with a
small independent asyncio prober (its own Probe text, its own parsing by local name). Loopback
traffic stays on 127.20.x.y; the multicast test builds its own namespaces (asb-a-*) as root.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from lxml import etree

from lab import wsd
from lab.host import PortPlan, SimHost
from lab.onvif.vendor import scopes as vendor_scopes
from lab.site import Faults, OnvifDevice, load_site
from lab.state import LabState

PROBE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"'
    ' xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"'
    ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl"'
    ' xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
    "<e:Header><w:MessageID>{mid}</w:MessageID>"
    '<w:To e:mustUnderstand="true">urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>'
    '<w:Action e:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action>'
    "</e:Header><e:Body><d:Probe><d:Types>{types}</d:Types>{scopes}</d:Probe></e:Body></e:Envelope>"
)
NVT = "dn:NetworkVideoTransmitter"
LISTEN_S = 0.4  # replies come within APP_MAX_DELAY (0.1 s) on loopback


def probe_bytes(types: str = NVT, scopes: str = "", match_by: str = "") -> tuple[str, bytes]:
    mid = f"urn:uuid:{uuid.uuid4()}"
    scopes_xml = ""
    if scopes:
        attr = f' MatchBy="{match_by}"' if match_by else ""
        scopes_xml = f"<d:Scopes{attr}>{scopes}</d:Scopes>"
    return mid, PROBE.format(mid=mid, types=types, scopes=scopes_xml).encode()


@dataclass
class Match:
    relates_to: str
    endpoint: str
    types: list[str]
    scopes: list[str]
    xaddrs: list[str]
    metadata_version: str


def _first(root: Any, local: str) -> Any:
    return next(
        (el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname == local), None
    )


def parse_match(data: bytes) -> Match:
    """Parse a ProbeMatches by local name, tolerantly, as the agent will."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    assert etree.QName(_first(root, "Action")).localname == "Action"
    assert _first(root, "Action").text.endswith("/discovery/ProbeMatches")
    match = _first(root, "ProbeMatch")
    return Match(
        relates_to=_first(root, "RelatesTo").text,
        endpoint=_first(_first(match, "EndpointReference"), "Address").text,
        types=_first(match, "Types").text.split(),
        scopes=_first(match, "Scopes").text.split(),
        xaddrs=_first(match, "XAddrs").text.split(),
        metadata_version=_first(match, "MetadataVersion").text,
    )


class Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: list[tuple[bytes, tuple[str, int]]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.replies.append((data, addr))


async def probe_and_listen(
    sock: socket.socket, sends: list[tuple[bytes, tuple[str, int]]], listen_s: float = LISTEN_S
) -> list[tuple[bytes, tuple[str, int]]]:
    loop = asyncio.get_running_loop()
    transport, collector = await loop.create_datagram_endpoint(Collector, sock=sock)
    try:
        for data, addr in sends:
            transport.sendto(data, addr)
        await asyncio.sleep(listen_s)
    finally:
        transport.close()
    return collector.replies


def loopback_prober(ip: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, 0))
    sock.setblocking(False)
    return sock


def _octet() -> int:
    return os.getpid() % 250 + 1


def device_ip(index: int) -> str:
    return f"127.20.{_octet()}.{200 + index}"


PROBER_IP = f"127.20.{_octet()}.252"


@pytest.fixture
def state() -> LabState:
    return LabState(load_site("small"))


@contextlib.asynccontextmanager
async def responders(state: LabState) -> AsyncIterator[dict[str, SimHost]]:
    hosts = {
        d.name: SimHost(d.name, device_ip(i), ports=PortPlan.unprivileged())
        for i, d in enumerate(state.site.devices)
    }
    running = []
    try:
        for name, host in hosts.items():
            running.append(await wsd.start_wsd(state, name, host, multicast=False))
        yield hosts
    finally:
        for responder in running:
            await responder.close()


def expected_types(device: OnvifDevice) -> set[str]:
    types = {"dn:NetworkVideoTransmitter", "tds:Device"}
    return types | {"dn:NetworkVideoStorage"} if device.role == "recorder" else types


# ---------------------------------------------------------------- pure message logic


def test_probe_is_parsed_with_its_namespaces() -> None:
    mid, data = probe_bytes(
        types="dn:NetworkVideoTransmitter tds:Device", scopes="onvif://www.onvif.org/name/x"
    )
    probe = wsd.parse_probe(data)
    assert probe is not None
    assert probe.message_id == mid
    assert probe.types == [(wsd.NS_DN, "NetworkVideoTransmitter"), (wsd.NS_TDS, "Device")]
    assert probe.scopes == ["onvif://www.onvif.org/name/x"]
    assert probe.match_by == wsd.MATCH_RFC3986


def test_non_probes_and_hostile_datagrams_are_ignored() -> None:
    site = load_site("small")
    hello = wsd.hello_message(site.devices[0], "http://x/onvif/device_service", wsd.AppSequence())
    assert wsd.parse_probe(hello) is None
    assert wsd.parse_probe(b"\x00\xff garbage") is None
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + probe_bytes()[1].split(b"?>", 1)[1]
    assert wsd.parse_probe(bomb) is None
    assert wsd.parse_probe(b"<a>" + b" " * wsd.MAX_DATAGRAM + b"</a>") is None


def test_types_match_all_requested() -> None:
    site = load_site("small")
    cam = next(d for d in site.devices if d.role == "camera")
    nvr = next(d for d in site.devices if d.role == "recorder")

    def matches(device: OnvifDevice, types: str) -> bool:
        probe = wsd.parse_probe(probe_bytes(types=types)[1])
        assert probe is not None
        return wsd.probe_matches(probe, wsd.device_types(device), vendor_scopes(device))

    assert matches(cam, "") and matches(nvr, "")
    assert matches(cam, "dn:NetworkVideoTransmitter tds:Device")
    assert not matches(cam, "dn:NetworkVideoTransmitter dn:NetworkVideoStorage")
    assert matches(nvr, "dn:NetworkVideoTransmitter dn:NetworkVideoStorage")
    assert not matches(cam, "tds:Printer")
    assert matches(cam, "undeclared:Device")  # a sloppy prober's undeclared prefix: by local name


def test_scope_matching() -> None:
    have = "onvif://www.onvif.org/location/Main%20entrance"
    assert wsd.scope_matches("onvif://www.onvif.org/location", have)
    assert wsd.scope_matches("ONVIF://WWW.ONVIF.ORG/location/", have)
    assert wsd.scope_matches("onvif://www.onvif.org/location/Main entrance", have)
    assert not wsd.scope_matches("onvif://www.onvif.org/loc", have)  # whole segments only
    assert not wsd.scope_matches("onvif://www.onvif.org/location/Lobby", have)
    assert wsd.scope_matches(have, have, wsd.MATCH_STRCMP0)
    assert not wsd.scope_matches("onvif://www.onvif.org/location", have, wsd.MATCH_STRCMP0)


def test_probe_matches_message_carries_the_device() -> None:
    device = load_site("small").devices[0]
    seq = wsd.AppSequence()
    data = wsd.probe_matches_message(
        device, "http://127.0.0.1:8080/onvif/device_service", "urn:uuid:abc", seq
    )
    match = parse_match(data)
    assert match.relates_to == "urn:uuid:abc"
    assert match.endpoint == device.endpoint_uuid
    assert set(match.types) == expected_types(device)
    assert match.scopes == vendor_scopes(device)
    assert match.xaddrs == ["http://127.0.0.1:8080/onvif/device_service"]
    assert match.metadata_version == "1"
    second = etree.fromstring(wsd.probe_matches_message(device, "x", "y", seq))
    assert _first(second, "AppSequence").get("MessageNumber") == "2"


# ---------------------------------------------------------------- loopback responders


async def test_every_device_answers_a_unicast_probe_except_disabled_ones(state: LabState) -> None:
    async with responders(state) as hosts:
        sends: list[tuple[bytes, tuple[str, int]]] = []
        mid_of: dict[str, str] = {}
        for name, host in hosts.items():
            mid, data = probe_bytes()
            mid_of[mid] = name
            sends.append((data, (host.ip, wsd.WSD_PORT)))
        replies = await probe_and_listen(loopback_prober(PROBER_IP), sends)

    answered: dict[str, Match] = {}
    for data, addr in replies:
        match = parse_match(data)
        name = mid_of[match.relates_to]
        assert addr == (hosts[name].ip, wsd.WSD_PORT)  # from the device's own address and port
        answered[name] = match
    silent = {d.name for d in state.site.devices if d.faults.wsd_disabled}
    assert silent == {"cam-corridor"}
    assert set(answered) == set(hosts) - silent
    assert len(replies) == len(answered)  # one reply per probe
    for name, match in answered.items():
        device = state.device(name)
        assert device is not None
        assert match.endpoint == device.endpoint_uuid
        assert set(match.types) == expected_types(device)
        assert match.scopes == vendor_scopes(device)
        assert f"onvif://www.onvif.org/name/{name}" in match.scopes
        assert match.xaddrs == [f"http://{hosts[name].ip}:8080/onvif/device_service"]


async def test_types_and_scopes_filter_who_answers(state: LabState) -> None:
    async with responders(state) as hosts:
        storage = [
            (probe_bytes(types="dn:NetworkVideoStorage")[1], (h.ip, wsd.WSD_PORT)) for h in hosts.values()
        ]
        replies = await probe_and_listen(loopback_prober(PROBER_IP), storage)
        assert {parse_match(d).endpoint for d, _ in replies} == {
            d.endpoint_uuid for d in state.site.devices if d.role == "recorder"
        }

        by_name = [
            (probe_bytes(types="", scopes="onvif://www.onvif.org/name/cam-gate")[1], (h.ip, wsd.WSD_PORT))
            for h in hosts.values()
        ]
        replies = await probe_and_listen(loopback_prober(PROBER_IP), by_name)
        assert [addr[0] for _, addr in replies] == [hosts["cam-gate"].ip]


async def test_gone_and_disabled_devices_go_silent_live(state: LabState) -> None:
    async with responders(state) as hosts:
        state.gone.add("cam-entrance")
        site = state.site
        devices = [
            d.model_copy(update={"faults": Faults(wsd_disabled=True)}) if d.name == "cam-lobby" else d
            for d in site.devices
        ]
        state.replace(site.model_copy(update={"devices": devices}))
        sends = [
            (probe_bytes()[1], (hosts[n].ip, wsd.WSD_PORT))
            for n in ("cam-entrance", "cam-lobby", "cam-stairs")
        ]
        replies = await probe_and_listen(loopback_prober(PROBER_IP), sends)
    assert [addr[0] for _, addr in replies] == [hosts["cam-stairs"].ip]


async def test_loopback_mode_refuses_a_routable_address(state: LabState) -> None:
    with pytest.raises(ValueError, match="loopback"):
        await wsd.start_wsd(state, "cam-office", SimHost("cam-office", "10.77.0.31"), multicast=False)


# ---------------------------------------------------------------- multicast inside namespaces (root only)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@contextlib.contextmanager
def lan(members: dict[str, str]) -> Iterator[dict[str, str]]:
    """A bridge in its own namespace and one namespace per member (name -> ip/24), all asb-a-*.
    Returns member -> namespace name. Everything is deleted on exit, also on failure."""
    tag = str(os.getpid() % 100000)
    hub = f"asb-a-hub{tag}"
    spaces = {member: f"asb-a-{i}n{tag}" for i, member in enumerate(members)}
    try:
        _ip("netns", "add", hub)
        _ip("-n", hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", hub, "link", "set", "br0", "up")
        for i, (member, address) in enumerate(members.items()):
            ns = spaces[member]
            _ip("netns", "add", ns)
            _ip(
                "link",
                "add",
                f"asba{tag}e{i}",
                "netns",
                ns,
                "type",
                "veth",
                "peer",
                "name",
                f"p{i}",
                "netns",
                hub,
            )
            _ip("-n", ns, "link", "set", f"asba{tag}e{i}", "name", "eth0")
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", hub, "link", "set", f"p{i}", "master", "br0", "up")
        yield spaces
    finally:
        for ns in [*spaces.values(), hub]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def _scanner_sockets(ip: str) -> tuple[socket.socket, socket.socket]:
    """(prober on an ephemeral port sending multicast out of eth0, listener for Hello on 3702)."""
    prober = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    prober.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ip))
    prober.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    prober.bind((ip, 0))
    prober.setblocking(False)
    hello = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hello.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hello.bind(("", wsd.WSD_PORT))
    hello.setsockopt(
        socket.IPPROTO_IP,
        socket.IP_ADD_MEMBERSHIP,
        socket.inet_aton(wsd.MULTICAST_GROUP) + socket.inet_aton(ip),
    )
    hello.setblocking(False)
    return prober, hello


@pytest.mark.netns
@pytest.mark.skipif(os.geteuid() != 0, reason="building network namespaces needs root")
async def test_multicast_probe_in_namespaces(state: LabState) -> None:
    members = {
        "scanner": "10.77.0.250",
        "cam-office": "10.77.0.31",
        "nvr-main": "10.77.0.11",
        "cam-corridor": "10.77.0.32",
    }
    with lan(members) as spaces:
        scanner = SimHost("scanner", members["scanner"], netns=spaces["scanner"])
        prober, hello_sock = scanner.call(lambda: _scanner_sockets(members["scanner"]))
        loop = asyncio.get_running_loop()
        hello_tr, hellos = await loop.create_datagram_endpoint(Collector, sock=hello_sock)
        running = []
        try:
            for name in ("cam-office", "nvr-main", "cam-corridor"):
                host = SimHost(name, members[name], netns=spaces[name], ports=PortPlan.standard())
                running.append(await wsd.start_wsd(state, name, host, multicast=True))
            mid, data = probe_bytes()
            replies = await probe_and_listen(
                prober, [(data, (wsd.MULTICAST_GROUP, wsd.WSD_PORT))], listen_s=0.6
            )
        finally:
            for responder in running:
                await responder.close()
            await asyncio.sleep(0.1)  # let the Bye messages arrive
            hello_tr.close()

    got = {addr[0]: parse_match(data) for data, addr in replies}
    assert set(got) == {"10.77.0.31", "10.77.0.11"}  # cam-corridor has WS-Discovery off
    assert all(m.relates_to == mid for m in got.values())
    assert got["10.77.0.31"].xaddrs == ["http://10.77.0.31/onvif/device_service"]
    assert "dn:NetworkVideoStorage" in got["10.77.0.11"].types
    announced = [etree.fromstring(d) for d, _ in hellos.replies]
    actions = sorted(_first(a, "Action").text.rsplit("/", 1)[1] for a in announced)
    # the scanner's own probe loops back to its listener too; cam-corridor announces nothing
    assert [a for a in actions if a != "Probe"] == ["Bye", "Bye", "Hello", "Hello"]
