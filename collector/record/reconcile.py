"""The quote against the scan: which quoted items are installed, which installed devices were never
quoted, and where fewer were installed than quoted.

Pure. Serial numbers decide first (a quoted line that lists serials owns the devices with those
serials); then models are counted (a line for 4 × DS-2CD2T47G2-L takes up to 4 unclaimed devices of
that model, by vendor when both sides name one). Lines that name nothing a scan can see (cable,
brackets, labour) simply find no device: they show as "not seen by the scan", not as missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from collector.diff import device_label
from drivers.schema import Device

MIN_MODEL_PREFIX = 4  # "DS-2CD2T47G2-L(4mm)" on the quote matches "DS-2CD2T47G2-L" from the device


class QuotedLine(Protocol):
    """A quote line as stored (record_tables.QuoteLine) or imported (quote_import.QuoteItem)."""

    @property
    def part(self) -> str | None: ...
    @property
    def vendor(self) -> str | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def quantity(self) -> int: ...
    @property
    def serials(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class LineStatus:
    index: int  # position of the line in the given sequence
    quantity: int
    by_serial: tuple[str, ...]  # device ids
    by_model: tuple[str, ...]
    serials_not_seen: tuple[str, ...]  # listed on the quote, not on the network

    @property
    def installed(self) -> int:
        return len(self.by_serial) + len(self.by_model)

    @property
    def shortfall(self) -> int:
        return max(0, self.quantity - self.installed)


@dataclass(frozen=True)
class Unquoted:
    device_id: str
    label: str
    reason: str  # "model not on the quote" | "more installed than quoted (4 quoted)"


@dataclass(frozen=True)
class Reconciliation:
    lines: tuple[LineStatus, ...]
    unquoted: tuple[Unquoted, ...]

    @property
    def shortfalls(self) -> list[LineStatus]:
        return [s for s in self.lines if s.shortfall]

    @property
    def complete(self) -> bool:
        return not self.unquoted and not self.shortfalls


def norm(text: str | None) -> str:
    """'DS-2CD2T47G2-L' and 'ds 2cd2t47g2 l' compare equal: case and punctuation do not count."""
    return re.sub(r"[^0-9a-z]", "", (text or "").casefold())


def model_matches(quoted: str | None, installed: str | None) -> bool:
    q, d = norm(quoted), norm(installed)
    if not q or not d:
        return False
    return (
        q == d
        or (len(d) >= MIN_MODEL_PREFIX and q.startswith(d))
        or (len(q) >= MIN_MODEL_PREFIX and d.startswith(q))
    )


def vendor_matches(quoted: str | None, installed: str | None) -> bool:
    """Unknown on either side is no contradiction; 'Axis Communications' is 'AXIS'."""
    q, d = norm(quoted), norm(installed)
    return not q or not d or q.startswith(d) or d.startswith(q)


def reconcile(lines: Sequence[QuotedLine], devices: Iterable[Device]) -> Reconciliation:
    pool = list(devices)
    claimed: set[str] = set()
    by_serial_no = {norm(d.identity.serial): d for d in pool if norm(d.identity.serial)}
    serial_hits: list[list[str]] = [[] for _ in lines]
    not_seen: list[list[str]] = [[] for _ in lines]
    for i, line in enumerate(lines):
        for serial in line.serials:
            device = by_serial_no.get(norm(serial))
            if device is None or device.id in claimed:
                not_seen[i].append(serial)
                continue
            claimed.add(device.id)
            serial_hits[i].append(device.id)
    model_hits: list[list[str]] = [[] for _ in lines]
    for i, line in enumerate(lines):
        room = line.quantity - len(serial_hits[i])
        for device in pool:
            if room <= 0:
                break
            if device.id in claimed or not _line_fits(line, device):
                continue
            claimed.add(device.id)
            model_hits[i].append(device.id)
            room -= 1
    statuses = tuple(
        LineStatus(i, line.quantity, tuple(serial_hits[i]), tuple(model_hits[i]), tuple(not_seen[i]))
        for i, line in enumerate(lines)
    )
    unquoted = tuple(
        Unquoted(d.id, device_label(d), _why_unquoted(d, lines))
        for d in sorted(pool, key=lambda d: (d.role.value, device_label(d)))
        if d.id not in claimed
    )
    return Reconciliation(statuses, unquoted)


def _line_fits(line: QuotedLine, device: Device) -> bool:
    ident = device.identity
    if not vendor_matches(line.vendor, ident.vendor):
        return False
    return model_matches(line.model, ident.model) or model_matches(line.part, ident.model)


def _why_unquoted(device: Device, lines: Sequence[QuotedLine]) -> str:
    quoted = sum(line.quantity for line in lines if _line_fits(line, device))
    if quoted:
        return f"more installed than quoted ({quoted} quoted)"
    return "model not on the quote" if device.identity.model else "model unknown to the scan"
