"""End to end, every change kind, on SQLite and on the real PostgreSQL server.

The simulated small site runs on loopback addresses (127.27.x.y); `asbuilt scan --push` scans it
and delivers to a real collector process. Version 1 is approved as the baseline; a re-scan of the
unchanged site must be "seen again" — no new version, an empty diff — which also proves that
volatile fields (clock offsets, PoE draw, uptimes) never make a change.

Then the running site changes in one batch: a camera added, one removed, one swapped for another
unit on the same port, one moved to another port, a firmware update, a stream bitrate change. One
re-scan later the collector's diff against the baseline must name each change with the right kind,
plus exactly the consequences a technician expects (the switch ports involved, the recorders'
channels), and nothing else. Expectations come from the lab's ground truth before and after the
changes, never from the scan itself.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drivers.schema import Snapshot, significant
from lab.truth import GroundTruth, TruthDevice, TruthPort, TruthSwitch
from tests.agent.labproc import LabProcess
from tests.e2e.collectorproc import ASBUILT, CollectorProcess, clean_env, postgres_database

SITE = "depot-nord"
LAB_ID, LAB_BASE = "g", 27  # loopback addresses 127.27.x.y, reserved for this test
SCAN_TIMEOUT_S = "5"
EXIT_OK = 0

NEW_CAMERA, NEW_PORT, MOVE_TO = "cam-new", 11, 12  # both sw-core ports are free on the small site
NEW_FIRMWARE, NEW_BITRATE = "10.12.200", 8192

# A field check: exact (old, new) values, or a predicate on the field change as the API returns it.
Check = tuple[Any, Any] | Callable[[dict[str, Any]], bool]


def changed(f: dict[str, Any]) -> bool:
    """any change (the values are the device's own business, e.g. an empty channel's name)"""
    return bool(f["old"] != f["new"])


@dataclass(frozen=True)
class Expected:
    kind: str
    device_id: str
    fields: dict[str, Check] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)  # other attributes of the change: position, ...


# ---------------------------------------------------------------- the processes


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None  # the collector's default: SQLite in its data directory
        return
    with postgres_database() as url:  # fails loudly when PostgreSQL is down; always dropped
        yield url


@pytest.fixture
def collector(database_url: str | None, tmp_path: Path) -> Iterator[CollectorProcess]:
    with CollectorProcess(tmp_path / "collector", database_url) as running:
        yield running


@pytest.fixture
def lab() -> Iterator[LabProcess]:
    # A fresh site per database: the changes below are applied to the running site.
    with LabProcess("small", mode="loopback", lab_id=LAB_ID, base=LAB_BASE) as running:
        yield running


@dataclass(frozen=True)
class Scan:
    seconds: float
    snapshot: Snapshot
    stderr: str


@dataclass
class Agent:
    """`asbuilt scan --push` as an installer runs it, with the lab's ports and credential file."""

    lab: LabProcess
    collector: CollectorProcess
    work: Path

    def __post_init__(self) -> None:
        self.token_file = self.work / "agent-token"
        self.collector.enrol(SITE, self.token_file)

    def scan(self, name: str) -> Scan:
        # Written before every scan: an added camera comes with its own password, as on a real site.
        creds = self.lab.write_credentials(self.work / "creds.yaml")
        out = self.work / f"{name}.json"
        argv = [str(ASBUILT), "scan", self.lab.scope, "--site", SITE, "--creds", str(creds),
                "--ports", self.lab.ports_option, "--timeout", SCAN_TIMEOUT_S, "--wsd-window", "1",
                "--out", str(out), "--push", self.collector.url, "--token-file", str(self.token_file),
                "--spool", str(self.work / "spool")]  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=clean_env())
        seconds = time.monotonic() - started
        assert done.returncode == EXIT_OK, f"scan {name} exited {done.returncode}:\n{done.stderr[-4000:]}"
        return Scan(seconds, Snapshot.model_validate_json(out.read_text()), done.stderr)


