"""A site's changes in a technician's words: side effects under their cause, fields by their names.

Pure: a ``SiteDiff`` (collector/diff.py) in, a ``ChangeReport`` out. The diff lists what differs
device by device, so one re-patched camera is two changes there (the camera moved; its switch changed:
one port freed, one taken) and a swapped camera drags its recorder channel along as a third.
Here each change a person made is one ``Item``; the ports a move frees and takes, the switch port
whose link and PoE went with a removed camera, the recorder channel that follows a swap, become
``Effect`` lines under it. What no cause explains stays a change of its own. Field paths become the
words on site: ``onvif.profiles[profile_1].video_encoder.frame_rate 25.0 → 10.0`` is "main stream
frame rate 25 → 10 fps" (collector/field_words.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from collector.diff import Change, ChangeKind, FieldChange, MissingState, SiteDiff
from collector.field_words import (
    CHANNEL_FIELD,
    PORT_FIELD,
    channel_phrase,
    config_name,
    details,
    field_rest,
    port_text,
    short_port,
    short_position,
)

# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Effect:
    """A consequence shown under its cause: a switch port, a recorder channel."""

    device_id: str  # the device whose fields these are (the switch, the recorder)
    subject: str  # "sw-core Gi1/0/2", "nvr-main channel 3"
    role: str  # freed | new unit | now in use | channel | configuration
    text: str  # the whole line: "sw-core Gi1/0/2 freed: link up → down, PoE delivering → searching"


@dataclass(frozen=True)
class Item:
    """One change as a person counts it."""

    kind: ChangeKind
    device_id: str
    headline: str
    details: tuple[str, ...] = ()
    effects: tuple[Effect, ...] = ()
    old_device_id: str | None = None


KIND_WORDS = {
    ChangeKind.REPLACED: "swapped",
    ChangeKind.MISSING: "missing",
    ChangeKind.ADDED: "new",
    ChangeKind.MOVED: "re-patched",
    ChangeKind.CHANGED: "changed",
}


@dataclass(frozen=True)
class ChangeReport:
    items: tuple[Item, ...] = ()

    @property
    def count(self) -> int:
        return len(self.items)

    def counts(self) -> dict[str, int]:
        return {kind.value: sum(1 for i in self.items if i.kind is kind) for kind in ChangeKind}

    def summary(self) -> str:
        """'2 changes: 1 swapped, 1 re-patched' (or 'No changes')."""
        if not self.items:
            return "No changes"
        parts = [f"{n} {KIND_WORDS[ChangeKind(k)]}" for k, n in self.counts().items() if n]
        noun = "change" if self.count == 1 else "changes"
        return f"{self.count} {noun}: {', '.join(parts)}"


# ---------------------------------------------------------------- grouping


_CAUSES = (ChangeKind.REPLACED, ChangeKind.MISSING, ChangeKind.ADDED, ChangeKind.MOVED)
# Fields a swap brings with it that say nothing more than "another unit" (its own discovery id).
_SWAP_IDENTITY_NOISE = ("onvif.endpoint_reference", "onvif.scopes")
_CONFIG_BOOKKEEPING = re.compile(r"^\s*(description\b|interface\b|!|$)")


@dataclass(eq=False)  # hashed by identity: a cause is a key when configuration lines are shared out
class _Draft:
    change: Change
    effects: list[Effect] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


def present(diff: SiteDiff) -> ChangeReport:
    """The diff as a technician reads it: one item per real change, side effects under their cause."""
    drafts = [_Draft(c) for c in diff.changes]
    causes = [d for d in drafts if d.change.kind in _CAUSES]
    port_owner = _port_owners(causes)
    device_owner = _device_owners(drafts)
    ip_owner = _ip_owners(drafts)
    kept: list[_Draft] = []
    for draft in drafts:
        change = draft.change
        if change.kind is not ChangeKind.CHANGED:
            kept.append(draft)
            continue
        leftover = _absorb(change, port_owner, device_owner, ip_owner)
        if leftover:
            draft.details = details(leftover)
            kept.append(draft)
    items = [_item(d) for d in kept]
    return ChangeReport(tuple(items))


def _port_owners(causes: Iterable[_Draft]) -> dict[str, tuple[_Draft, str]]:
    """Position text ('sw-core GigabitEthernet1/0/2') → the cause that explains that port, and how."""
    owners: dict[str, tuple[_Draft, str]] = {}
    for draft in causes:
        c = draft.change
        roles: list[tuple[str | None, str]] = []
        if c.kind is ChangeKind.ADDED:
            roles = [(c.position, "now in use")]
        elif c.kind is ChangeKind.MISSING:
            roles = [(c.position, "freed")]
        elif c.kind is ChangeKind.REPLACED:
            roles = [(c.old_position, "new unit"), (c.position, "new unit")]
        elif c.kind is ChangeKind.MOVED:
            roles = [(c.old_position, "freed"), (c.position, "now in use")]
        for where, role in roles:
            if where:
                owners.setdefault(where, (draft, role))
    return owners


def _device_owners(drafts: Iterable[_Draft]) -> dict[str, _Draft]:
    """Device id → the item a recorder channel recording it belongs under."""
    owners: dict[str, _Draft] = {}
    for draft in drafts:
        c = draft.change
        if c.kind is ChangeKind.REPLACED and c.old_device_id:
            owners[c.old_device_id] = draft
        if c.role.value == "camera" or c.kind in _CAUSES:
            owners.setdefault(c.device_id, draft)
    return owners


def _ip_owners(drafts: Iterable[_Draft]) -> dict[str, _Draft]:
    """A camera's old and new IP → its item (a recorder channel's address follows a re-addressed camera)."""
    owners: dict[str, _Draft] = {}
    for draft in drafts:
        for f in draft.change.fields:
            if f.path == "network.ip":
                for ip in (f.old, f.new):
                    if isinstance(ip, str):
                        owners.setdefault(ip, draft)
    return owners


def _absorb(
    change: Change,
    port_owner: dict[str, tuple[_Draft, str]],
    device_owner: dict[str, _Draft],
    ip_owner: dict[str, _Draft],
) -> list[FieldChange]:
    """Hand this changed device's port/channel fields to their causes; return what is left."""
    name = device_name(change)
    by_port: dict[str, list[FieldChange]] = {}
    by_channel: dict[str, list[FieldChange]] = {}
    rest: list[FieldChange] = []
    for f in change.fields:
        if (m := PORT_FIELD.match(f.path)) is not None:
            by_port.setdefault(m["port"], []).append(f)
        elif (m := CHANNEL_FIELD.match(f.path)) is not None:
            by_channel.setdefault(m["channel"], []).append(f)
        else:
            rest.append(f)
    absorbed_into: list[_Draft] = []
    for port, fields in by_port.items():
        owner = next(
            (port_owner[w] for w in (f"{n} {port}" for n in (name, change.device_id)) if w in port_owner),
            None,
        )
        if owner is None:
            rest.extend(fields)
            continue
        cause, role = owner
        subject = f"{name} {short_port(port)}"
        cause.effects.append(
            Effect(change.device_id, subject, role, f"{subject} {role}: {port_text(fields)}")
        )
        absorbed_into.append(cause)
    for channel, fields in by_channel.items():
        follows = _channel_owner(fields, device_owner, ip_owner)
        if follows is None:
            rest.extend(fields)
            continue
        subject = f"{name} channel {channel}"
        follows.effects.append(
            Effect(change.device_id, subject, "channel", f"{subject} {_channel_text(fields, follows.change)}")
        )
    # A switch's configuration text that only re-describes the ports re-cabled belongs with them too.
    configs = [f for f in rest if f.path.startswith("config[") and f.text_diff is not None]
    if absorbed_into and len(absorbed_into) == len(by_port):
        for f in configs:
            shares = _config_shares(f.text_diff or "", absorbed_into)
            if shares is None:
                continue
            rest.remove(f)
            subject = f"{name} {config_name(f.path)}"
            for cause, (plus, minus) in shares.items():
                text = f"{subject}: port descriptions updated (+{plus} −{minus} lines)"
                cause.effects.append(Effect(change.device_id, subject, "configuration", text))
    return rest


