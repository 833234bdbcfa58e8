"""The worst snapshot uploads we know, as (name, body, Content-Encoding): used by the memory test
and by benchmarks/collector_ingest.py, which prints the collector's peak memory for each."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

from collector.ingest import MAX_JSON_TOKENS
from tests.collector.factory import depot


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _head(site: str) -> bytes:
    """A valid snapshot's opening (schema_version, site, scan), ready for a hostile "devices" list."""
    doc = json.loads(depot(site_id=site).canonical_json())
    head = {k: doc[k] for k in ("schema_version", "site", "scan")}
    return json.dumps(head).encode()[:-1] + b', "devices": ['


def _devices(site: str, filler: bytes, count: int) -> bytes:
    return _head(site) + filler + (b"," + filler) * (count - 1) + b"]}"  # no list of 21 M items


def _sized_gzip(site: str, filler: bytes, gzip_bytes: int) -> bytes:
    """About ``gzip_bytes`` of gzip whose inflated text is a devices list of ``filler`` items."""
    count = 1000
    while len(_gz(_devices(site, filler, count * 2))) <= gzip_bytes and count < 50_000_000:
        count *= 2
    return _gz(_devices(site, filler, count))


def hostile_uploads(site: str) -> Iterator[tuple[str, bytes, str | None]]:
    yield "64 KB gzip, 21 M empty devices", _gz(_devices(site, b"{}", 21_000_000)), "gzip"
    yield "4 KB gzip of empty devices", _sized_gzip(site, b"{}", 4096), "gzip"
    yield "4 KB gzip of empty lists", _sized_gzip(site, b"[]", 4096), "gzip"
    yield "4 KB gzip of small objects", _sized_gzip(site, b'{"role":"camera"}', 4096), "gzip"
    just_under = MAX_JSON_TOKENS // 2 - 1000  # each "{}," counts two values
    yield (
        f"{just_under // 1000} k empty devices (just under the value limit)",
        _gz(_devices(site, b"{}", just_under)),
        "gzip",
    )
    yield "1 M deep nesting", _gz(_head(site) + b"[" * 1_000_000 + b"]" * 1_000_000 + b"]}"), "gzip"
    yield "one 30 MB string", _gz(_head(site)[:-1] + b'"' + b"x" * 30_000_000 + b'"}'), "gzip"
    yield (
        "10 k long model names",
        _devices(site, b'{"role":"camera","identity":{"model":"' + b"m" * 3000 + b'"}}', 10_000),
        None,
    )
    yield "16 MB identity body of zeros", _head(site)[:-1] + b"[" + b"0," * 8_000_000 + b"0]}", None
