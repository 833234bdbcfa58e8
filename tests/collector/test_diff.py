"""The diff engine, one change kind at a time, on snapshots built from the schema models."""

from __future__ import annotations

import random
from datetime import timedelta

from collector.diff import ChangeKind, MatchedBy, MissingState, diff_snapshots, filter_noise
from drivers.schema import ConfigText, MediaProfile, PoeStatus, Snapshot, VideoEncoderSettings
from tests.collector.factory import (
    CORE_CONFIG,
    SW_CORE,
    SW_YARD,
    T0,
    camera,
    depot,
    device,
    edit,
    large_site,
    poe_port,
    problem,
    switch,
    with_devices,
)


def only(diff, kind):
    changes = diff.of_kind(kind)
    assert len(changes) == 1, [c.summary for c in diff.changes]
    assert len(diff.changes) == 1, [c.summary for c in diff.changes]
    return changes[0]


def paths(change) -> list[str]:
    return [f.path for f in change.fields]


def test_volatile_only_changes_give_an_empty_diff():
    old = depot()
    # New scan times, uptimes, clock offsets, power readings, counters, discovery methods, problem text.
    noisy = []
    for d in old.devices:
        d = edit(d, uptime_s=5, discovered_by=("mdns",))
        if d.onvif is not None:
            d = edit(d, onvif__clock_offset_s=-3600.0)
        if d.attachment is not None:
            d = edit(d, attachment__poe_power_w=12.25)
        if d.switch is not None:
            ports = tuple(edit(p, in_octets=99, out_octets=98, poe__power_w=1.5) for p in d.switch.ports)
            d = edit(d, switch__ports=ports, switch__uptime_s=9, switch__poe_consumption_w=300.0)
        noisy.append(d)
    new = with_devices(old, *noisy, problems=(problem("10.77.0.99", "other words"),))
    old = with_devices(old, problems=(problem("10.77.0.99"),))
    new = with_devices(
        new, scan=edit(new.scan, started_at=T0 + timedelta(days=1), finished_at=T0 + timedelta(days=2))
    )

    diff = diff_snapshots(old, new)
    assert diff.empty, [c.summary for c in diff.changes]
    assert old.content_hash() == new.content_hash()


def test_added_camera_at_a_new_port():
    old = depot()
    newcomer = camera("cam-fence", "c0:56:e3:44:20:09", "10.77.0.69", port=7)
    change = only(diff_snapshots(old, with_devices(old, newcomer)), ChangeKind.ADDED)
    assert change.device_id == "mac:c0:56:e3:44:20:09"
    assert change.summary == (
        "Camera cam-fence (HIKVISION DS-2CD2T47G2-L) added at sw-yard GigabitEthernet1/0/7: "
        "IP 10.77.0.69, serial SER-cam-fence, MAC c0:56:e3:44:20:09"
    )


def test_missing_camera_is_unreachable_then_removed_after_the_grace():
    old = depot()
    gate = device(old, "cam-gate")
    new = with_devices(old, drop=[gate.id])

    first = only(diff_snapshots(old, new), ChangeKind.MISSING)
    assert (first.state, first.absent_scans) == (MissingState.UNREACHABLE, 1)
    assert first.summary.startswith(
        "Camera cam-gate (HIKVISION DS-2CD2T47G2-L) at sw-yard GigabitEthernet1/0/1 missing"
    )

    later = only(diff_snapshots(old, new, absent_scans={gate.id: 3}, removed_after=3), ChangeKind.MISSING)
    assert (later.state, later.absent_scans) == (MissingState.REMOVED, 3)
    assert "removed (absent for 3 consecutive scans)" in later.summary


def test_swapped_camera_on_the_same_port_is_replaced():
    old = depot()
    gate = device(old, "cam-gate")
    swap = camera("cam-gate-2", "c0:56:e3:44:20:77", "10.77.0.88", port=1, serial="DS-2CD2T47G2-L20240101NEW")
    change = only(diff_snapshots(old, with_devices(old, swap, drop=[gate.id])), ChangeKind.REPLACED)
    assert change.matched_by is MatchedBy.PORT
    assert (change.old_device_id, change.device_id) == (gate.id, swap.id)
    assert change.summary == (
        "Camera cam-gate (HIKVISION DS-2CD2T47G2-L) at sw-yard GigabitEthernet1/0/1 replaced (same port): "
        "serial DS-2CD2T47G2-L20230702AAWRJ80000001 → DS-2CD2T47G2-L20240101NEW, "
        "MAC c0:56:e3:44:20:01 → c0:56:e3:44:20:77, IP 10.77.0.61 → 10.77.0.88, "
        "hostname cam-gate → cam-gate-2"
    )
    assert "network.ip" in paths(change)


