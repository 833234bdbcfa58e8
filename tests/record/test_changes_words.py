"""Changes in people's words: realistic diffs (``diff_snapshots`` on real-looking snapshots) in, items
a technician reads out: side effects under their cause, fields named as on site, counts as a person counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from collector.changes_words import present
from collector.diff import ChangeKind, FieldChange, diff_snapshots
from collector.field_words import describe, short_port, stream_name
from drivers.schema import RecorderChannel, Snapshot, SwitchPort, VideoEncoderSettings
from tests.collector.factory import device, edit
from tests.record.site_changes import SW_CORE, move_to, plug_in, reconfigure, repatch, site, swap, unplug

P1 = "onvif.profiles[profile_1].video_encoder"
NEW_GATE_MAC, NEW_GATE_SERIAL = "c0:56:e3:44:20:99", "DS-2CD2T47G2-L20251104AAWRK11111111"


def stream(snap: Snapshot, hostname: str, **settings: object) -> Snapshot:
    cam = device(snap, hostname)
    assert cam.onvif is not None and cam.onvif.profiles[0].video_encoder is not None
    main = cam.onvif.profiles[0]
    encoder: VideoEncoderSettings = edit(main.video_encoder, **settings)
    profiles = (main.model_copy(update={"video_encoder": encoder}), *cam.onvif.profiles[1:])
    return reconfigure(snap, hostname, onvif=cam.onvif.model_copy(update={"profiles": profiles}))


def readdress(snap: Snapshot, hostname: str, ip: str) -> Snapshot:
    """The camera gets a new IP and the recorder is told: its channel's address follows."""
    cam = device(snap, hostname)
    nvr = device(snap, "nvr-main")
    assert nvr.recorder is not None
    channels = tuple(
        c.model_copy(update={"source_address": ip}) if c.camera_id == cam.id else c
        for c in nvr.recorder.channels
    )
    snap = reconfigure(snap, hostname, network__ip=ip)
    return reconfigure(snap, "nvr-main", recorder__channels=channels)


def new_camera_recorded(snap: Snapshot) -> Snapshot:
    snap = plug_in(snap, "cam-new", "ac:cc:8e:5a:01:11", "10.77.0.30", SW_CORE, 11)
    nvr = device(snap, "nvr-main")
    assert nvr.recorder is not None
    ch = RecorderChannel(channel=7, name="cam-new", source_id="src-7", source_address="10.77.0.30",
                         camera_id=device(snap, "cam-new").id, recording_days=30)  # fmt: skip
    return reconfigure(snap, "nvr-main", recorder__channels=(*nvr.recorder.channels, ch))


def core_ports(snap: Snapshot, n: int, **changes: object) -> tuple[SwitchPort, ...]:
    info = device(snap, "sw-core").switch
    assert info is not None
    return tuple(edit(p, **changes) if p.name.endswith(f"/{n}") else p for p in info.ports)


@dataclass(frozen=True)
class Case:
    name: str
    change: Callable[[Snapshot], Snapshot]
    summary: str  # what a person counts
    headlines: list[str]
    effects: dict[int, list[str]] = field(default_factory=dict)  # item index → effect lines
    details: dict[int, list[str]] = field(default_factory=dict)
    diff_changes: int | None = None  # what the engineers' diff counts, for contrast


