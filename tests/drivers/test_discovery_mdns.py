"""mDNS: the pure service → candidate conversion, and a browse of the lab's Axis announcements on
loopback (127.24.3.0/24; multicast looped back on `lo`, nothing leaves the host)."""

from __future__ import annotations

from drivers.discovery.mdns import browse, candidate_from_service, service_types
from drivers.onvif import OnvifDriver
from lab.host import PortPlan, SimHost
from lab.mdns import start_mdns
from lab.site import load_site
from lab.state import LabState


def test_axis_service_gives_mac_and_instance_name() -> None:
    [candidate] = candidate_from_service(
        "_axis-video._tcp.local.",
        "AXIS P3245-LVE - ACCC8E5A0101._axis-video._tcp.local.",
        ["10.77.0.21", "fe80::aecc:8eff:fe5a:101"],
        {"macaddress": "ACCC8E5A0101", "junk": None},
    )
    assert candidate.ip == "10.77.0.21"
    assert candidate.mac == "ac:cc:8e:5a:01:01"
    assert candidate.mdns_name == "AXIS P3245-LVE - ACCC8E5A0101"
    assert candidate.mdns_services == ["_axis-video._tcp"]
    assert OnvifDriver.score(candidate) == 50


def test_bad_mac_text_is_ignored_not_fatal() -> None:
    [candidate] = candidate_from_service(
        "_http._tcp.local.", "x._http._tcp.local.", ["10.0.0.9"], {"macaddress": "zz"}
    )
    assert candidate.mac is None


async def test_browse_finds_the_lab_axis_cameras() -> None:
    site = load_site("small")
    state = LabState(site)
    axis = [d for d in site.devices if d.personality == "axis"]
    announcers = []
    try:
        for device in axis:
            host = SimHost(
                device.name, ip="127.24.3." + device.ip.rsplit(".", 1)[1], ports=PortPlan.unprivileged()
            )
            announcer = await start_mdns(state, device.name, host)
            assert announcer is not None
            announcers.append(announcer)
        found = await browse(["127.24.3.250"], window_s=1.0)
        types = await service_types(["127.24.3.250"], window_s=1.0)
    finally:
        for announcer in announcers:
            await announcer.close()
    assert {"_axis-video._tcp", "_http._tcp"} <= set(types)
    # mDNS on `lo` is shared by the whole host: other engineers' loopback labs announce the same
    # cameras from their own ranges, so only answers from our range are ours.
    by_mac = {c.mac: c for c in found if c.mac and c.ip.startswith("127.24.3.")}
    for device in axis:
        candidate = by_mac[device.mac]
        assert candidate.ip == "127.24.3." + device.ip.rsplit(".", 1)[1]
        assert "_axis-video._tcp" in candidate.mdns_services
        assert "_http._tcp" in candidate.mdns_services
        assert candidate.mdns_name == f"AXIS {device.model} - {device.mac.replace(':', '').upper()}"
