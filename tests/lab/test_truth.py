"""The ground truth of the demo sites, in the snapshot contract's own terms."""

from __future__ import annotations

import json

from drivers.schema import PoeStatus
from lab.site import LabSite, load_site
from lab.truth import GroundTruth, ground_truth


def test_small_site_devices_carry_identity_position_and_poe(small_site: LabSite) -> None:
    truth = ground_truth(small_site)
    assert len(truth.devices) == 14 and len(truth.switches) == 2
    cam = truth.device("cam-entrance")
    assert cam.model_dump(exclude={"profiles", "channels", "endpoint_reference"}) == {
        "name": "cam-entrance",
        "role": "camera",
        "vendor": "AXIS",
        "model": "P3245-LVE",
        "serial": "ACCC8E5A0101",
        "firmware": "10.12.182",
        "hardware": "1.0",
        "mac": "ac:cc:8e:5a:01:01",
        "mac_visible": True,
        "ip": "10.77.0.21",
        "hostname": "cam-entrance",
        "device_id": "mac:ac:cc:8e:5a:01:01",
        "switch": "sw-core",
        "switch_id": "mac:00:1b:54:c2:10:00",
        "port": "GigabitEthernet1/0/1",
        "via": None,
        "vlan": 20,
        "poe_status": PoeStatus.DELIVERING,
        "poe_class": 3,
        "power_w": 6.1,
        "channel_count": None,
    }
    yard = truth.device("cam-yard-west")
    assert (yard.switch, yard.port, yard.via, yard.poe_class, yard.power_w) == (
        "sw-yard",
        "10",
        "cab-poe-1",
        4,
        22.0,
    )
    nvr = truth.device("nvr-main")
    assert (nvr.poe_status, nvr.poe_class, nvr.power_w) == (PoeStatus.SEARCHING, None, 0.0)  # mains powered


def test_recorder_channels_point_at_camera_ids(small_site: LabSite) -> None:
    nvr = ground_truth(small_site).device("nvr-yard")
    assert nvr.channel_count == 8
    assert [(c.channel, c.camera, c.camera_id) for c in nvr.channels] == [
        (1, "cam-gate", "mac:c0:56:e3:44:20:01"),
        (2, "cam-yard-east", "mac:c0:56:e3:44:20:02"),
        (3, "cam-yard-west", "mac:3c:ef:8c:9b:50:01"),
        (4, "cam-parking", "mac:ac:cc:8e:5a:02:01"),
    ]


def test_switch_ports_and_links(small_site: LabSite) -> None:
    truth = ground_truth(small_site)
    core, yard = truth.switch("sw-core"), truth.switch("sw-yard")
    assert len(core.ports) == 24
    uplink = core.ports[23]
    assert (uplink.name, uplink.is_uplink, uplink.vlan, uplink.poe.status) == (
        "GigabitEthernet1/0/24",
        True,
        1,
        PoeStatus.DISABLED,
    )
    assert [link.model_dump() for link in core.links] == [
        {
            "port": "GigabitEthernet1/0/24",
            "neighbor": "sw-yard",
            "neighbor_id": yard.device_id,
            "neighbor_port": "24",
        }
    ]
    assert yard.links[0].neighbor_port == "GigabitEthernet1/0/24"
    cabinet = yard.ports[9]
    assert (cabinet.alias, cabinet.poe.power_class, cabinet.poe.power_w) == ("cab-poe-1", 4, 22.0)
    assert not core.ports[3].up  # port 4 has nothing plugged in


def test_json_export_round_trips(small_site: LabSite) -> None:
    truth = ground_truth(small_site)
    data = json.loads(truth.to_json())
    assert data["devices"][0]["poe_status"] == "delivering"
    assert GroundTruth.model_validate(data) == truth


def test_large_site_identities_are_unique() -> None:
    truth = ground_truth(load_site("large-40"))
    ids = [d.device_id for d in truth.devices] + [s.device_id for s in truth.switches]
    assert len(ids) == len(set(ids)) == 40 + 4 + 8
    positions = {(d.switch, d.port) for d in truth.devices}
    assert len(positions) == len(truth.devices)  # no two devices on one port in the generated site
