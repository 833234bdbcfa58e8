"""What happens on a real site between two scans, as pure functions LabSite -> LabSite.

Each change edits a plain copy of the site and validates it again through the pydantic model, so a
move to an occupied port, a duplicate name or an IP outside the subnet is refused with the model's
own words (as ChangeError). The running lab applies the result with LabRunner.apply().

Removing a camera also drops it from every recorder's channel list (the site model only allows
channels that point to cameras of the site), so the cameras after it on that recorder move up one
channel.
"""

from __future__ import annotations

import inspect
import ipaddress
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from drivers.normalize import canonical_mac
from lab.site import Faults, LabSite

CHANGE_KINDS = ("add", "remove", "swap", "move", "firmware", "setting", "fault", "ip")


class ChangeError(ValueError):
    """A change that cannot be applied to this site; the message says why."""


def _validate(data: dict[str, Any]) -> LabSite:
    try:
        return LabSite.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(str(err["msg"]).removeprefix("Value error, ") for err in exc.errors())
        raise ChangeError(reasons) from None


def _find(data: dict[str, Any], name: str) -> dict[str, Any]:
    for device in data["devices"]:
        if device["name"] == name:
            return device
    known = ", ".join(d["name"] for d in data["devices"])
    raise ChangeError(f"no camera or recorder named {name!r} (known: {known})")


def parse_uplink(text: str) -> dict[str, Any]:
    """`sw-core:12` -> a managed switch port; `cab-poe-1` -> an unmanaged switch (no port)."""
    switch, _, port = text.partition(":")
    if not switch:
        raise ChangeError(f"not a switch port: {text!r} (expected SWITCH:PORT or an unmanaged switch name)")
    if not port:
        return {"switch": switch, "port": None}
    if not port.isdigit():
        raise ChangeError(f"port must be a number in {text!r}")
    return {"switch": switch, "port": int(port)}


def _used_ips(data: dict[str, Any]) -> set[str]:
    return {d["ip"] for d in data["devices"]} | {s["ip"] for s in data["switches"]} | {data["scanner_ip"]}


def free_ip(site: LabSite) -> str:
    """The lowest free host address of the subnet, leaving .1 to the (absent) gateway."""
    used = _used_ips(site.model_dump())
    for host in list(ipaddress.ip_network(site.subnet).hosts())[1:]:
        if str(host) not in used:
            return str(host)
    raise ChangeError(f"no free address left in {site.subnet}")


def free_mac(site: LabSite, like: str) -> str:
    """A MAC with the same vendor prefix (OUI) as `like` that nothing on the site uses."""
    used = {mac for _n, _ip, mac in site.hosts()}
    oui, tail = like[:8], int(like.replace(":", "")[6:], 16)
    for step in range(1, 0x1000000):
        raw = f"{(tail + step) & 0xFFFFFF:06x}"
        mac = f"{oui}:{raw[0:2]}:{raw[2:4]}:{raw[4:6]}"
        if mac not in used:
            return mac
    raise ChangeError(f"no free MAC left under {oui}")


def free_serial(site: LabSite, like: str) -> str:
    """Another serial in the same format: the trailing number counts up until unused."""
    used = {d.serial for d in site.devices}
    match = re.search(r"(\d+)$", like)
    stem, number, width = (
        (like[: match.start()], int(match.group(1)), len(match.group(1))) if match else (like, 0, 3)
    )
    for step in range(1, 100000):
        serial = f"{stem}{number + step:0{width}d}"
        if serial not in used:
            return serial
    raise ChangeError(f"no free serial like {like!r}")


# ---------------------------------------------------------------- the changes


def add_device(
    site: LabSite, like: str, name: str, port: str, ip: str | None = None, mac: str | None = None
) -> LabSite:
    """A new device of the same kind as `like` (vendor, model, credentials), with its own identity."""
    data = site.model_dump()
    template = _find(data, like)
    device = {
        **template,
        "name": name,
        "ip": ip or free_ip(site),
        "mac": canonical_mac(mac) if mac else free_mac(site, template["mac"]),
        "serial": free_serial(site, template["serial"]),
        "uplink": parse_uplink(port),
        "placement": "",
        "channels": [],
    }
    data["devices"].append(device)
    return _validate(data)