def versions(collector: CollectorProcess) -> list[dict[str, Any]]:
    return list(collector.get(f"/api/v1/sites/{SITE}/versions")["versions"])  # newest first


def differing_sections(a: Snapshot, b: Snapshot) -> list[str]:
    """Which parts of two snapshots differ in significant content (for a useful failure message)."""
    return [n for n in Snapshot.model_fields if significant(getattr(a, n)) != significant(getattr(b, n))]


# ---------------------------------------------------------------- what the diff must say


def at(device: TruthDevice) -> str:
    return f"{device.switch} {device.port}"


def expected_changes(before: GroundTruth, after: GroundTruth) -> list[Expected]:
    new, gone = after.device(NEW_CAMERA), before.device("cam-dock-2")
    gate_old, gate_new = before.device("cam-gate"), after.device("cam-gate")
    office_old, office_new = before.device("cam-office"), after.device("cam-office")
    lobby_old, lobby_new = before.device("cam-lobby"), after.device("cam-lobby")
    park_old, park_new = before.device("cam-parking"), after.device("cam-parking")
    return [
        Expected("added", new.device_id, attrs={"position": at(new)}),
        Expected(
            "missing",
            gone.device_id,
            attrs={"position": at(gone), "state": "unreachable", "absent_scans": 1},
        ),
        Expected(
            "replaced",
            gate_new.device_id,
            fields={
                "identity.serial": (gate_old.serial, gate_new.serial),
                "identity.mac": (gate_old.mac, gate_new.mac),
                # Another unit announces its own MAC (its endpoint reference differs too, but that
                # is volatile: an address of the discovery protocol, never a change on its own).
                "onvif.scopes": mac_scope_swapped(gate_old.mac, gate_new.mac),
            },
            attrs={
                "old_device_id": gate_old.device_id,
                "matched_by": "port",
                "position": at(gate_new),
                "old_position": at(gate_old),
            },
        ),
        Expected(
            "moved",
            office_new.device_id,
            attrs={"position": at(office_new), "old_position": at(office_old)},
        ),
        Expected(
            "changed",
            lobby_new.device_id,
            fields={"identity.firmware": (lobby_old.firmware, lobby_new.firmware)},
        ),
        Expected(
            "changed",
            park_new.device_id,
            fields={
                "onvif.profiles[profile_1].video_encoder.bitrate_kbps": (
                    park_old.profiles[0].bitrate_kbps,
                    park_new.profiles[0].bitrate_kbps,
                )
            },
        ),
        *switch_consequences(before, after),
        *recorder_consequences(before, after),
    ]


def mac_scope_swapped(old_mac: str, new_mac: str) -> Callable[[dict[str, Any]], bool]:
    def check(f: dict[str, Any]) -> bool:
        """only the MAC scope differs, old MAC → new MAC"""
        old, new = set(f["old"]), set(f["new"])
        mac_scope = "onvif://www.onvif.org/MAC/{}".format
        return old - new == {mac_scope(old_mac)} and new - old == {mac_scope(new_mac)}

    return check


def switch_consequences(before: GroundTruth, after: GroundTruth) -> list[Expected]:
    """A switch changes where a cable was plugged in or pulled: the ports' description, link, PoE —
    and the description lines of its running configuration. Power drawn is volatile."""
    out: list[Expected] = []
    for old_switch in before.switches:
        new_switch = after.switch(old_switch.name)
        fields: dict[str, Check] = {}
        for old_port, new_port in zip(old_switch.ports, new_switch.ports, strict=True):
            fields.update(port_fields(old_port, new_port))
        if fields:
            fields["config[running-config]"] = description_lines_changed(old_switch, new_switch)
            out.append(Expected("changed", new_switch.device_id, fields=fields))
    return out


