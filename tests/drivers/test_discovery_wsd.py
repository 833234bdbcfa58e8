"""WS-Discovery: the ProbeMatches parser on recorded datagrams, and a probe of the lab's responders
over real UDP on loopback (unicast, 127.24.1.0/24: nothing is multicast from a test)."""

from __future__ import annotations

from pathlib import Path

from drivers.discovery.wsd import _Collector, parse_probe_matches, probe, probe_message, split_scopes
from drivers.onvif import OnvifDriver
from lab.host import PortPlan, SimHost
from lab.site import load_site
from lab.state import LabState
from lab.wsd import start_wsd

WSD = Path(__file__).parent.parent / "fixtures" / "discovery" / "wsd"
PROBED_ID = "urn:uuid:11111111-2222-3333-4444-555555555555"


def test_conformant_probe_match() -> None:
    [match] = parse_probe_matches((WSD / "conformant.xml").read_bytes())
    assert match.endpoint == "urn:uuid:4d454930-0000-1000-8000-accc8e5a0101"
    assert match.types == ("dn:NetworkVideoTransmitter", "tds:Device")
    assert match.xaddrs == ("http://192.0.2.21/onvif/device_service",)
    assert "onvif://www.onvif.org/location/Main%20entrance%2C%20above%20door" in match.scopes
    assert match.relates_to == PROBED_ID
    assert match.metadata_version == 1


def test_hikvision_like_match_with_own_prefixes_and_two_xaddrs() -> None:
    [match] = parse_probe_matches((WSD / "hikvision_like.xml").read_bytes())
    assert match.types[:2] == ("dn:NetworkVideoTransmitter", "tds:Device")
    assert match.types[2] == "hikwsd:Device"  # unknown namespace: kept as the device spelled it
    assert match.xaddrs == (
        "http://192.0.2.31/onvif/device_service",
        "http://[fe80::c256:e3ff:fe44:1001]/onvif/device_service",
    )
    assert "onvif://www.onvif.org/MAC/c0:56:e3:44:10:01" in match.scopes


def test_non_conformant_match_without_wrapper_or_relates_to() -> None:
    [match] = parse_probe_matches((WSD / "ipycam_no_relates_to.xml").read_bytes())
    assert match.relates_to is None
    assert match.endpoint == "urn:uuid:5e8b1a2c-0000-4000-8000-000000000abc"
    assert match.scopes == ("onvif://www.onvif.org/name/LP Test Cam", "onvif://www.onvif.org/hardware/ipycam")


def test_garbage_and_attacks_give_nothing() -> None:
    assert parse_probe_matches((WSD / "garbage.bin").read_bytes()) == []
    assert parse_probe_matches((WSD / "entity_expansion.xml").read_bytes()) == []
    assert parse_probe_matches(b"") == []
    assert parse_probe_matches(b"<a>" * 40000) == []  # oversized: refused before parsing


def test_collector_drops_replies_to_other_probes_but_keeps_those_without_relates_to() -> None:
    collector = _Collector(sent_ids={PROBED_ID})
    foreign = (WSD / "conformant.xml").read_bytes().replace(PROBED_ID.encode(), b"urn:uuid:someone-else")
    collector.datagram_received(foreign, ("192.0.2.21", 3702))
    assert collector.found == {}
    collector.datagram_received((WSD / "conformant.xml").read_bytes(), ("192.0.2.21", 3702))
    collector.datagram_received((WSD / "ipycam_no_relates_to.xml").read_bytes(), ("192.0.2.77", 51234))
    assert sorted(c.ip for c in collector.found.values()) == ["192.0.2.21", "192.0.2.77"]


def test_split_scopes_keeps_well_formed_lists_apart() -> None:
    assert split_scopes("onvif://a/x onvif://a/y") == ("onvif://a/x", "onvif://a/y")


def test_probe_message_round_trips_through_the_lab_parser() -> None:
    from lab.wsd import parse_probe

    parsed = parse_probe(probe_message("dn:NetworkVideoTransmitter", PROBED_ID))
    assert parsed is not None and parsed.message_id == PROBED_ID


async def test_unicast_probe_finds_every_device_except_wsd_disabled() -> None:
    site = load_site("small")
    state = LabState(site)
    hosts = {
        d.name: SimHost(d.name, ip="127.24.1." + d.ip.rsplit(".", 1)[1], ports=PortPlan.unprivileged())
        for d in site.devices
    }
    responders = []
    try:
        for name, host in hosts.items():
            responders.append(await start_wsd(state, name, host, multicast=False))
        found = await probe([], [h.ip for h in hosts.values()], window_s=0.5)
    finally:
        for responder in responders:
            await responder.close()
    expected = {hosts[d.name].ip: d for d in site.devices if not d.faults.wsd_disabled}
    assert "cam-corridor" not in {d.name for d in expected.values()}  # the small site's wsd_disabled camera
    assert {c.ip for c in found} == set(expected)
    for candidate in found:
        device = expected[candidate.ip]
        assert candidate.wsd_endpoint == device.endpoint_uuid
        assert candidate.sources == {"wsd"}
        assert OnvifDriver.score(candidate) >= 90
        if device.role == "recorder":
            assert "dn:NetworkVideoStorage" in candidate.wsd_types
