"""The record view model, built from real scans of the small and the 200-camera site."""

from __future__ import annotations

from collector.documents import SiteRecordExtras, build_record
from collector.documents.build import without_userinfo
from collector.documents.model import AsBuiltRecord, DeviceEntry, Highlight, SiteInfo
from drivers.schema import Role
from tests.documents.conftest import GENERATED_AT, Site, make_record


def by_name(record: AsBuiltRecord) -> dict[str, DeviceEntry]:
    return {d.name: d for d in record.devices}


def test_every_device_once_switches_first_and_in_natural_order(large: Site) -> None:
    record = large.record
    assert sorted(d.id for d in record.devices) == sorted(d.id for d in large.current.devices)
    assert [d.role for d in record.devices[:8]] == ["switch"] * 8
    cams = [d.name for d in record.devices if d.role == "camera"]
    assert cams[:3] == ["cam-001", "cam-002", "cam-003"] and cams[-1] == "cam-201"
    assert record.role_counts() == {"switch": 8, "recorder": 4, "camera": 200}


def test_schedule_row_holds_identity_position_poe_and_recorder_channel(small: Site) -> None:
    entrance = next(d for d in small.record.devices if d.name == "cam-entrance")
    assert (entrance.vendor, entrance.model, entrance.serial) == ("AXIS", "P3245-LVE", "ACCC8E5A0101")
    assert (entrance.switch_name, entrance.port, entrance.vlan, entrance.poe_w) == (
        "sw-core",
        "GigabitEthernet1/0/1",
        20,
        6.1,
    )
    assert entrance.channels_text == "nvr-main ch 1"
    assert entrance.where == "Main entrance, above door, 3 m"


def test_two_cameras_on_one_port_sit_behind_an_unmanaged_switch(small: Site) -> None:
    yard = next(s for s in small.record.switches if s.name == "sw-yard")
    port = next(p for p in yard.ports if p.name == "10")
    assert port.unmanaged and not port.uplink
    names = {d.id: d.name for d in small.record.devices}
    assert sorted(names[i] for i in port.device_ids) == ["cam-yard-east", "cam-yard-west"]
    assert all(d.shares_port for d in small.record.devices if d.name.startswith("cam-yard-"))


def test_lldp_links_are_one_per_cable_with_both_port_names(large: Site) -> None:
    links = large.record.links
    names = {s.id: s.name for s in large.record.switches}
    assert len(links) == 7  # a star: sw-01 to each of the others, reported from both ends
    pairs = {(names[link.a_id], link.a_port, link.b_name, link.b_port) for link in links}
    assert ("sw-01", "GigabitEthernet1/0/47", "sw-02", "48") in pairs
    assert ("sw-01", "GigabitEthernet1/0/41", "sw-08", "48") in pairs


def test_changes_against_the_baseline_colour_the_devices(small: Site) -> None:
    rows = by_name(small.record)
    assert rows["cam-new"].highlight is Highlight.ADDED
    assert rows["cam-gate"].highlight is Highlight.REPLACED
    assert rows["cam-office"].highlight is Highlight.MOVED
    assert rows["cam-lobby"].highlight is Highlight.CHANGED
    assert rows["cam-entrance"].highlight is None
    changes = small.record.changes
    assert changes is not None and changes.against_version == 1
    assert changes.counts == small.diff.counts()
    [missing] = changes.of_kind("missing")
    assert "cam-dock-2" in missing.label and missing.state == "unreachable"


def test_no_baseline_means_no_change_section_and_no_colour(small: Site) -> None:
    record = make_record(small.current, None)
    assert record.changes is None and record.baseline is None
    assert all(d.highlight is None for d in record.devices)


def test_recorder_channels_name_their_cameras_and_streams(large: Site) -> None:
    nvr = next(r for r in large.record.recorders if r.name == "nvr-01")
    first = nvr.channels[0]
    assert (first.channel, first.camera_name, first.retention_days) == (1, "cam-001", 30)
    assert first.recording_mode is None  # not in snapshot v1: shown as "not reported"
    assert [s.token for s in first.streams] == ["profile_1", "profile_2"]
    assert first.streams[0].width == 1920 and first.streams[0].bitrate_kbps == 4096
    assert nvr.used_channels == sum(1 for c in nvr.channels if c.camera_id or c.source_address)


def test_site_record_slots_are_empty_until_the_record_fills_them(small: Site) -> None:
    record = small.record
    assert (record.floor_plans, record.photos, record.quote, record.visits) == ((), (), None, ())
    camera = next(d for d in small.current.devices if d.role is Role.CAMERA)
    placed = build_record(
        small.current,
        SiteInfo(customer="c", site_id="s"),
        generated_at=GENERATED_AT,
        extras=SiteRecordExtras(placements={camera.id: "Pole 7, 4 m, facing the gate"}),
    )
    row = next(d for d in placed.devices if d.id == camera.id)
    assert row.where == "Pole 7, 4 m, facing the gate" and row.location == camera.identity.location


def test_user_and_password_never_survive_in_a_uri() -> None:
    assert without_userinfo("rtsp://admin:S3cret@10.0.0.5:554/s1?x=1") == "rtsp://10.0.0.5:554/s1?x=1"
    assert without_userinfo("rtsp://[fe80::1]:554/a") == "rtsp://[fe80::1]:554/a"
    assert without_userinfo("rtsp://u:p@[fe80::1]/a") == "rtsp://[fe80::1]/a"
    assert without_userinfo("http://10.0.0.5/onvif/device_service") == "http://10.0.0.5/onvif/device_service"
    assert without_userinfo(None) is None