def test_replacement_found_by_ip_when_no_port_is_known():
    old = depot()
    gate = device(old, "cam-gate")
    old = with_devices(old, edit(gate, attachment=None))
    swap = camera("cam-gate", "c0:56:e3:44:20:77", "10.77.0.61", switch_id=None, model="DS-2CD2387G2-LU")
    change = only(diff_snapshots(old, with_devices(old, swap, drop=[gate.id])), ChangeKind.REPLACED)
    assert change.matched_by is MatchedBy.IP
    assert "replaced by HIKVISION DS-2CD2387G2-LU (same ip)" in change.summary
    assert "identity.model" in paths(change)


def test_replacement_found_by_hostname_as_a_last_resort():
    old = depot()
    gate = device(old, "cam-gate")
    old = with_devices(old, edit(gate, attachment=None))
    swap = camera("CAM-GATE", "c0:56:e3:44:20:77", "10.77.0.90", switch_id=None)
    change = only(diff_snapshots(old, with_devices(old, swap, drop=[gate.id])), ChangeKind.REPLACED)
    assert change.matched_by is MatchedBy.HOSTNAME


def test_a_camera_on_another_port_has_moved():
    old = depot()
    gate = device(old, "cam-gate")
    moved = edit(
        gate, attachment__switch_id=SW_CORE, attachment__switch_name="sw-core", attachment__port="Gi1/0/9"
    )
    change = only(diff_snapshots(old, with_devices(old, moved)), ChangeKind.MOVED)
    assert change.summary == (
        "Camera cam-gate (HIKVISION DS-2CD2T47G2-L) moved: "
        "sw-yard GigabitEthernet1/0/1 → sw-core GigabitEthernet1/0/9"
    )


def test_firmware_ip_and_stream_settings_are_listed_field_by_field():
    old = depot()
    gate = device(old, "cam-gate")
    profile = gate.onvif.profiles[0]
    new_profile = edit(profile, video_encoder=edit(profile.video_encoder, bitrate_kbps=2048, frame_rate=12.5))
    second = MediaProfile(token="profile_2", name="Sub", video_encoder=VideoEncoderSettings(encoding="H264"))
    changed = edit(
        gate,
        identity__firmware="V5.8.0 build 240101",
        network__ip="10.77.0.161",
        onvif__profiles=(new_profile, second),
    )
    change = only(diff_snapshots(old, with_devices(old, changed)), ChangeKind.CHANGED)
    assert paths(change) == [
        "identity.firmware",
        "network.ip",
        "onvif.profiles[profile_1].video_encoder.frame_rate",
        "onvif.profiles[profile_1].video_encoder.bitrate_kbps",
        "onvif.profiles[profile_2]",
    ]
    by_path = {f.path: f for f in change.fields}
    assert (by_path["identity.firmware"].old, by_path["identity.firmware"].new) == (
        "V5.7.10 build 220819",
        "V5.8.0 build 240101",
    )
    assert by_path["onvif.profiles[profile_2]"].describe() == "onvif.profiles[profile_2] added"
    assert change.summary.startswith(
        "Camera cam-gate (HIKVISION DS-2CD2T47G2-L) at sw-yard GigabitEthernet1/0/1 changed: "
        "identity.firmware V5.7.10 build 220819 → V5.8.0 build 240101; network.ip 10.77.0.61 → 10.77.0.161;"
    )
    assert change.summary.endswith("and 2 more")


def test_poe_vlan_and_alias_changes_belong_to_the_switch():
    old = depot()
    yard = device(old, "sw-yard")
    ports = (
        poe_port(1, alias="cam-gate", status=PoeStatus.DISABLED),
        poe_port(3, alias="cam-car-park", vlan=30),
    )
    change = only(diff_snapshots(old, with_devices(old, edit(yard, switch__ports=ports))), ChangeKind.CHANGED)
    assert change.device_id == SW_YARD
    assert paths(change) == [
        "switch.ports[GigabitEthernet1/0/1].oper_up",
        "switch.ports[GigabitEthernet1/0/1].poe.status",
        "switch.ports[GigabitEthernet1/0/3].alias",
        "switch.ports[GigabitEthernet1/0/3].vlan",
    ]
    assert (
        change.fields[1].describe() == "switch.ports[GigabitEthernet1/0/1].poe.status delivering → disabled"
    )