def port_fields(old: TruthPort, new: TruthPort) -> dict[str, Check]:
    values = {
        "alias": (old.alias or None, new.alias or None),
        "oper_up": (old.up, new.up),
        "vlan": (old.vlan, new.vlan),
        "is_uplink": (old.is_uplink, new.is_uplink),
        "poe.status": (old.poe.status.value, new.poe.status.value),
        "poe.power_class": (old.poe.power_class, new.poe.power_class),
    }
    prefix = f"switch.ports[{old.name}]"
    out: dict[str, Check] = {f"{prefix}.{k}": v for k, v in values.items() if v[0] != v[1]}
    if old.up != new.up:  # a link speed is only known while the link is up

        def speed(f: dict[str, Any]) -> bool:
            """a speed while the link is up, none while down"""
            return (f["old"] is None, f["new"] is None) == (not old.up, not new.up)

        out[f"{prefix}.speed_mbps"] = speed
    return out


def description_lines_changed(old: TruthSwitch, new: TruthSwitch) -> Callable[[dict[str, Any]], bool]:
    """The configuration diff holds exactly the description lines of the ports re-cabled (IOS syntax)."""
    pairs = list(zip(old.ports, new.ports, strict=True))
    removed = sorted(f"description {o.alias}" for o, n in pairs if o.alias and o.alias != n.alias)
    added = sorted(f"description {n.alias}" for o, n in pairs if n.alias and o.alias != n.alias)

    def check(f: dict[str, Any]) -> bool:
        lines = (f.get("text_diff") or "").splitlines()
        minus = sorted(ln[1:].strip() for ln in lines if ln.startswith("-") and not ln.startswith("---"))
        plus = sorted(ln[1:].strip() for ln in lines if ln.startswith("+") and not ln.startswith("+++"))
        return (minus, plus) == (removed, added)

    check.__doc__ = f"a text diff of exactly: removed {removed}, added {added}"
    return check


def recorder_consequences(before: GroundTruth, after: GroundTruth) -> list[Expected]:
    """A recorder's channel changes when it records another camera (or none), or the same camera
    became another unit (a swap: only the camera id changes)."""
    out: list[Expected] = []
    for old_rec in (d for d in before.devices if d.role == "recorder"):
        new_rec = after.device(old_rec.name)
        old_channels = {c.channel: c for c in old_rec.channels}
        new_channels = {c.channel: c for c in new_rec.channels}
        fields: dict[str, Check] = {}
        for number in sorted(old_channels.keys() | new_channels.keys()):
            o, n = old_channels.get(number), new_channels.get(number)
            prefix = f"recorder.channels[{number}]"
            if o is not None and n is not None and o.camera == n.camera:
                if o.camera_id != n.camera_id:
                    fields[f"{prefix}.camera_id"] = (o.camera_id, n.camera_id)
                continue
            fields[f"{prefix}.camera_id"] = (o.camera_id if o else None, n.camera_id if n else None)
            fields[f"{prefix}.name"] = (o.camera, n.camera) if o and n else changed
            fields[f"{prefix}.source_id"] = changed
            fields[f"{prefix}.source_address"] = changed
        if fields:
            out.append(Expected("changed", new_rec.device_id, fields=fields))
    return out


def mismatches(changes: list[dict[str, Any]], expected: list[Expected]) -> list[str]:
    """Everything in which the diff differs from the expectation; empty when it is exactly right."""
    got = {(c["kind"], c["device_id"]): c for c in changes}
    want = {(e.kind, e.device_id): e for e in expected}
    problems = [] if len(got) == len(changes) else ["two changes of one kind for one device"]
    problems += [f"unexpected: {got[k]['summary']}" for k in sorted(got.keys() - want.keys())]
    problems += [f"not reported: {kind} {device}" for kind, device in sorted(want.keys() - got.keys())]
    for key in sorted(got.keys() & want.keys()):
        change, expect = got[key], want[key]
        name = f"{change['kind']} {change['label']}"
        for attr, value in expect.attrs.items():
            if change.get(attr) != value:
                problems.append(f"{name}: {attr} is {change.get(attr)!r}, expected {value!r}")
        reported = {f["path"]: f for f in change["fields"]}
        paths, wanted = reported.keys(), expect.fields.keys()
        problems += [f"{name}: unexpected field {reported[p]}" for p in sorted(paths - wanted)]
        problems += [f"{name}: field {p} not reported" for p in sorted(wanted - paths)]
        for path in sorted(paths & wanted):
            check, f = expect.fields[path], reported[path]
            right = check(f) if callable(check) else [f["old"], f["new"]] == list(check)
            if not right:
                wanted_text = (check.__doc__ or check.__name__) if callable(check) else check
                problems.append(f"{name}: {path} reported as {f}, expected {wanted_text}")
    return problems


