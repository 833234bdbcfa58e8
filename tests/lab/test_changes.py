"""Every change kind yields the ground truth a scan must then find; impossible changes say why."""

from __future__ import annotations

import pytest

from drivers.schema import PoeStatus, device_id
from lab.changes import (
    ChangeError,
    add_device,
    apply_change,
    move_device,
    remove_device,
    set_fault,
    set_firmware,
    set_ip,
    set_stream,
    swap_device,
)
from lab.site import LabSite
from lab.truth import ground_truth


def test_move_puts_the_camera_on_the_new_port_and_frees_the_old(small_site: LabSite) -> None:
    truth = ground_truth(move_device(small_site, "cam-office", "sw-core:12"))
    cam = truth.device("cam-office")
    assert (cam.switch, cam.port, cam.poe_status, cam.power_w) == (
        "sw-core",
        "GigabitEthernet1/0/12",
        PoeStatus.DELIVERING,
        4.9,
    )
    ports = {p.name: p for p in truth.switch("sw-core").ports}
    assert ports["GigabitEthernet1/0/12"].alias == "cam-office"
    assert not ports["GigabitEthernet1/0/5"].up
    assert ports["GigabitEthernet1/0/5"].poe.status is PoeStatus.SEARCHING


def test_move_behind_the_unmanaged_switch_shares_its_port(small_site: LabSite) -> None:
    truth = ground_truth(move_device(small_site, "cam-gate", "cab-poe-1"))
    cam = truth.device("cam-gate")
    assert (cam.port, cam.via) == ("10", "cab-poe-1")
    assert cam.power_w == round(9.6 + 9.1 + 10.4 + 2.5, 1)


def test_swap_keeps_name_ip_and_port_but_is_another_unit(small_site: LabSite) -> None:
    before = ground_truth(small_site).device("cam-gate")
    after_site = swap_device(small_site, "cam-gate")
    after = ground_truth(after_site).device("cam-gate")
    assert (after.ip, after.switch, after.port) == (before.ip, before.switch, before.port)
    assert after.mac != before.mac and after.mac[:8] == before.mac[:8]  # same vendor OUI
    assert after.serial != before.serial
    assert after.device_id == device_id(mac=after.mac) != before.device_id
    assert after.endpoint_reference != before.endpoint_reference
    nvr = ground_truth(after_site).device("nvr-yard")
    assert nvr.channels[0].camera_id == after.device_id  # the recorder now records the new unit


def test_swap_with_given_identity(small_site: LabSite) -> None:
    site = swap_device(small_site, "cam-lobby", mac="AC-CC-8E-99-00-01", serial="ACCC8E990001")
    cam = ground_truth(site).device("cam-lobby")
    assert (cam.mac, cam.serial) == ("ac:cc:8e:99:00:01", "ACCC8E990001")


def test_firmware_and_ip_changes(small_site: LabSite) -> None:
    site = set_ip(set_firmware(small_site, "cam-lobby", "10.12.200"), "cam-lobby", "10.77.0.99")
    cam = ground_truth(site).device("cam-lobby")
    assert (cam.firmware, cam.ip, cam.device_id) == ("10.12.200", "10.77.0.99", "mac:ac:cc:8e:5a:01:02")


def test_stream_setting_shows_in_the_profiles(small_site: LabSite) -> None:
    site = set_stream(small_site, "cam-parking", "profile_1", bitrate_kbps=8192, frame_rate=15)
    profile = ground_truth(site).device("cam-parking").profiles[0]
    assert (profile.token, profile.bitrate_kbps, profile.frame_rate, profile.width) == (
        "profile_1",
        8192,
        15,
        2560,
    )


