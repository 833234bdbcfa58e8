"""Field changes of a diff in the words used on site: paths become names, values get their units.

``onvif.profiles[profile_1].video_encoder.frame_rate 25.0 → 10.0`` is "main stream frame rate
25 → 10 fps"; ``switch.ports[GigabitEthernet1/0/12].oper_up no → yes`` is "Gi1/0/12 link down → up".
Pure; used by collector/changes_words.py, and by any page that shows one field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from collector.diff import FieldChange

PORT_FIELD = re.compile(r"^switch\.ports\[(?P<port>[^\]]+)\](?:\.(?P<rest>.+))?$")
CHANNEL_FIELD = re.compile(r"^recorder\.channels\[(?P<channel>\d+)\](?:\.(?P<rest>.+))?$")

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
        return f"{config_name(path)} changed ({line_counts(f)})"
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
    if m := CHANNEL_FIELD.match(path):
        return f"channel {m['channel']} " + channel_phrase(m["rest"], old, new)
    if m := PORT_FIELD.match(path):
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


def line_counts(f: FieldChange) -> str:
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


def port_text(fields: list[FieldChange]) -> str:
    """A port's fields as one line; a speed that only follows the link going up or down is left out."""
    paths = {f.path.rsplit(".", 1)[-1] for f in fields}
    shown = [f for f in fields if not (f.path.endswith(".speed_mbps") and "oper_up" in paths)]
    return ", ".join(_port_phrase(field_rest(PORT_FIELD, f.path), f.old, f.new) for f in shown)


def channel_phrase(rest: str | None, old: Any, new: Any) -> str:
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


def field_rest(pattern: re.Pattern[str], path: str) -> str | None:
    m = pattern.match(path)
    return m["rest"] if m else None


def details(fields: list[FieldChange]) -> list[str]:
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
