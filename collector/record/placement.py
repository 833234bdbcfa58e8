"""Which devices still need a pin, and which pins point at a device the scan no longer sees.

Pure: the latest snapshot, the site's pins and a ``SiteDiff`` (latest against baseline, or against
the version the pins were placed on) in; lists a page can show out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from collector.diff import ChangeKind, MissingState, SiteDiff, device_label, position_text
from drivers.schema import Role, Snapshot

# Switches and recorders sit in racks, but technicians pin them too; "other" devices (printers, a
# laptop the scan met) are offered only when asked for.
PLACEABLE_ROLES = frozenset({Role.CAMERA, Role.RECORDER, Role.SWITCH})


class PinLike(Protocol):
    @property
    def device_id(self) -> str: ...


@dataclass(frozen=True)
class ToPlace:
    device_id: str
    label: str
    position: str | None  # switch port, to help find it on site


class PinState(StrEnum):
    OK = "ok"
    MISSING = "missing"  # the device is absent from the latest scan
    REPLACED = "replaced"  # another unit took its place: re-point the pin
    UNKNOWN = "unknown"  # not in the latest scan, and the diff does not say why


@dataclass(frozen=True)
class PinFlag:
    device_id: str
    state: PinState
    message: str
    replaced_by: str | None = None  # the new unit's device id, for "re-point the pin"


def devices_to_place(
    latest: Snapshot, pins: Iterable[PinLike], roles: frozenset[Role] = PLACEABLE_ROLES
) -> list[ToPlace]:
    """Devices of the latest scan with no pin on any plan of the site, in label order."""
    pinned = {p.device_id for p in pins}
    out = [
        ToPlace(device_id=d.id, label=device_label(d), position=position_text(d))
        for d in latest.devices
        if d.role in roles and d.id not in pinned
    ]
    return sorted(out, key=lambda t: (t.label.lower(), t.device_id))


def pin_flags(pins: Sequence[PinLike], latest: Snapshot, diff: SiteDiff | None = None) -> dict[str, PinFlag]:
    """Per pinned device id, its state against the latest scan (``diff`` explains what changed)."""
    present = {d.id: d for d in latest.devices}
    replaced_by = {}
    missing = {}
    if diff is not None:
        for change in diff.changes:
            if change.kind is ChangeKind.REPLACED and change.old_device_id:
                replaced_by[change.old_device_id] = change
            elif change.kind is ChangeKind.MISSING:
                missing[change.device_id] = change
    flags: dict[str, PinFlag] = {}
    for pin in pins:
        device_id = pin.device_id
        if device_id in present:
            flags[device_id] = PinFlag(device_id, PinState.OK, f"{device_label(present[device_id])} is here")
        elif (swap := replaced_by.get(device_id)) is not None:
            flags[device_id] = PinFlag(
                device_id,
                PinState.REPLACED,
                f"replaced by another unit ({swap.label}, same {swap.matched_by or 'place'}): "
                "move the pin to the new unit",
                replaced_by=swap.device_id,
            )
        elif (gone := missing.get(device_id)) is not None:
            removed = gone.state is MissingState.REMOVED
            flags[device_id] = PinFlag(
                device_id,
                PinState.MISSING,
                f"{gone.label} not seen for {gone.absent_scans or 1} scan(s)"
                + (": removed" if removed else ": unreachable"),
            )
        else:
            flags[device_id] = PinFlag(device_id, PinState.UNKNOWN, "not in the latest scan")
    return flags


def attention(flags: dict[str, PinFlag]) -> list[PinFlag]:
    """The pins a technician should look at: replaced first, then missing, then unknown."""
    order = {PinState.REPLACED: 0, PinState.MISSING: 1, PinState.UNKNOWN: 2}
    return sorted(
        (f for f in flags.values() if f.state is not PinState.OK), key=lambda f: (order[f.state], f.device_id)
    )