# ---------------------------------------------------------------- the test


def test_every_change_kind_is_named_right_and_nothing_else(
    lab: LabProcess, collector: CollectorProcess, tmp_path: Path
) -> None:
    started = time.monotonic()
    agent = Agent(lab, collector, tmp_path)

    # 1. The site as installed: version 1, approved as the baseline.
    first = agent.scan("installed")
    assert [(v["version"], v["content_hash"]) for v in versions(collector)] == [
        (1, first.snapshot.content_hash())
    ]
    approved = collector.post(f"/api/v1/sites/{SITE}/baseline", {"version": 1, "note": "as installed"})
    assert approved["current"]["version"] == 1

    # Nothing changed: same content, so no new version — the version was only seen again.
    again = agent.scan("unchanged")
    assert again.snapshot.content_hash() == first.snapshot.content_hash(), (
        f"an unchanged site scanned differently in {differing_sections(first.snapshot, again.snapshot)}"
    )
    [only] = versions(collector)
    assert (only["version"], only["seen_count"]) == (1, 2)
    unchanged = collector.get(f"/api/v1/sites/{SITE}/diff/baseline")
    assert unchanged["diff"]["changes"] == [] and not any(unchanged["counts"].values())

    # 2. One batch of changes to the running site, then one scan.
    before = lab.truth()
    lab.change("add", like="cam-office", name=NEW_CAMERA, port=f"sw-core:{NEW_PORT}")
    lab.change("remove", name="cam-dock-2")
    lab.change("swap", name="cam-gate")
    lab.change("move", name="cam-office", to=f"sw-core:{MOVE_TO}")
    lab.change("firmware", name="cam-lobby", version=NEW_FIRMWARE)
    lab.change("setting", name="cam-parking", profile="profile_1", bitrate_kbps=NEW_BITRATE)
    after = lab.truth()
    latest = agent.scan("changed")
    newest, baseline_version = versions(collector)
    assert (newest["version"], newest["content_hash"]) == (2, latest.snapshot.content_hash())
    assert baseline_version["version"] == 1

    # 3. The diff against the baseline names each change right, and nothing else.
    body = collector.get(f"/api/v1/sites/{SITE}/diff/baseline")
    changes = body["diff"]["changes"]
    print(f"\ndiff of version {body['to']['version']} against baseline {body['from']['version']}:")
    for change in changes:
        print(f"  [{change['kind']}] {change['summary']}")
    assert (body["from"]["version"], body["to"]["version"], body["against"]) == (1, 2, "baseline")
    problems = mismatches(changes, expected_changes(before, after))
    assert problems == [], "\n".join(problems)
    assert body["counts"] == {"replaced": 1, "missing": 1, "added": 1, "moved": 1, "changed": 5}
    # The summary stored with version 2 at ingest says the same.
    assert newest["diff_against_kind"] == "baseline" and newest["diff_summary"]["counts"] == body["counts"]

    # 4. Between the two versions directly: the same diff (the baseline is version 1).
    between = collector.get(f"/api/v1/sites/{SITE}/diff?from=1&to=2")
    assert between["against"] == "versions"
    assert (between["diff"], between["counts"]) == (body["diff"], body["counts"])

    scans = ", ".join(f"{s.seconds:.1f}" for s in (first, again, latest))
    print(f"scans (s): {scans}; test body {time.monotonic() - started:.1f} s")
