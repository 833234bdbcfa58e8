"""Pure: what a device is found by, and what a typed query looks for.

Every term is lower case. A MAC is kept as its 12 hex digits, so ``AA:BB:CC:DD:EE:FF``,
``aabb.ccdd.eeff``, ``AA-BB-CC-DD-EE-FF`` and ``aabbccddeeff`` (or any leading part of them) find
the same device. Free text (model, host name, location) is also split into words, so "P3245" finds
an "AXIS P3245-LVE".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collector.db.search_tables import TERM_CHARS
from drivers.schema import Device

_WORDS = re.compile(r"[\s/,;()_\-]+")
_MAC_SEPARATORS = re.compile(r"[\s:.\-]")
_HEX = re.compile(r"[0-9a-f]+")
MIN_WORD = 2


@dataclass(frozen=True)
class DeviceFacts:
    """The columns of one ``search_device`` row (the latest values seen)."""

    device_id: str
    role: str
    vendor: str | None
    model: str | None
    serial: str | None
    mac: str | None
    ip: str | None
    hostname: str | None
    firmware: str | None
    location: str | None


def facts(device: Device) -> DeviceFacts:
    ident, net = device.identity, device.network
    return DeviceFacts(
        device_id=device.id[:300],
        role=device.role.value,
        vendor=_cut(ident.vendor),
        model=_cut(ident.model),
        serial=_cut(ident.serial),
        mac=ident.mac,
        ip=net.ip,
        hostname=_cut(ident.hostname),
        firmware=_cut(ident.firmware),
        location=_cut(ident.location),
    )


def _cut(value: str | None) -> str | None:
    return None if value is None else value[:256]


def mac_hex(mac: str) -> str:
    return _MAC_SEPARATORS.sub("", mac).lower()


def device_terms(f: DeviceFacts) -> set[tuple[str, str]]:
    """(field, term) pairs a device is found by."""
    out: set[tuple[str, str]] = set()

    def add(field: str, value: str | None, words: bool = False) -> None:
        if not value:
            return
        low = value.strip().lower()
        if low:
            out.add((field, low[:TERM_CHARS]))
        if words:
            for word in _WORDS.split(low):
                if len(word) >= MIN_WORD and word != low:
                    out.add(("word", word[:TERM_CHARS]))

    if f.mac:
        add("mac", mac_hex(f.mac))
    add("serial", f.serial)
    add("ip", f.ip)
    add("hostname", f.hostname, words=True)
    add("model", f.model, words=True)
    add("vendor", f.vendor, words=True)
    add("firmware", f.firmware)
    add("location", f.location, words=True)
    return out


@dataclass(frozen=True)
class Query:
    """What a typed search looks up: the text as typed (lower case) and, when it can be the start of
    a MAC in some spelling, its hex digits."""

    text: str
    mac: str | None

    @property
    def empty(self) -> bool:
        return not self.text


def parse_query(raw: str) -> Query:
    text = " ".join(raw.split()).lower()[:TERM_CHARS]
    return Query(text=text, mac=mac_prefix(text))


def mac_prefix(text: str) -> str | None:
    """The hex digits of ``text`` when it can be (the start of) a MAC in some spelling: groups of two
    (``aa:bb:cc``, ``aa-bb``), of four (``aabb.ccdd``), or six to twelve bare hex digits. An IP
    (``10.0.0.5``) or a short number is not one."""
    groups = [g for g in _MAC_SEPARATORS.split(text)]
    digits = "".join(groups)
    if not _HEX.fullmatch(digits) or not 4 <= len(digits) <= 12:
        return None
    if len(groups) == 1:
        return digits if len(digits) >= 6 else None
    whole, last = groups[:-1], groups[-1]
    for size in (2, 4):
        if all(len(g) == size for g in whole) and 0 < len(last) <= size:
            return digits
    return None


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """[low, high) such that low <= t < high exactly when t starts with ``prefix`` (byte order)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
