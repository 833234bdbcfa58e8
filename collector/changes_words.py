"""A site's changes in a technician's words: side effects under their cause, fields by their names.

Pure: a ``SiteDiff`` (collector/diff.py) in, a ``ChangeReport`` out. The diff lists what differs
device by device, so one re-patched camera is three changes there (the camera moved, and its switch
changed twice: one port freed, one taken) and a swapped camera drags its recorder channel along.
Here each change a person made is one ``Item``; the ports a move frees and takes, the switch port
whose link and PoE went with a removed camera, the recorder channel that follows a swap, become
``Effect`` lines under it. What no cause explains stays a change of its own. Field paths become the
words on site: ``onvif.profiles[profile_1].video_encoder.frame_rate 25.0 → 10.0`` is "main stream
frame rate 25 → 10 fps"; ``switch.ports[GigabitEthernet1/0/12].oper_up`` is "Gi1/0/12 link down → up".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from collector.diff import Change, ChangeKind, FieldChange, MissingState, SiteDiff

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


_PORT_FIELD = re.compile(r"^switch\.ports\[(?P<port>[^\]]+)\](?:\.(?P<rest>.+))?$")
_CHANNEL_FIELD = re.compile(r"^recorder\.channels\[(?P<channel>\d+)\](?:\.(?P<rest>.+))?$")
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
            draft.details = _details(leftover)
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
        if (m := _PORT_FIELD.match(f.path)) is not None:
            by_port.setdefault(m["port"], []).append(f)
        elif (m := _CHANNEL_FIELD.match(f.path)) is not None:
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
            Effect(change.device_id, subject, role, f"{subject} {role}: {_port_text(fields)}")
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
        rest = _rest(_CHANNEL_FIELD, f.path)
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
    details = list(draft.details)
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
        details = _details([f for f in c.fields if f.path not in _SWAP_IDENTITY_NOISE])
    elif c.kind is ChangeKind.MOVED:
        headline = f"{c.label} re-patched: {_move_text(c.old_position, c.position)}"
    else:
        headline = f"{c.label}{at}: {details[0]}" if len(details) == 1 else f"{c.label}{at} changed"
        if len(details) == 1:
            details = []
    return Item(
        kind=c.kind,
        device_id=c.device_id,
        headline=headline,
        details=tuple(details),
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


# ---------------------------------------------------------------- words for fields

_PORT_ABBREVIATIONS = (
    ("TwentyFiveGigE", "Twe"),
    ("TenGigabitEthernet", "Te"),
    ("TwoGigabitEthernet", "Tw"),
    ("FiveGigabitEthernet", "Fi"),
    ("GigabitEthernet", "Gi"),
    ("FastEthernet", "Fa"),
)


def short_port(name: str) -> str:
    """'GigabitEthernet1/0/12' → 'Gi1/0/12', as technicians say and labels print."""
    for long, short in _PORT_ABBREVIATIONS:
        if name.startswith(long) and name[len(long) : len(long) + 1].isdigit():
            return short + name[len(long) :]
    return name


def short_position(position: str | None) -> str | None:
    if not position:
        return position
    switch, _, port = position.rpartition(" ")
    return f"{switch} {short_port(port)}" if switch else short_port(port)


def stream_name(token: str) -> str:
    """A media profile token as people call the stream: profile_1 → main, profile_2 → sub stream."""
    low = token.casefold()
    if "main" in low:
        return "main stream"
    if "sub" in low or "second" in low:
        return "sub stream"
    digits = re.search(r"(\d+)", low)
    if digits:
        text = digits.group(1)
        n = int(text) + (1 if text.startswith("0") else 0)  # Dahua counts MediaProfile000 as the first
        return {1: "main stream", 2: "sub stream", 3: "third stream"}.get(n, f"stream {n}")
    return f"stream “{token}”"


def config_name(path: str) -> str:
    kind = path[len("config[") : -1] if path.startswith("config[") else path
    return {"running-config": "running configuration", "startup-config": "startup configuration"}.get(
        kind, f"{kind} configuration"
    )


def show(value: Any, unit: str = "") -> str:
    """A value as a person reads it: 25.0 → 25, True → yes, [a, b] → a, b, None → none."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return text + unit
    if isinstance(value, int):
        return f"{value}{unit}"
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "{…}"
    return f"{value}{unit}"