def test_add_like_an_existing_camera_gets_a_fresh_identity(small_site: LabSite) -> None:
    site = add_device(small_site, like="cam-office", name="cam-new", port="sw-core:14")
    truth = ground_truth(site)
    new, like = truth.device("cam-new"), truth.device("cam-office")
    assert (new.vendor, new.model, new.firmware) == (like.vendor, like.model, like.firmware)
    assert new.port == "GigabitEthernet1/0/14" and new.poe_status is PoeStatus.DELIVERING
    assert new.mac[:8] == like.mac[:8]
    assert len({d.mac for d in truth.devices}) == len({d.ip for d in truth.devices}) == len(truth.devices)
    assert new.ip == "10.77.0.4"  # lowest free address after the gateway and the switches
    assert new.serial not in {d.serial for d in truth.devices if d.name != "cam-new"}


def test_remove_drops_the_device_and_its_recorder_channel(small_site: LabSite) -> None:
    truth = ground_truth(remove_device(small_site, "cam-dock-2"))
    assert "cam-dock-2" not in {d.name for d in truth.devices}
    nvr = truth.device("nvr-main")
    assert [c.camera for c in nvr.channels][5:] == ["cam-dock-1", "cam-server"]
    port8 = {p.name: p for p in truth.switch("sw-core").ports}["GigabitEthernet1/0/8"]
    assert not port8.up and port8.alias == ""


def test_fault_changes_the_site_only(small_site: LabSite) -> None:
    site = set_fault(small_site, "cam-stairs", "reject_credentials")
    assert site.device("cam-stairs").faults.reject_credentials
    site = set_fault(site, "cam-lobby", "clock_offset_s", "-30")
    assert site.device("cam-lobby").faults.clock_offset_s == -30.0
    assert set_fault(site, "sw-core", "snmp_timeout").switch("sw-core").faults.snmp_timeout
    assert ground_truth(site) == ground_truth(small_site)  # what a scan must find is unchanged


@pytest.mark.parametrize(
    ("kind", "args", "message"),
    [
        ("move", {"name": "cam-office", "to": "sw-core:1"}, "port 1 is already used by cam-entrance"),
        ("move", {"name": "cam-office", "to": "sw-core:99"}, "port 99 does not exist on sw-core"),
        ("move", {"name": "cam-office", "to": "sw-nowhere:3"}, "unknown switch 'sw-nowhere'"),
        ("move", {"name": "cam-office", "to": "sw-core:x"}, "port must be a number"),
        ("move", {"name": "cam-ghost", "to": "sw-core:12"}, "no camera or recorder named 'cam-ghost'"),
        ("add", {"like": "cam-office", "name": "cam-lobby", "port": "sw-core:14"}, "duplicate names"),
        ("ip", {"name": "cam-office", "ip": "192.168.1.5"}, "outside the site subnet"),
        ("ip", {"name": "cam-office", "ip": "10.77.0.21"}, "duplicate IP"),
        ("fault", {"name": "cam-office", "fault": "explodes"}, "unknown fault 'explodes'"),
        ("setting", {"name": "cam-office", "profile": "nope", "bitrate_kbps": 1}, "no stream profile 'nope'"),
        ("setting", {"name": "cam-office", "profile": "profile_1"}, "no setting given"),
        ("firmware", {"name": "cam-office", "version": " "}, "firmware version is empty"),
        ("swap", {"name": "cam-office", "colour": "red"}, "unexpected keyword argument 'colour'"),
        ("paint", {}, "unknown change 'paint'"),
    ],
)
def test_impossible_changes_are_refused_with_a_reason(
    small_site: LabSite, kind: str, args: dict[str, object], message: str
) -> None:
    with pytest.raises(ChangeError, match=message.replace("(", r"\(")):
        apply_change(small_site, kind, args)


def test_changes_leave_the_input_site_untouched(small_site: LabSite) -> None:
    before = small_site.model_dump()
    apply_change(small_site, "swap", {"name": "cam-gate"})
    apply_change(small_site, "remove", {"name": "cam-dock-2"})
    apply_change(small_site, "setting", {"name": "cam-parking", "profile": "profile_1", "bitrate_kbps": 1})
    assert small_site.model_dump() == before
