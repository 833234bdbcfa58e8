"""Jinja filters: how times, watts and diff values read on a page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from collector.web.record import anchor


def when(value: datetime | None) -> str:
    """'2026-11-23 02:00 UTC': one zone for everyone, because sites and staff are in many."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def watts(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} W"


def show(value: Any) -> str:
    """A diff value as text: absent is '—', records and lists are compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    return str(value)


def diff_line_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "hdr"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    if line.startswith("@@"):
        return "hunk"
    return ""


def groups(secret: str, size: int = 4) -> str:
    """'XZKZCHPI…' → 'XZKZ CHPI …': a key typed into a phone by hand, read in groups."""
    return " ".join(secret[i : i + size] for i in range(0, len(secret), size))


FILTERS = {
    "groups": groups,
    "when": when,
    "iso": iso,
    "watts": watts,
    "show": show,
    "anchor": anchor,
    "diff_line_class": diff_line_class,
}