def _arrow(label: str, old: Any, new: Any, unit: str = "", fmt: Callable[[Any], str] | None = None) -> str:
    f = fmt or (lambda v: show(v))
    if unit and old is not None and new is not None:
        return f"{label} {f(old)} → {f(new)}{unit}"
    return f"{label} {f(old) if old is not None else 'none'} → {f(new) if new is not None else 'none'}" + (
        unit if new is not None and old is None else ""
    )


def _onoff(v: Any) -> str:
    return "on" if v else "off" if v is not None else "unknown"


def _updown(v: Any) -> str:
    return "up" if v else "down" if v is not None else "unknown"


def _quoted(v: Any) -> str:
    return f"“{v}”" if v not in (None, "") else "none"


_STREAM_SETTINGS: dict[str, tuple[str, str]] = {
    "frame_rate": ("frame rate", " fps"),
    "bitrate_kbps": ("bit rate", " kbit/s"),
    "encoding": ("codec", ""),
    "gov_length": ("I-frame interval", " frames"),
    "quality": ("quality", ""),
    "profile": ("codec profile", ""),
    "width": ("width", " px"),
    "height": ("height", " px"),
    "token": ("encoder configuration", ""),
}
_SIMPLE: dict[str, tuple[str, str]] = {
    "identity.firmware": ("firmware", ""),
    "identity.serial": ("serial number", ""),
    "identity.mac": ("MAC address", ""),
    "identity.hostname": ("name", ""),
    "identity.model": ("model", ""),
    "identity.vendor": ("make", ""),
    "identity.hardware_id": ("hardware revision", ""),
    "identity.location": ("location text", ""),
    "network.ip": ("IP address", ""),
    "network.gateway": ("gateway", ""),
    "network.dns": ("DNS servers", ""),
    "network.ntp": ("NTP servers", ""),
    "network.prefix_length": ("subnet prefix /", ""),
    "recorder.channel_count": ("channels", ""),
    "switch.poe_budget_w": ("PoE budget", " W"),
    "switch.sys_object_id": ("SNMP object id", ""),
    "switch.sys_descr": ("system description", ""),
    "attachment.vlan": ("VLAN on its switch port", ""),
    "attachment.poe_class": ("PoE class", ""),
    "attachment.poe_status": ("PoE", ""),
    "attachment.switch_name": ("switch name", ""),
    "role": ("role", ""),
    "onvif.services": ("ONVIF services", ""),
}


def describe(f: FieldChange) -> str | None:
    """One field change in words, or None when it says nothing to a person on its own."""
    path, old, new = f.path, f.old, f.new
    if f.text_diff is not None or path.startswith("config["):
        if f.text_diff is None:
            return f"{config_name(path)} {show(old)} → {show(new)}"
        return f"{config_name(path)} changed ({_line_counts(f)})"
    if path in _SIMPLE:
        label, unit = _SIMPLE[path]
        if label.endswith("/"):
            return f"{label[:-2]} /{show(old)} → /{show(new)}"
        return _arrow(label, old, new, unit)
    if path == "network.dhcp":
        return f"DHCP {_onoff(old)} → {_onoff(new)}"
    if m := re.fullmatch(r"onvif\.profiles\[([^\]]+)\](?:\.(.+))?", path):
        return _stream_text(stream_name(m[1]), m[2], old, new)
    if m := re.fullmatch(r"network\.protocols\[([^\]]+)\](?:\.(.+))?", path):
        return _protocol_text(m[1], m[2], old, new)
    if m := re.fullmatch(r"onvif\.users\[([^\]]+)\](?:\.(.+))?", path):
        return _user_text(m[1], m[2], old, new)
    if path == "onvif.scopes":
        return _set_text("ONVIF scopes", old, new)
    if path == "onvif.endpoint_reference":
        return "ONVIF device id changed"
    if m := _CHANNEL_FIELD.match(path):
        return f"channel {m['channel']} " + _channel_phrase(m["rest"], old, new)
    if m := _PORT_FIELD.match(path):
        return f"{short_port(m['port'])} " + _port_phrase(m["rest"], old, new)
    if m := re.fullmatch(r"switch\.vlans\[(\d+)\](?:\.(.+))?", path):
        if m[2] is None:
            return f"VLAN {m[1]} " + ("added" if old is None else "removed" if new is None else "changed")
        return _arrow(f"VLAN {m[1]} name", old, new)
    if path.startswith("attachment."):
        return _arrow("switch port " + path.split(".", 1)[1].replace("_", " "), old, new)
    return _arrow(_humanise(path), old, new)