def _channel_owner(
    fields: list[FieldChange], device_owner: dict[str, _Draft], ip_owner: dict[str, _Draft]
) -> _Draft | None:
    for f in fields:
        rest = field_rest(CHANNEL_FIELD, f.path)
        # A whole channel added or removed carries its camera inside the record.
        values = [v for v in (f.old, f.new) if v is not None]
        if rest is None:
            for record in (v for v in values if isinstance(v, dict)):
                owner = device_owner.get(record.get("camera_id") or "") or ip_owner.get(
                    record.get("source_address") or ""
                )
                if owner is not None:
                    return owner
        for value in values:
            if rest == "camera_id" and value in device_owner:
                return device_owner[value]
            if rest == "source_address" and value in ip_owner:
                return ip_owner[value]
    return None


def _config_shares(text_diff: str, causes: list[_Draft]) -> dict[_Draft, tuple[int, int]] | None:
    """Each cause's part of a configuration diff that only re-describes ports (None: it does more).

    A description line names the device cabled there, so it goes to that device's cause.
    """
    changed = [ln for ln in text_diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    if not changed or not all(_CONFIG_BOOKKEEPING.match(ln[1:]) for ln in changed):
        return None
    counts: dict[_Draft, list[int]] = {}
    for line in changed:
        described = re.match(r"\s*description\s+(.+)", line[1:])
        owner = next(
            (c for c in causes if described and device_name(c.change) == described[1].strip()), causes[0]
        )
        tally = counts.setdefault(owner, [0, 0])
        tally[0 if line.startswith("+") else 1] += 1
    return {cause: (plus, minus) for cause, (plus, minus) in counts.items()}


# ---------------------------------------------------------------- items


def _item(draft: _Draft) -> Item:
    c = draft.change
    lines = list(draft.details)
    where = short_position(c.position)
    at = f" at {where}" if where else ""
    if c.kind is ChangeKind.ADDED:
        headline = f"{c.label} added{at}"
    elif c.kind is ChangeKind.MISSING:
        n = c.absent_scans or 1
        scans = f"{n} scan{'s' if n != 1 else ''}"
        if c.state is MissingState.REMOVED:
            headline = f"{c.label}{at} removed (not seen for {scans})"
        else:
            headline = f"{c.label}{at} not answering (missed {scans})"
    elif c.kind is ChangeKind.REPLACED:
        headline = f"{c.label}{at} swapped for another unit"
        if c.matched_by is not None and c.matched_by.value != "port":
            headline += f" (same {c.matched_by.value})"
        lines = details([f for f in c.fields if f.path not in _SWAP_IDENTITY_NOISE])
    elif c.kind is ChangeKind.MOVED:
        headline = f"{c.label} re-patched: {_move_text(c.old_position, c.position)}"
    else:
        headline = f"{c.label}{at}: {lines[0]}" if len(lines) == 1 else f"{c.label}{at} changed"
        if len(lines) == 1:
            lines = []
    return Item(
        kind=c.kind,
        device_id=c.device_id,
        headline=headline,
        details=tuple(lines),
        effects=tuple(sorted(draft.effects, key=_effect_order)),
        old_device_id=c.old_device_id,
    )


_EFFECT_RANK = {"freed": 0, "new unit": 1, "now in use": 2, "channel": 3, "configuration": 4}


def _effect_order(effect: Effect) -> tuple[int, list[Any]]:
    """Freed ports before taken ones, then channels, then configuration; Gi1/0/4 before Gi1/0/12."""
    natural = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", effect.subject)]
    return _EFFECT_RANK.get(effect.role, 9), natural


def _move_text(old: str | None, new: str | None) -> str:
    old_s, new_s = short_position(old) or "?", short_position(new) or "?"
    old_switch, _, old_port = old_s.rpartition(" ")
    new_switch, _, new_port = new_s.rpartition(" ")
    if old_switch and old_switch == new_switch:
        return f"{old_switch} {old_port} → {new_port}"
    return f"{old_s} → {new_s}"


def device_name(change: Change) -> str:
    """The name inside a diff label: 'Switch sw-core (Cisco C2960X)' → 'sw-core'."""
    label = change.label
    prefix = change.role.value.capitalize() + " "
    if label.startswith(prefix):
        label = label[len(prefix) :]
    if label.endswith(")") and " (" in label:
        label = label[: label.rindex(" (")]
    return label or change.device_id


def _channel_text(fields: list[FieldChange], cause: Change) -> str:
    rests = [field_rest(CHANNEL_FIELD, f.path) for f in fields]
    if cause.kind is ChangeKind.REPLACED and set(rests) == {"camera_id"}:
        return "follows the swap: it now records the new unit"
    # The recorder's own source id is its business; name it only when nothing else changed.
    shown = [(r, f) for r, f in zip(rests, fields, strict=True) if r != "source_id"] or list(
        zip(rests, fields, strict=True)
    )
    return ", ".join(channel_phrase(r, f.old, f.new) for r, f in shown)
