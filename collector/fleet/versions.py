"""Firmware versions compared sensibly: PEP 440 where both parse, else their numbers in order.

Vendors write "10.12.182" (parses), "V5.7.3 build 220112", "2.800.0000000.16.R", "IPC_G6103-B0005P30D1902"
or "2.21.02_20230420" (do not). A leading "V" is dropped before trying PEP 440; otherwise the
numeric runs are compared as a tuple ("V5.7.3 build 220112" → (5, 7, 3, 220112)), and two strings
with no digits (or equal numbers) fall back to the text itself, so the order is total and stable.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from packaging.version import InvalidVersion, Version

_NUMBERS = re.compile(r"\d+")


def _pep440(text: str) -> Version | None:
    cleaned = text.strip()
    if cleaned[:1] in ("v", "V"):
        cleaned = cleaned[1:]
    try:
        return Version(cleaned)
    except InvalidVersion:
        return None


def numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in _NUMBERS.findall(text)[:20])


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as firmware ``a`` is older than, the same as, or newer than ``b``."""
    if a.strip() == b.strip():
        return 0
    pa, pb = _pep440(a), _pep440(b)
    if pa is not None and pb is not None and pa != pb:
        return -1 if pa < pb else 1
    na, nb = numbers(a), numbers(b)
    if na != nb:
        return -1 if na < nb else 1
    ta, tb = a.strip().lower(), b.strip().lower()
    return 0 if ta == tb else (-1 if ta < tb else 1)


sort_key = functools.cmp_to_key(compare)


def newest(versions: Iterable[str]) -> str | None:
    found = [v for v in versions if v and v.strip()]
    return max(found, key=sort_key) if found else None