def _humanise(path: str) -> str:
    words = re.sub(r"[._\[\]]+", " ", path).strip()
    return words.replace(" kbps", " (kbit/s)").replace(" w", " (W)")


def _line_counts(f: FieldChange) -> str:
    lines = (f.text_diff or "").splitlines()
    plus = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++"))
    minus = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---"))
    return f"+{plus} −{minus} lines"


def _stream_text(stream: str, rest: str | None, old: Any, new: Any) -> str:
    if rest is None or rest == "video_encoder":
        what = stream if rest is None else f"{stream} encoder settings"
        return f"{what} " + ("added" if old is None else "removed" if new is None else "changed")
    if rest == "stream_uri":
        return _arrow(f"{stream} address", old, new)
    if rest == "name":
        return _arrow(f"{stream} name", old, new)
    setting = rest.removeprefix("video_encoder.")
    label, unit = _STREAM_SETTINGS.get(setting, (setting.replace("_", " "), ""))
    return _arrow(f"{stream} {label}", old, new, unit)


def _protocol_text(name: str, rest: str | None, old: Any, new: Any) -> str:
    if rest is None:
        return f"{name} " + (
            "turned on" if old is None else "no longer offered" if new is None else "changed"
        )
    if rest == "enabled":
        return f"{name} {_onoff(old)} → {_onoff(new)}"
    if rest == "ports":
        return _arrow(f"{name} port", old, new)
    return _arrow(f"{name} {rest}", old, new)


def _user_text(name: str, rest: str | None, old: Any, new: Any) -> str:
    if rest is None:
        if old is None:
            level = new.get("level") if isinstance(new, dict) else None
            return f"device user “{name}” added" + (f" ({level})" if level else "")
        if new is None:
            return f"device user “{name}” removed"
    return _arrow(f"device user “{name}” {(rest or 'account').replace('_', ' ')}", old, new)


def _set_text(label: str, old: Any, new: Any) -> str:
    before, after = set(old or ()), set(new or ())
    added, removed = len(after - before), len(before - after)
    parts = [f"{added} added" if added else "", f"{removed} removed" if removed else ""]
    return f"{label} changed ({', '.join(p for p in parts if p) or 'reordered'})"


