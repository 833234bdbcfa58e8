"""Pure placement and visit helpers: devices to place, pins whose device went, last visit, visit scans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from collector.diff import diff_snapshots
from collector.record.placement import PinState, attention, devices_to_place, pin_flags
from collector.record.visits import ScanTaken, last_visit, scans_during, sort_by_last_visit
from tests.collector.factory import camera, depot, device, with_devices


@dataclass(frozen=True)
class Pin:
    device_id: str


def test_devices_seen_but_not_placed_are_listed_to_place():
    snap = depot()
    pins = [Pin(device(snap, h).id) for h in ("cam-gate", "cam-lobby", "sw-core")]
    todo = devices_to_place(snap, pins)
    assert [t.label for t in todo] == [
        "Camera cam-entrance (AXIS P3245-LVE)",
        "Camera cam-parking (AXIS Q1798-LE)",
        "Recorder nvr-main (HIKVISION DS-7616NI-I2/16P)",
        "Switch sw-yard (Aruba 2530-24G-PoEP)",
    ]
    assert todo[0].position == "sw-core GigabitEthernet1/0/1"


def test_pins_of_replaced_missing_and_unknown_devices_are_flagged():
    before = depot()
    gate, lobby = device(before, "cam-gate"), device(before, "cam-lobby")
    swapped = camera("cam-gate", "c0:56:e3:44:20:77", "10.77.0.61", port=1, serial="NEW-SERIAL")
    after = with_devices(before, swapped, drop=[gate.id, lobby.id])
    diff = diff_snapshots(before, after)
    pins = [Pin(gate.id), Pin(lobby.id), Pin(device(before, "cam-parking").id), Pin("mac:de:ad:00:00:00:01")]
    flags = pin_flags(pins, after, diff)
    assert flags[gate.id].state is PinState.REPLACED and flags[gate.id].replaced_by == swapped.id
    assert "move the pin to the new unit" in flags[gate.id].message
    assert flags[lobby.id].state is PinState.MISSING and "unreachable" in flags[lobby.id].message
    assert flags["mac:de:ad:00:00:00:01"].state is PinState.UNKNOWN
    assert [f.state for f in attention(flags)] == [PinState.REPLACED, PinState.MISSING, PinState.UNKNOWN]
    removed = pin_flags(pins, after, diff_snapshots(before, after, absent_scans={lobby.id: 3}))
    assert removed[lobby.id].message.endswith(": removed")
    # Without a diff the pin still shows that its device is not in the scan.
    assert pin_flags(pins, after)[gate.id].state is PinState.UNKNOWN
    assert swapped.id in {t.device_id for t in devices_to_place(after, pins)}


@dataclass(frozen=True)
class Visit:
    visited_on: date
    created_at: datetime
    reason: str


def test_last_visit_and_sorting_sites_by_it():
    visits = [
        Visit(date(2026, 11, 2), datetime(2026, 11, 2, 9, tzinfo=UTC), "service"),
        Visit(date(2026, 11, 23), datetime(2026, 11, 23, 9, tzinfo=UTC), "fault"),
        Visit(date(2026, 11, 23), datetime(2026, 11, 23, 16, tzinfo=UTC), "follow-up"),
    ]
    assert last_visit(visits) == visits[2] and last_visit([]) is None
    last = {"a": date(2026, 1, 5), "c": date(2026, 11, 1)}
    assert sort_by_last_visit(["a", "b", "c", "d"], last) == ["c", "a", "b", "d"]
    assert sort_by_last_visit(["a", "b", "c", "d"], last, newest_first=False) == ["a", "c", "b", "d"]


def test_the_scans_taken_during_a_visit_day_in_the_sites_time_zone():
    scans = [
        ScanTaken(1, datetime(2026, 11, 22, 22, 30, tzinfo=UTC)),  # 23:30 in Berlin on the 22nd
        ScanTaken(2, datetime(2026, 11, 22, 23, 30, tzinfo=UTC)),  # 00:30 in Berlin on the 23rd
        ScanTaken(3, datetime(2026, 11, 23, 14, 0, tzinfo=UTC)),
        ScanTaken(4, datetime(2026, 11, 23, 23, 5, tzinfo=UTC)),  # 00:05 on the 24th in Berlin
    ]
    assert scans_during(date(2026, 11, 23), scans, "Europe/Berlin") == [2, 3]
    assert scans_during(date(2026, 11, 23), scans) == [3, 4]
