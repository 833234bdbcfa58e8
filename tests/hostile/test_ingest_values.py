"""Issue #14, classes 1 and 3 at the collector: what a database cannot store is refused at ingest
with a 422 naming the field, and oversized documents are refused before they are built.

Each case was a 500 on PostgreSQL (NUL, NaN, huge integers) or a process-killing allocation before
the fix; here it must be a 4xx with the error envelope, nothing stored, and the site still able to
take a good snapshot right after (one bad value never blocks the next delivery).
"""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import pytest

from collector.errors import ApiError
from collector.ingest import MAX_JSON_TOKENS, parse_snapshot
from drivers.schema import MAX_DEVICES, Snapshot
from tests.collector.conftest import Api, unique_site
from tests.collector.factory import depot


def _good(site: str) -> dict[str, Any]:
    return json.loads(depot(site_id=site).canonical_json())


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``doc`` with ``value`` at a dotted path (numbers index lists)."""
    out = json.loads(json.dumps(doc))
    node: Any = out
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return out


# (path, value, field the error must name); raw JSON text for what json.dumps cannot write itself
UNSTORABLE = [
    ("devices.0.identity.model", "DS-2CD\x002143", "devices[0].identity.model"),
    ("devices.1.identity.location", "hall\x00", "devices[1].identity.location"),
    ("devices.2.onvif.scopes", ["onvif://www.onvif.org/name/a\x00b"], "devices[2].onvif.scopes[0]"),
    ("devices.0.identity.serial", "\ud800lone", "devices[0].identity.serial"),
    ("scan.agent_host", "box\udfff", "scan.agent_host"),
    ("devices.0.uptime_s", 2**64, "devices[0].uptime_s"),
    ("devices.0.uptime_s", -(2**63) - 1, "devices[0].uptime_s"),
]


def _dumps(doc: dict[str, Any]) -> bytes:
    # ensure_ascii keeps lone surrogates as \ud800 escapes, exactly as a hostile client would send them
    return json.dumps(doc, ensure_ascii=True).encode()


@pytest.mark.parametrize(
    ("path", "value", "field"), UNSTORABLE, ids=[u[2] + "=" + repr(u[1])[:12] for u in UNSTORABLE]
)
async def test_unstorable_values_are_422_naming_the_field(api: Api, path: str, value: Any, field: str):
    site = unique_site()
    _, token = await api.enrol(site)
    status, body = await api.push(token, _dumps(_set(_good(site), path, value)), key=None)
    assert status == 422, body
    assert body["error"]["field"] == field
    assert await api.versions(site) == []
    # the next, good snapshot is taken at once
    status, body = await api.push(token, depot(site_id=site))
    assert status == 201, body


@pytest.mark.parametrize(
    "literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"], ids=lambda s: s.lower()
)
async def test_nan_and_infinity_are_refused(api: Api, literal: str):
    site = unique_site()
    _, token = await api.enrol(site)
    doc = _set(_good(site), "devices.2.onvif.clock_offset_s", 1.5)
    raw = _dumps(doc).replace(b'"clock_offset_s": 1.5', b'"clock_offset_s": ' + literal.encode())
    assert literal.encode() in raw
    status, body = await api.push(token, raw, key=None)
    assert status == 422, body
    assert body["error"]["field"] in ("$", "devices[2].onvif.clock_offset_s")
    assert await api.versions(site) == []


async def test_a_5000_digit_integer_is_a_422_not_a_500(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    raw = _dumps(_set(_good(site), "devices.0.uptime_s", 7)).replace(
        b'"uptime_s": 7', b'"uptime_s": ' + b"9" * 5000
    )
    status, body = await api.push(token, raw, key=None)
    assert (status, body["error"]["code"]) == (422, "invalid_json"), body


@pytest.mark.parametrize("version", [[1], {"v": 1}, "1", True, 1.0, None])
async def test_odd_schema_versions_are_422(api: Api, version: Any):
    site = unique_site()
    _, token = await api.enrol(site)
    status, body = await api.push(token, _dumps({**_good(site), "schema_version": version}), key=None)
    if version is None:  # null is "not given": refused by the model as a bad literal
        assert status == 422, body
        return
    assert (status, body["error"]["field"]) == (422, "schema_version"), body


# ---------------------------------------------------------------- class 1: sizes, pure parser


def _refused(body: bytes) -> ApiError:
    with pytest.raises(ApiError) as info:
        parse_snapshot(body)
    return info.value


def _skeleton(site: str = "depot") -> dict[str, Any]:
    doc = _good(site)
    return {k: doc[k] for k in ("schema_version", "site", "scan")}


@pytest.mark.parametrize(
    "filler",
    [b"{}", b"[]", b"0", b'""', b'{"a":1}', b"null"],
    ids=["empty-objects", "empty-lists", "zeros", "empty-strings", "small-objects", "nulls"],
)
def test_millions_of_values_are_refused_before_they_are_built(filler: bytes):
    count = MAX_JSON_TOKENS + 1000
    body = b'{"devices":[' + b",".join([filler] * count) + b"]}"
    started = time.perf_counter()
    error = _refused(body)
    assert error.status == 413 and "JSON values" in error.message
    assert time.perf_counter() - started < 30  # generous: a regex pass, not a parse


def test_one_too_many_devices_is_one_error_not_ten_thousand():
    doc = _skeleton()
    doc["devices"] = [
        {"id": f"ip:10.0.{i // 250}.{i % 250}", "role": "camera"} for i in range(MAX_DEVICES + 1)
    ]
    error = _refused(json.dumps(doc).encode())
    assert error.status == 422 and error.field == "devices"
    assert error.errors is not None and len(error.errors) == 1
    assert "at most 10000" in error.message


def test_a_list_stops_at_its_first_bad_item():
    doc = _skeleton()
    doc["devices"] = [{"role": "camera"}] * 5000  # 5000 devices without identity
    error = _refused(json.dumps(doc).encode())
    assert error.errors is not None and len(error.errors) == 1
    assert error.field == "devices[0]"


@pytest.mark.parametrize(
    ("path", "size"),
    [("site.name", 257), ("devices.0.identity.model", 100_000), ("devices.0.identity.location", 4097)],
)
def test_long_strings_are_refused_by_their_declared_maximum(path: str, size: int):
    body = json.dumps(_set(_good("depot"), path, "x" * size)).encode()
    error = _refused(body)
    assert error.status == 422
    assert error.field == path.replace(".0.", "[0].")
    assert "at most" in error.message


def test_twenty_thousand_duplicate_devices_take_linear_time():
    doc = _skeleton()
    dup = {"id": "ip:10.0.0.1", "role": "camera"}
    doc["devices"] = [dup] * 9_999
    started = time.perf_counter()
    error = _refused(json.dumps(doc).encode())
    elapsed = time.perf_counter() - started
    assert error.status == 422 and "9998 duplicate keys" in error.message
    print(f"9,999 duplicate devices refused in {elapsed:.2f} s")
    assert elapsed < 5  # was quadratic: 20k duplicates took 5.6 s on an idle machine


@pytest.mark.parametrize("depth", [100, 5_000, 200_000])
def test_deep_nesting_is_a_422(depth: int):
    body = b'{"devices":' + b"[" * depth + b"]" * depth + b"}"
    error = _refused(body)
    assert error.status == 422


def test_gzip_of_21_million_empty_objects_is_refused_at_the_decompressed_limit():
    """The issue's exact upload: 64 KB of gzip that inflates to ~63 MB of ``{},``."""
    from collector.config import CollectorConfig
    from collector.ingest import decode_body

    inner = b'{"devices":[' + b"{}," * 21_000_000 + b"{}]}"
    raw = gzip.compress(inner, compresslevel=9)
    assert len(raw) < 200_000
    with pytest.raises(ApiError) as info:
        decode_body(raw, "gzip", CollectorConfig().max_snapshot_bytes)
    assert info.value.status == 413


def test_a_valid_snapshot_still_parses():
    snap = depot(site_id="depot")
    assert parse_snapshot(snap.canonical_json().encode()) == Snapshot.model_validate_json(
        snap.canonical_json()
    )