CASES = [
    Case(
        "one re-patch plus one swap is two changes, not four",
        lambda s: swap(repatch(s, "cam-office", 12), "cam-gate", NEW_GATE_MAC, NEW_GATE_SERIAL),
        "2 changes: 1 swapped, 1 re-patched",
        [
            "Camera cam-gate (HIKVISION DS-2CD2T47G2-L) at sw-yard Gi1/0/1 swapped for another unit",
            "Camera cam-office (AXIS M3106-L Mk II) re-patched: sw-core Gi1/0/4 → Gi1/0/12",
        ],
        effects={
            0: ["nvr-main channel 4 follows the swap: it now records the new unit"],
            1: [
                "sw-core Gi1/0/4 freed: description “cam-office” cleared, link up → down, "
                "PoE delivering → searching",
                "sw-core Gi1/0/12 now in use: description set to “cam-office”, link down → up, "
                "PoE searching → delivering",
                "sw-core running configuration: port descriptions updated (+1 −1 lines)",
            ],
        },
        details={
            0: [
                f"serial number SER-cam-gate → {NEW_GATE_SERIAL}",
                f"MAC address c0:56:e3:44:20:01 → {NEW_GATE_MAC}",
            ]
        },
        diff_changes=4,
    ),
    Case(
        "a removed camera takes its switch port's link and PoE and its recorder channel with it",
        lambda s: unplug(s, "cam-dock-2"),
        "1 change: 1 missing",
        ["Camera cam-dock-2 (HIKVISION DS-2CD2T47G2-L) at sw-yard Gi1/0/5 not answering (missed 1 scan)"],
        effects={
            0: [
                "sw-yard Gi1/0/5 freed: description “cam-dock-2” cleared, link up → down, "
                "PoE delivering → searching",
                "nvr-main channel 6 records no camera",
            ]
        },
        diff_changes=3,
    ),
    Case(
        "a new camera: its port, its new recorder channel and the switch's configuration under it",
        new_camera_recorded,
        "1 change: 1 new",
        ["Camera cam-new (AXIS M3106-L Mk II) added at sw-core Gi1/0/11"],
        effects={
            0: [
                "sw-core Gi1/0/11 now in use: description set to “cam-new”, link down → up, "
                "PoE searching → delivering",
                "nvr-main channel 7 added",
                "sw-core running configuration: port descriptions updated (+1 −0 lines)",
            ]
        },
        diff_changes=3,
    ),
    Case(
        "firmware and stream settings of one camera, in its own words",
        lambda s: stream(
            reconfigure(s, "cam-gate", identity__firmware="V5.7.15 build 230601"),
            "cam-gate",
            frame_rate=10.0,
            width=1920,
            height=1080,
            bitrate_kbps=2048,
        ),
        "1 change: 1 changed",
        ["Camera cam-gate (HIKVISION DS-2CD2T47G2-L) at sw-yard Gi1/0/1 changed"],
        details={
            0: [
                "firmware V5.7.3 build 220112 → V5.7.15 build 230601",
                "main stream resolution 2560×1440 → 1920×1080",
                "main stream frame rate 25 → 10 fps",
                "main stream bit rate 4096 → 2048 kbit/s",
            ]
        },
    ),
    Case(
        "one field: said in the headline",
        lambda s: stream(s, "cam-parking", frame_rate=12.5),
        "1 change: 1 changed",
        ["Camera cam-parking (AXIS Q1798-LE) at sw-yard Gi1/0/3: main stream frame rate 25 → 12.5 fps"],
    ),
    Case(
        "a re-addressed camera: the recorder channel's address follows it",
        lambda s: readdress(s, "cam-parking", "10.77.0.72"),
        "1 change: 1 changed",
        ["Camera cam-parking (AXIS Q1798-LE) at sw-yard Gi1/0/3: IP address 10.77.0.71 → 10.77.0.72"],
        effects={0: ["nvr-main channel 5 camera address 10.77.0.71 → 10.77.0.72"]},
        diff_changes=2,
    ),
    Case(
        "a switch port nobody explains stays a change of its own",
        lambda s: reconfigure(s, "sw-core", switch__ports=core_ports(s, 11, vlan=30)),
        "1 change: 1 changed",
        ["Switch sw-core (Cisco C2960X): Gi1/0/11 VLAN 20 → 30"],
    ),
    Case(
        "a camera moved to another switch: the port it left and the port it took, on both switches",
        lambda s: move_to(s, "cam-parking", SW_CORE, 11),
        "1 change: 1 re-patched",
        ["Camera cam-parking (AXIS Q1798-LE) re-patched: sw-yard Gi1/0/3 → sw-core Gi1/0/11"],
        effects={
            0: [
                "sw-yard Gi1/0/3 freed: description “cam-parking” cleared, link up → down, "
                "PoE delivering → searching",
                "sw-core Gi1/0/11 now in use: description set to “cam-parking”, link down → up, "
                "PoE searching → delivering",
                "sw-core running configuration: port descriptions updated (+1 −0 lines)",
            ]
        },
        diff_changes=3,
    ),
    Case("nothing changed", lambda s: s, "No changes", []),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_changes_read_as_a_technician_says_them(case: Case):
    before = site()
    diff = diff_snapshots(before, case.change(before))
    report = present(diff)
    assert report.summary() == case.summary
    assert [i.headline for i in report.items] == case.headlines
    for index, lines in case.effects.items():
        assert [e.text for e in report.items[index].effects] == lines
    for index, lines in case.details.items():
        assert list(report.items[index].details) == lines
    for index, item in enumerate(report.items):
        if index not in case.effects:
            assert item.effects == ()
    if case.diff_changes is not None:
        assert len(diff.changes) == case.diff_changes > report.count


def test_the_e2e_batch_counts_six_changes_not_nine():
    """The batch of tests/e2e/test_change_detection.py: add, remove, swap, move, firmware, bitrate."""
    before = site()
    after = new_camera_recorded(before)
    after = unplug(after, "cam-dock-2")
    after = swap(after, "cam-gate", NEW_GATE_MAC, NEW_GATE_SERIAL)
    after = repatch(after, "cam-office", 12)
    after = reconfigure(after, "cam-lobby", identity__firmware="10.12.200")
    after = stream(after, "cam-parking", bitrate_kbps=8192)
    diff = diff_snapshots(before, after)
    report = present(diff)
    assert len(diff.changes) == 9  # the switches and the recorder changed too, in engineers' terms
    assert report.summary() == "6 changes: 1 swapped, 1 missing, 1 new, 1 re-patched, 2 changed"
    by_device = {i.device_id: i for i in report.items}
    assert len(by_device[device(after, "cam-new").id].effects) == 3  # port, channel, configuration
    nvr_lines = [e.text for i in report.items for e in i.effects if e.subject.startswith("nvr-main")]
    assert sorted(nvr_lines) == [
        "nvr-main channel 4 follows the swap: it now records the new unit",
        "nvr-main channel 6 records no camera",
        "nvr-main channel 7 added",
    ]
    assert [i.headline for i in report.items] == [
        "Camera cam-gate (HIKVISION DS-2CD2T47G2-L) at sw-yard Gi1/0/1 swapped for another unit",
        "Camera cam-dock-2 (HIKVISION DS-2CD2T47G2-L) at sw-yard Gi1/0/5 not answering (missed 1 scan)",
        "Camera cam-new (AXIS M3106-L Mk II) added at sw-core Gi1/0/11",
        "Camera cam-office (AXIS M3106-L Mk II) re-patched: sw-core Gi1/0/4 → Gi1/0/12",
        "Camera cam-lobby (AXIS M3106-L Mk II) at sw-core Gi1/0/2: firmware 10.12.114 → 10.12.200",
        "Camera cam-parking (AXIS Q1798-LE) at sw-yard Gi1/0/3: main stream bit rate 4096 → 8192 kbit/s",
    ]
    # sw-core's one configuration diff is shared out: each description line goes to its own cause.
    config_lines = [
        (i.device_id, e.text) for i in report.items for e in i.effects if e.role == "configuration"
    ]
    assert config_lines == [
        (
            device(after, "cam-new").id,
            "sw-core running configuration: port descriptions updated (+1 −0 lines)",
        ),
        (
            device(after, "cam-office").id,
            "sw-core running configuration: port descriptions updated (+1 −1 lines)",
        ),
    ]


@pytest.mark.parametrize(
    ("path", "old", "new", "words"),
    [
        (f"{P1}.frame_rate", 25.0, 10.0, "main stream frame rate 25 → 10 fps"),
        ("onvif.profiles[Profile_2].video_encoder.bitrate_kbps", 512, 1024,
         "sub stream bit rate 512 → 1024 kbit/s"),
        ("onvif.profiles[MediaProfile000].video_encoder.encoding", "H264", "H265",
         "main stream codec H264 → H265"),
        ("onvif.profiles[MediaProfile001].video_encoder.gov_length", 50, 25,
         "sub stream I-frame interval 50 → 25 frames"),
        ("onvif.profiles[profile_2]", None, {"token": "profile_2"}, "sub stream added"),
        ("identity.firmware", "5.7.3", "5.7.15", "firmware 5.7.3 → 5.7.15"),
        ("switch.ports[GigabitEthernet1/0/12].poe.power_w", 4.1, 6.3, "Gi1/0/12 PoE draw 4.1 → 6.3 W"),
        ("switch.ports[GigabitEthernet1/0/12].oper_up", False, True, "Gi1/0/12 link down → up"),
        ("switch.ports[FastEthernet0/3].admin_up", True, False, "Fa0/3 port enabled → disabled"),
        ("switch.ports[1/1/7].alias", None, "cam-dock", "1/1/7 description set to “cam-dock”"),
        ("switch.poe_budget_w", 370.0, 740.0, "PoE budget 370 → 740 W"),
        ("network.prefix_length", 24, 23, "subnet prefix /24 → /23"),
        ("network.dhcp", True, False, "DHCP on → off"),
        ("network.protocols[HTTP].enabled", True, False, "HTTP on → off"),
        ("network.protocols[RTSP].ports", [554], [8554], "RTSP port 554 → 8554"),
        ("onvif.users[operator]", None, {"username": "operator", "level": "Operator"},
         "device user “operator” added (Operator)"),
        ("onvif.users[admin].level", "Operator", "Administrator",
         "device user “admin” level Operator → Administrator"),
        ("onvif.scopes", ["a", "b"], ["a", "c", "d"], "ONVIF scopes changed (2 added, 1 removed)"),
        ("recorder.channels[3].recording_days", 30, 14, "channel 3 retention 30 → 14 days"),
        ("switch.vlans[30]", None, {"vlan_id": 30}, "VLAN 30 added"),
        ("attachment.poe_class", 3, 4, "PoE class 3 → 4"),
    ],
)  # fmt: skip
def test_field_names_as_a_technician_says_them(path: str, old: object, new: object, words: str):
    assert describe(FieldChange(path=path, old=old, new=new)) == words


def test_configuration_text_changes_are_counted_in_lines():
    diff = "\n".join(
        [
            "--- running-config (before)",
            "+++ running-config (now)",
            "@@",
            "-ntp server 1.1.1.1",
            "+ntp x",
            "+y",
        ]
    )
    assert describe(FieldChange(path="config[running-config]", text_diff=diff)) == (
        "running configuration changed (+2 −1 lines)"
    )


def test_port_and_stream_names():
    ports = ("GigabitEthernet1/0/12", "TenGigabitEthernet1/1/1", "ge-0/0/3", "Port 5")
    assert [short_port(p) for p in ports] == [
        "Gi1/0/12", "Te1/1/1", "ge-0/0/3", "Port 5",
    ]  # fmt: skip
    assert [stream_name(t) for t in ("profile_1", "SubStream", "Profile_3", "weird")] == [
        "main stream", "sub stream", "third stream", "stream “weird”",
    ]  # fmt: skip


def test_kinds_are_counted_by_kind():
    before = site()
    report = present(diff_snapshots(before, unplug(repatch(before, "cam-lobby", 12), "cam-gate")))
    assert report.counts() == {k.value: n for k, n in zip(ChangeKind, (0, 1, 0, 1, 0), strict=True)}
