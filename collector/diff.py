"""What changed between two snapshots of one site, in plain words.

Pure: two ``Snapshot`` objects in, a ``SiteDiff`` out; no I/O, no clock. See DESIGN.md, "Diff rules".

Devices are matched by identity (``Device.id``). Of the identities that disappeared and appeared,
pairs that held the same position are a **replacement** (the classic swapped camera): same switch
port first, else same IP, else same hostname. Switches are paired first, so that cameras behind a
replaced switch keep their positions. Common identities on another port have **moved**; common
identities with different significant fields have **changed**, listed field by field. List items
are matched by each record's ``KEY`` and ``VOLATILE`` fields never count anywhere.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from drivers.sanitize import ALL_NOISE, apply_filters
from drivers.schema import ConfigText, Device, Record, Role, Snapshot, significant

DEFAULT_REMOVED_AFTER = 3  # consecutive scans a device may be absent before it counts as removed
MAX_CONFIG_DIFF_CHARS = 20_000
MAX_FIELDS_IN_SUMMARY = 3

# Device fields that are not part of the as-built record: how we read it is not what it is.
_DEVICE_SKIP = frozenset({"id", "attachment", "drivers"})
_DEVICE_FIELDS = tuple(n for n in Device.model_fields if n not in Device.VOLATILE and n not in _DEVICE_SKIP)


class ChangeKind(StrEnum):
    REPLACED = "replaced"
    MISSING = "missing"
    ADDED = "added"
    MOVED = "moved"
    CHANGED = "changed"


_KIND_ORDER = {kind: rank for rank, kind in enumerate(ChangeKind)}


class MissingState(StrEnum):
    UNREACHABLE = "unreachable"  # absent, still within the grace period
    REMOVED = "removed"  # absent for at least ``removed_after`` consecutive scans


class MatchedBy(StrEnum):
    PORT = "port"
    IP = "ip"
    HOSTNAME = "hostname"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldChange(_Frozen):
    """One field that differs. ``old``/``new`` are JSON values; ``None`` means absent."""

    path: str = Field(description="e.g. network.ip, onvif.profiles[profile_1].video_encoder.bitrate_kbps")
    old: Any = None
    new: Any = None
    text_diff: str | None = Field(default=None, description="Unified diff, for configuration text")

    def describe(self) -> str:
        if self.text_diff is not None:
            added = sum(
                1 for ln in self.text_diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")
            )
            removed = sum(
                1 for ln in self.text_diff.splitlines() if ln.startswith("-") and not ln.startswith("---")
            )
            return f"{self.path} changed (+{added} −{removed} lines)"
        if self.old is None and isinstance(self.new, dict):
            return f"{self.path} added"
        if self.new is None and isinstance(self.old, dict):
            return f"{self.path} removed"
        return f"{self.path} {_show(self.old)} → {_show(self.new)}"


class Change(_Frozen):
    kind: ChangeKind
    device_id: str = Field(description="Identity of the device now (the old one for missing)")
    role: Role
    label: str = Field(description="Camera cam-gate (HIKVISION DS-2CD2T47G2-L)")
    position: str | None = Field(default=None, description="sw-yard GigabitEthernet1/0/1, when known")
    summary: str
    fields: tuple[FieldChange, ...] = ()
    old_device_id: str | None = Field(default=None, description="The identity that was replaced")
    matched_by: MatchedBy | None = Field(default=None, description="How a replacement was paired")
    old_position: str | None = Field(default=None, description="Where a moved device was")
    state: MissingState | None = None
    absent_scans: int | None = Field(
        default=None, description="Consecutive scans a missing device was absent"
    )


class DiffSummary(_Frozen):
    """A compact, storable view of a diff: counts and one line per change."""

    empty: bool
    counts: dict[str, int]
    lines: tuple[dict[str, str], ...] = ()
    truncated: bool = False


class SiteDiff(_Frozen):
    site_id: str
    old_hash: str
    new_hash: str
    changes: tuple[Change, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes

    def counts(self) -> dict[str, int]:
        return {kind.value: sum(1 for c in self.changes if c.kind is kind) for kind in ChangeKind}

    def of_kind(self, kind: ChangeKind) -> list[Change]:
        return [c for c in self.changes if c.kind is kind]

    def summary(self, limit: int = 200) -> DiffSummary:
        lines = tuple(
            {"kind": c.kind.value, "device_id": c.device_id, "summary": c.summary}
            for c in self.changes[:limit]
        )
        return DiffSummary(
            empty=self.empty, counts=self.counts(), lines=lines, truncated=len(self.changes) > limit
        )


# ---------------------------------------------------------------- entry point


def diff_snapshots(
    old: Snapshot,
    new: Snapshot,
    *,
    absent_scans: Mapping[str, int] | None = None,
    removed_after: int = DEFAULT_REMOVED_AFTER,
    old_hash: str | None = None,
    new_hash: str | None = None,
) -> SiteDiff:
    """Compare ``new`` against ``old`` (the baseline or the previous version).

    ``absent_scans`` gives, per missing device id, how many consecutive scans it has been absent
    (1 when not given); at ``removed_after`` or more its state becomes *removed*. Pass the content
    hashes when known: computing them is a good part of the cost on large sites.
    """
    old_devices = {d.id: d for d in old.devices}
    new_devices = {d.id: d for d in new.devices}
    gone = [old_devices[i] for i in sorted(old_devices.keys() - new_devices.keys())]
    came = [new_devices[i] for i in sorted(new_devices.keys() - old_devices.keys())]

    # Switches first: a replaced switch renames every position behind it.
    switch_map: dict[str, str] = {}
    pairs = _pair_replacements(
        [d for d in gone if d.role is Role.SWITCH], [d for d in came if d.role is Role.SWITCH], switch_map
    )
    switch_map.update({o.id: n.id for o, n, _ in pairs})
    pairs += _pair_replacements(
        [d for d in gone if d.role is not Role.SWITCH],
        [d for d in came if d.role is not Role.SWITCH],
        switch_map,
    )
    paired_old = {o.id for o, _, _ in pairs}
    paired_new = {n.id for _, n, _ in pairs}

    old_configs = _configs_by_device(old.configs)
    new_configs = _configs_by_device(new.configs)
    changes: list[Change] = []
    for o, n, how in pairs:
        fields = _device_fields(o, n) + _config_fields(old_configs.get(o.id, {}), new_configs.get(n.id, {}))
        changes.append(_replaced(o, n, how, fields))
    streaks = absent_scans or {}
    for d in gone:
        if d.id not in paired_old:
            changes.append(_missing(d, max(1, streaks.get(d.id, 1)), removed_after))
    for d in came:
        if d.id not in paired_new:
            changes.append(_added(d))
    for device_id in sorted(old_devices.keys() & new_devices.keys()):
        o, n = old_devices[device_id], new_devices[device_id]
        changes.extend(
            _common(o, n, switch_map, old_configs.get(device_id, {}), new_configs.get(device_id, {}))
        )

    changes.sort(key=lambda c: (_KIND_ORDER[c.kind], c.device_id, c.old_device_id or ""))
    return SiteDiff(
        site_id=new.site.site_id,
        old_hash=old_hash or old.content_hash(),
        new_hash=new_hash or new.content_hash(),
        changes=tuple(changes),
    )


# ---------------------------------------------------------------- pairing


def _position(device: Device, switch_map: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    if device.attachment is None:
        return None
    switch_id = device.attachment.switch_id
    if switch_map:
        switch_id = switch_map.get(switch_id, switch_id)
    return (switch_id, device.attachment.port)


def _pair_replacements(
    gone: list[Device], came: list[Device], switch_map: Mapping[str, str]
) -> list[tuple[Device, Device, MatchedBy]]:
    """Greedy pairing, strongest evidence first; both lists are in identity order, so it is deterministic."""
    pairs: list[tuple[Device, Device, MatchedBy]] = []
    free_old, free_new = list(gone), list(came)
    criteria = (
        (MatchedBy.PORT, lambda d, remap: _position(d, switch_map if remap else None)),
        (MatchedBy.IP, lambda d, remap: d.network.ip),
        (MatchedBy.HOSTNAME, lambda d, remap: (d.identity.hostname or "").lower() or None),
    )
    for how, where in criteria:
        index: dict[Any, Device] = {}
        for n in free_new:
            if (spot := where(n, False)) is not None:
                index.setdefault((n.role, spot), n)
        for o in list(free_old):
            spot = where(o, True)
            n_match = index.get((o.role, spot)) if spot is not None else None
            if n_match is None or n_match not in free_new:
                continue
            pairs.append((o, n_match, how))
            free_old.remove(o)
            free_new.remove(n_match)
    return pairs


# ---------------------------------------------------------------- field-by-field


def _device_fields(old: Device, new: Device) -> list[FieldChange]:
    out: list[FieldChange] = []
    for name in _DEVICE_FIELDS:
        _diff_value(name, getattr(old, name), getattr(new, name), out)
    return out


@functools.cache
def _significant_fields(cls: type[Record]) -> tuple[str, ...]:
    return tuple(name for name in cls.model_fields if name not in cls.VOLATILE)


def _diff_value(path: str, old: Any, new: Any, out: list[FieldChange]) -> None:
    if old is new:
        return
    if type(old) is type(new):
        # Records refuse extra fields and have no private ones: equal field values are pydantic's
        # equality, without its per-call bookkeeping.
        if old.__dict__ == new.__dict__ if isinstance(old, Record) else old == new:
            return
        if isinstance(old, Record):
            for name in _significant_fields(type(old)):
                _diff_value(f"{path}.{name}", getattr(old, name), getattr(new, name), out)
            return
    if isinstance(old, tuple) and isinstance(new, tuple):
        _diff_sequence(path, old, new, out)
        return
    old_v, new_v = significant(old), significant(new)
    if old_v != new_v:
        out.append(FieldChange(path=path, old=old_v, new=new_v))


def _diff_sequence(path: str, old: tuple[Any, ...], new: tuple[Any, ...], out: list[FieldChange]) -> None:
    sample = next(iter(old or new), None)
    if isinstance(sample, Record) and type(sample).KEY:
        old_items = {_key_text(r): r for r in old}
        new_items = {_key_text(r): r for r in new}
        for key in sorted(old_items.keys() | new_items.keys()):
            _diff_value(f"{path}[{key}]", old_items.get(key), new_items.get(key), out)
        return
    if isinstance(sample, Record):  # unkeyed records: by position
        for i in range(max(len(old), len(new))):
            _diff_value(
                f"{path}[{i}]", old[i] if i < len(old) else None, new[i] if i < len(new) else None, out
            )
        return
    # Plain values (DNS servers, scopes, ports): the order devices report them in is not a change.
    old_v, new_v = significant(old), significant(new)
    if sorted(map(repr, old_v)) != sorted(map(repr, new_v)):
        out.append(FieldChange(path=path, old=old_v, new=new_v))


def _key_text(record: Record) -> str:
    return "/".join(record.key())


# ---------------------------------------------------------------- configuration text


def filter_noise(text: str) -> list[str]:
    """The configuration lines that matter: noise lines dropped, trailing blanks trimmed."""
    # The noise rules are the drivers' own declarations (drivers.sanitize.ALL_NOISE), not a copy.
    kept = [ln.rstrip() for ln in apply_filters(text, ALL_NOISE).splitlines()]
    while kept and not kept[-1]:
        kept.pop()
    return kept


def config_diff(old: str | None, new: str | None, kind: str) -> str | None:
    """Unified diff of two configuration texts after noise filtering; None when they agree."""
    old_lines, new_lines = filter_noise(old or ""), filter_noise(new or "")
    if old_lines == new_lines:
        return None
    text = "\n".join(
        difflib.unified_diff(
            old_lines, new_lines, fromfile=f"{kind} (before)", tofile=f"{kind} (now)", lineterm=""
        )
    )
    if len(text) > MAX_CONFIG_DIFF_CHARS:
        text = text[:MAX_CONFIG_DIFF_CHARS] + "\n… (diff truncated)"
    return text


def _configs_by_device(configs: Iterable[ConfigText]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for c in configs:
        out.setdefault(c.device_id, {})[c.kind] = c.text
    return out


def _config_fields(old: Mapping[str, str], new: Mapping[str, str]) -> list[FieldChange]:
    out: list[FieldChange] = []
    for kind in sorted(old.keys() | new.keys()):
        path = f"config[{kind}]"
        if kind not in new:
            out.append(FieldChange(path=path, old="captured", new="not captured"))
        elif (text := config_diff(old.get(kind), new[kind], kind)) is not None:
            out.append(FieldChange(path=path, text_diff=text))
    return out


# ---------------------------------------------------------------- the changes, in words


def _common(
    old: Device,
    new: Device,
    switch_map: Mapping[str, str],
    old_configs: Mapping[str, str],
    new_configs: Mapping[str, str],
) -> list[Change]:
    out: list[Change] = []
    fields = _device_fields(old, new)
    old_pos, new_pos = _position(old, switch_map), _position(new)
    if old_pos is not None and new_pos is not None and old_pos != new_pos:
        out.append(
            Change(
                kind=ChangeKind.MOVED,
                device_id=new.id,
                role=new.role,
                label=device_label(new),
                position=position_text(new),
                old_position=position_text(old),
                summary=f"{device_label(new)} moved: {position_text(old)} → {position_text(new)}",
            )
        )
    elif old.attachment != new.attachment:
        before = old.attachment
        if before is not None and before.switch_id in switch_map:  # behind a replaced switch: same place
            before = before.model_copy(update={"switch_id": switch_map[before.switch_id]})
        _diff_value("attachment", before, new.attachment, fields)
    fields += _config_fields(old_configs, new_configs)
    if fields:
        where = position_text(new) or position_text(old)
        head = f"{device_label(new)}{_at(where)} changed"
        out.append(
            Change(
                kind=ChangeKind.CHANGED,
                device_id=new.id,
                role=new.role,
                label=device_label(new),
                position=where,
                summary=f"{head}: {_fields_text(fields)}",
                fields=tuple(fields),
            )
        )
    return out


def _replaced(old: Device, new: Device, how: MatchedBy, fields: list[FieldChange]) -> Change:
    where = position_text(old)
    head = f"{device_label(old)}{_at(where)} replaced"
    model_old, model_new = _model(old), _model(new)
    if model_new and model_new != model_old:
        head += f" by {model_new}"
    details = [
        f"{label} {_show(a)} → {_show(b)}"
        for label, a, b in (
            ("serial", old.identity.serial, new.identity.serial),
            ("MAC", old.identity.mac, new.identity.mac),
            ("IP", old.network.ip, new.network.ip),
            ("hostname", old.identity.hostname, new.identity.hostname),
            ("firmware", old.identity.firmware, new.identity.firmware),
        )
        if a != b
    ]
    if not details:
        details = [f"identity {old.id} → {new.id}"]
    return Change(
        kind=ChangeKind.REPLACED,
        device_id=new.id,
        role=new.role,
        label=device_label(new),
        position=position_text(new),
        old_position=where,
        old_device_id=old.id,
        matched_by=how,
        summary=f"{head} (same {how.value}): {', '.join(details)}",
        fields=tuple(fields),
    )


def _missing(device: Device, absent: int, removed_after: int) -> Change:
    state = MissingState.REMOVED if absent >= max(1, removed_after) else MissingState.UNREACHABLE
    where = position_text(device)
    scans = f"{absent} consecutive scan{'s' if absent != 1 else ''}"
    if state is MissingState.REMOVED:
        detail = f"removed (absent for {scans})"
    else:
        detail = f"unreachable (absent for {scans}; counts as removed after {removed_after})"
    return Change(
        kind=ChangeKind.MISSING,
        device_id=device.id,
        role=device.role,
        label=device_label(device),
        position=where,
        state=state,
        absent_scans=absent,
        summary=f"{device_label(device)}{_at(where)} missing: {detail}",
    )


def _added(device: Device) -> Change:
    where = position_text(device)
    extra = ", ".join(
        f"{k} {v}"
        for k, v in (
            ("IP", device.network.ip),
            ("serial", device.identity.serial),
            ("MAC", device.identity.mac),
        )
        if v
    )
    return Change(
        kind=ChangeKind.ADDED,
        device_id=device.id,
        role=device.role,
        label=device_label(device),
        position=where,
        summary=f"{device_label(device)} added{_at(where)}" + (f": {extra}" if extra else ""),
    )


def device_label(device: Device) -> str:
    """'Camera cam-gate (HIKVISION DS-2CD2T47G2-L)': role, best name, make and model."""
    name = device.identity.hostname or device.network.ip or device.id
    model = _model(device)
    return f"{device.role.value.capitalize()} {name}{f' ({model})' if model else ''}"


def position_text(device: Device) -> str | None:
    a = device.attachment
    return None if a is None else f"{a.switch_name or a.switch_id} {a.port}"


def _at(where: str | None) -> str:
    return f" at {where}" if where else ""


def _model(device: Device) -> str:
    return " ".join(p for p in (device.identity.vendor, device.identity.model) if p)


def _fields_text(fields: list[FieldChange]) -> str:
    shown = "; ".join(f.describe() for f in fields[:MAX_FIELDS_IN_SUMMARY])
    more = len(fields) - MAX_FIELDS_IN_SUMMARY
    return shown + (f"; and {more} more" if more > 0 else "")


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