def remove_device(site: LabSite, name: str) -> LabSite:
    data = site.model_dump()
    _find(data, name)
    data["devices"] = [d for d in data["devices"] if d["name"] != name]
    for device in data["devices"]:
        device["channels"] = [c for c in device["channels"] if c != name]
    return _validate(data)


def swap_device(site: LabSite, name: str, mac: str | None = None, serial: str | None = None) -> LabSite:
    """The classic replaced camera: same name, IP and port; another unit (serial and MAC)."""
    data = site.model_dump()
    device = _find(data, name)
    device["mac"] = canonical_mac(mac) if mac else free_mac(site, device["mac"])
    device["serial"] = serial or free_serial(site, device["serial"])
    return _validate(data)


def move_device(site: LabSite, name: str, to: str) -> LabSite:
    data = site.model_dump()
    _find(data, name)["uplink"] = parse_uplink(to)
    return _validate(data)


def set_firmware(site: LabSite, name: str, version: str) -> LabSite:
    if not version.strip():
        raise ChangeError("firmware version is empty")
    data = site.model_dump()
    _find(data, name)["firmware"] = version.strip()
    return _validate(data)


def set_ip(site: LabSite, name: str, ip: str) -> LabSite:
    data = site.model_dump()
    _find(data, name)["ip"] = ip
    return _validate(data)


STREAM_SETTINGS = (
    "encoding",
    "width",
    "height",
    "frame_rate",
    "bitrate_kbps",
    "gov_length",
    "quality",
    "profile",
)


def set_stream(site: LabSite, name: str, profile: str, **settings: Any) -> LabSite:
    """Change encoder settings of one stream profile (e.g. bitrate_kbps=8192)."""
    unknown = set(settings) - set(STREAM_SETTINGS)
    if unknown:
        raise ChangeError(f"unknown stream settings {sorted(unknown)}; known: {', '.join(STREAM_SETTINGS)}")
    values = {k: v for k, v in settings.items() if v is not None}
    if not values:
        raise ChangeError("no setting given")
    data = site.model_dump()
    device = _find(data, name)
    for entry in device["profiles"]:
        if entry["token"] == profile:
            entry.update(values)
            return _validate(data)
    tokens = ", ".join(p["token"] for p in device["profiles"])
    raise ChangeError(f"{name} has no stream profile {profile!r} (it has {tokens})")


def set_fault(site: LabSite, name: str, fault: str, value: Any = True) -> LabSite:
    """Turn a fault on (or set its value, e.g. clock_offset_s=7200); value False/0 turns it off."""
    if fault not in Faults.model_fields:
        raise ChangeError(f"unknown fault {fault!r}; known: {', '.join(Faults.model_fields)}")
    data = site.model_dump()
    device = next((d for d in data["devices"] if d["name"] == name), None)
    if device is None:
        device = next((s for s in data["switches"] if s["name"] == name), None)
    if device is None:
        raise ChangeError(f"no device named {name!r}")
    device["faults"][fault] = value
    return _validate(data)


CHANGES: dict[str, Callable[..., LabSite]] = {
    "add": add_device,
    "remove": remove_device,
    "swap": swap_device,
    "move": move_device,
    "firmware": set_firmware,
    "setting": set_stream,
    "fault": set_fault,
    "ip": set_ip,
}


def apply_change(site: LabSite, kind: str, args: dict[str, Any]) -> LabSite:
    """Dispatch a change by name (used by the control channel); unknown kinds and arguments are errors."""
    change = CHANGES.get(kind)
    if change is None:
        raise ChangeError(f"unknown change {kind!r}; known: {', '.join(CHANGES)}")
    try:
        inspect.signature(change).bind(site, **args)
    except TypeError as exc:
        raise ChangeError(f"change {kind}: {exc}") from None
    return change(site, **args)