def test_poe_status_seen_on_the_camera_attachment():
    old = depot()
    gate = device(old, "cam-gate")
    change = only(
        diff_snapshots(old, with_devices(old, edit(gate, attachment__poe_status=PoeStatus.SEARCHING))),
        ChangeKind.CHANGED,
    )
    assert paths(change) == ["attachment.poe_status"]


def test_configuration_noise_is_ignored_and_real_edits_are_a_unified_diff():
    old = depot()
    noise_only = CORE_CONFIG.replace("02:11:09 UTC Mon Nov 23", "07:45:00 UTC Tue Nov 24").replace(
        "ntp clock-period 36028797", "ntp clock-period 36028801"
    )
    noisy = with_devices(
        old, configs=(ConfigText(device_id=SW_CORE, kind="running-config", text=noise_only),)
    )
    assert diff_snapshots(old, noisy).empty

    edited = noise_only.replace(" switchport access vlan 20\n", " switchport access vlan 30\n")
    new = with_devices(old, configs=(ConfigText(device_id=SW_CORE, kind="running-config", text=edited),))
    change = only(diff_snapshots(old, new), ChangeKind.CHANGED)
    assert change.device_id == SW_CORE
    field = change.fields[0]
    assert field.path == "config[running-config]"
    assert "- switchport access vlan 20" in field.text_diff
    assert "+ switchport access vlan 30" in field.text_diff
    assert "Last configuration change" not in field.text_diff
    assert "config[running-config] changed (+1 −1 lines)" in change.summary


def test_noise_filter_drops_timestamps_and_keeps_settings():
    kept = filter_noise(CORE_CONFIG)
    assert "hostname sw-core" in kept
    assert not any("Last configuration change" in ln or "clock-period" in ln for ln in kept)


def test_replaced_switch_keeps_the_cameras_behind_it_in_place():
    old = depot()
    yard = device(old, "sw-yard")
    new_yard = switch("sw-yard", "94:18:82:7a:99:99", "10.77.0.3", vendor="Aruba", model="2530-24G-PoEP",
                      ports=yard.switch.ports)  # fmt: skip
    cams = [
        edit(d, attachment__switch_id=new_yard.id)
        for d in old.devices
        if d.attachment is not None and d.attachment.switch_id == SW_YARD
    ]
    change = only(
        diff_snapshots(old, with_devices(old, new_yard, *cams, drop=[yard.id])), ChangeKind.REPLACED
    )
    assert (change.old_device_id, change.device_id, change.matched_by) == (yard.id, new_yard.id, MatchedBy.IP)


def test_reordered_lists_are_not_a_change():
    old = depot()
    gate = device(old, "cam-gate")
    flipped = edit(gate, network__dns=tuple(reversed(gate.network.dns)))
    assert diff_snapshots(old, with_devices(old, flipped)).empty


def test_order_is_deterministic_and_grouped_by_kind():
    old = large_site(200)
    devices = list(old.devices)
    rng = random.Random(7)
    gone = rng.sample([d for d in devices if d.role.value == "camera"], 5)
    changed = [edit(d, identity__firmware="X") for d in rng.sample(devices, 5) if d not in gone]
    added = [camera(f"cam-new-{i}", f"0e:00:00:00:00:{i:02x}", f"10.200.0.{i}", port=None) for i in range(3)]
    new = with_devices(old, *changed, *added, drop=[d.id for d in gone])
    shuffled = Snapshot.model_validate(
        {**new.model_dump(), "devices": rng.sample(list(new.devices), len(new.devices))}
    )

    first, second = diff_snapshots(old, new), diff_snapshots(old, shuffled)
    assert first == second
    kinds = [c.kind for c in first.changes]
    assert kinds == sorted(kinds, key=list(ChangeKind).index)
    assert first.counts()["missing"] == 5 and first.counts()["added"] == 3
    summary = first.summary(limit=4)
    assert summary.truncated and len(summary.lines) == 4