def _port_phrase(rest: str | None, old: Any, new: Any) -> str:
    if rest is None:
        if old is None and isinstance(new, dict):
            return "appeared: " + _port_summary(new)
        if new is None:
            return "no longer reported"
        return "changed"
    if rest == "oper_up":
        return f"link {_updown(old)} → {_updown(new)}"
    if rest == "admin_up":
        return f"port {'enabled' if old else 'disabled'} → {'enabled' if new else 'disabled'}"
    if rest == "alias":
        if old in (None, ""):
            return f"description set to {_quoted(new)}"
        if new in (None, ""):
            return f"description {_quoted(old)} cleared"
        return f"description {_quoted(old)} → {_quoted(new)}"
    if rest == "speed_mbps":
        return _arrow("speed", old, new, " Mbit/s")
    if rest == "vlan":
        return _arrow("VLAN", old, new)
    if rest == "is_uplink":
        return "now an uplink" if new else "no longer an uplink"
    if rest == "poe":
        return "PoE " + ("appeared" if old is None else "no longer reported" if new is None else "changed")
    if rest == "poe.status":
        return _arrow("PoE", old, new)
    if rest == "poe.admin_enabled":
        return f"PoE {_onoff(old)} → {_onoff(new)}"
    if rest == "poe.power_class":
        return _arrow("PoE class", old, new)
    if rest == "poe.power_w":
        return _arrow("PoE draw", old, new, " W")
    return _arrow(rest.replace("_", " ").replace(".", " "), old, new)


def _port_summary(port: dict[str, Any]) -> str:
    poe = port.get("poe") or {}
    parts = [f"link {_updown(port.get('oper_up'))}"]
    if poe.get("status"):
        parts.append(f"PoE {poe['status']}")
    if port.get("alias"):
        parts.append(f"description {_quoted(port['alias'])}")
    return ", ".join(parts)


def _port_text(fields: list[FieldChange]) -> str:
    """A port's fields as one line; a speed that only follows the link going up or down is left out."""
    paths = {f.path.rsplit(".", 1)[-1] for f in fields}
    shown = [f for f in fields if not (f.path.endswith(".speed_mbps") and "oper_up" in paths)]
    return ", ".join(_port_phrase(_rest(_PORT_FIELD, f.path), f.old, f.new) for f in shown)


def _channel_phrase(rest: str | None, old: Any, new: Any) -> str:
    if rest is None:
        return "added" if old is None else "removed" if new is None else "changed"
    if rest == "camera_id":
        return "records " + ("no camera" if new is None else "another camera")
    if rest == "name":
        return _arrow("name", _quoted(old), _quoted(new), fmt=str)
    if rest == "source_address":
        return _arrow("camera address", old, new)
    if rest == "recording_days":
        return _arrow("retention", old, new, " days")
    return _arrow(rest.replace("_", " "), old, new)


def _channel_text(fields: list[FieldChange], cause: Change) -> str:
    rests = [_rest(_CHANNEL_FIELD, f.path) for f in fields]
    if cause.kind is ChangeKind.REPLACED and set(rests) == {"camera_id"}:
        return "follows the swap: it now records the new unit"
    # The recorder's own source id is its business; name it only when nothing else changed.
    shown = [(r, f) for r, f in zip(rests, fields, strict=True) if r != "source_id"] or list(
        zip(rests, fields, strict=True)
    )
    return ", ".join(_channel_phrase(r, f.old, f.new) for r, f in shown)


def _rest(pattern: re.Pattern[str], path: str) -> str | None:
    m = pattern.match(path)
    return m["rest"] if m else None


def _details(fields: list[FieldChange]) -> list[str]:
    """Field changes in words; a stream's width and height together read as its resolution."""
    out: list[str] = []
    sizes: dict[str, dict[str, FieldChange]] = {}
    for f in fields:
        m = re.fullmatch(r"onvif\.profiles\[([^\]]+)\]\.video_encoder\.(width|height)", f.path)
        if m:
            sizes.setdefault(m[1], {})[m[2]] = f
    done: set[str] = set()
    for f in fields:
        m = re.fullmatch(r"onvif\.profiles\[([^\]]+)\]\.video_encoder\.(width|height)", f.path)
        if m and len(sizes[m[1]]) == 2:
            if m[1] not in done:
                w, h = sizes[m[1]]["width"], sizes[m[1]]["height"]
                before, after = f"{show(w.old)}×{show(h.old)}", f"{show(w.new)}×{show(h.new)}"
                out.append(f"{stream_name(m[1])} resolution {before} → {after}")
                done.add(m[1])
            continue
        text = describe(f)
        if text:
            out.append(text)
    return out
