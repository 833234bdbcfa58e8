"""Fuzz the collector's HTTP API (Hypothesis, bounded): a real `asbuilt collector serve` process on
PostgreSQL (where odd values used to become 500s), hostile pushes and hostile paths and query
parameters on every route of the OpenAPI document. No answer may be a 5xx; each status is tallied."""

from __future__ import annotations

import gzip
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.collector.factory import depot
from tests.e2e.collectorproc import ADMIN_TOKEN, CollectorProcess, postgres_database
from tests.hostile.fuzzing import count, json_values, nasty_text

SITE = "depot-fuzz"
STATUSES: Counter[str] = Counter()
TOP = ["devices", "site", "scan", "problems", "schema_version", "configs"]
DEVICE = ["identity", "network", "onvif", "id", "role", "uptime_s"]
GOOD = json.loads(depot(site_id=SITE).canonical_json())


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CollectorProcess, str]]:
    data = tmp_path_factory.mktemp("fuzz-collector")
    with postgres_database("asb_fuzz") as url, CollectorProcess(data, url) as c:
        c.enrol(SITE, data / "token")
        token = (data / "token").read_text().strip()
        status, _ = _send(c, "POST", "/api/v1/snapshots", json.dumps(GOOD).encode(), _headers(token))
        assert status == 201
        yield c, token
    print(f"\nAPI fuzz statuses: {dict(sorted(STATUSES.items()))}")


def _headers(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **extra}


def _send(
    c: CollectorProcess, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    req = urllib.request.Request(c.url + path, data=body, method=method)
    for k, v in headers.items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def _check(status: int, body: bytes) -> None:
    assert status < 500, body[:500]
    if status < 400:
        STATUSES[str(status)] += 1
        return
    try:
        error = json.loads(body)
    except ValueError:
        # aiohttp's HTTP parser refuses a malformed request (a control character in a header, a
        # request line over 8 KB) before any handler runs: a plain-text 400, which is right;
        # everything past the parser is JSON.
        assert status == 400 and (b"Invalid" in body or b"Got more than" in body), body[:300]
        STATUSES["400 (HTTP parser)"] += 1
        return
    assert error["error"]["status"] == status and error["request_id"]
    STATUSES[f"{status} {error['error']['code']}"] += 1


def _latin1(text: str) -> str:
    """What an HTTP client can put in a header: the bytes of the text, read as Latin-1."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1").replace("\r", "").replace("\n", "")


@given(
    edits=st.lists(st.tuples(st.sampled_from(TOP), json_values(8)), max_size=3),
    device_edits=st.lists(st.tuples(st.sampled_from(DEVICE), json_values(6)), max_size=3),
    encoding=st.sampled_from([None, "gzip", "identity", "br", "gzip, gzip", "x-gzip"]),
    key=st.one_of(st.none(), nasty_text),
)  # fmt: skip
def test_fuzz_push_never_answers_5xx(
    collector: tuple[CollectorProcess, str], edits, device_edits, encoding, key
):
    count("api: hostile pushes")
    c, token = collector
    doc: dict[str, Any] = json.loads(json.dumps(GOOD))
    for field, value in edits:
        doc[field] = value
    if isinstance(doc.get("devices"), list) and doc["devices"] and isinstance(doc["devices"][0], dict):
        for field, value in device_edits:
            doc["devices"][0][field] = value
    body = json.dumps(doc, allow_nan=True).encode()
    headers = _headers(token)
    if encoding:
        headers["Content-Encoding"] = encoding
        if "gzip" in encoding:
            body = gzip.compress(body)
    if key is not None and _latin1(key).strip():
        headers["Idempotency-Key"] = _latin1(key)
    _check(*_send(c, "POST", "/api/v1/snapshots", body, headers))


def _read_paths() -> list[str]:
    """Every GET route of the API (the routes table is the truth), with its parameters fuzzed: the
    site id, every numeric id in the path, and a page size and offset where a route takes them."""
    from collector.routes import ROUTES

    paths = []
    for route in ROUTES:
        if route.method != "GET" or route.name == "openapi":
            continue
        template = re.sub(r"\{(?!site\})\w+\}", "{n}", route.path)
        query = [f"{p.name}={{m}}" for p in route.params if p.where == "query"]
        paths.append(template + ("?" + "&".join(query) if query else ""))
    return paths


PATHS = _read_paths()


@given(
    template=st.sampled_from(PATHS),
    site=st.one_of(st.just(SITE), nasty_text),
    n=st.one_of(st.integers(-(2**70), 2**70).map(str), nasty_text),
    m=st.one_of(st.integers(-5, 10).map(str), nasty_text),
)
def test_fuzz_reads_never_answer_5xx(collector: tuple[CollectorProcess, str], template, site, n, m):
    count("api: hostile paths and parameters")
    c, _ = collector
    quote = lambda v: urllib.parse.quote(v.encode("utf-8", "surrogatepass"), safe="")  # noqa: E731
    path = template.format(site=quote(site) or "x", n=quote(n), m=quote(m))
    _check(*_send(c, "GET", path, None, {"Authorization": f"Bearer {ADMIN_TOKEN}"}))


@given(version=st.one_of(json_values(4), st.integers(-(2**70), 2**70)), note=st.one_of(st.none(), nasty_text))
def test_fuzz_baseline_bodies_never_answer_5xx(collector: tuple[CollectorProcess, str], version, note):
    count("api: hostile baseline bodies")
    c, _ = collector
    body = json.dumps({"version": version, "note": note}, allow_nan=True).encode("utf-8", "surrogatepass")
    _check(*_send(c, "POST", f"/api/v1/sites/{SITE}/baseline", body, _headers(ADMIN_TOKEN)))


@given(code=nasty_text, name=nasty_text)
def test_fuzz_enrolment_never_answers_5xx(collector: tuple[CollectorProcess, str], code, name):
    count("api: hostile enrolments")
    c, _ = collector
    body = json.dumps({"code": code, "agent_name": name}).encode()
    _check(*_send(c, "POST", "/api/v1/enrol", body, {"Content-Type": "application/json"}))


def test_the_fuzzed_routes_cover_the_openapi_document(collector: tuple[CollectorProcess, str]):
    c, _ = collector
    status, body = _send(c, "GET", "/api/v1/openapi.json", None, {})
    assert status == 200
    documented = set(json.loads(body)["paths"])
    from collector.routes import ROUTES

    gets = {r.path for r in ROUTES if r.method == "GET"}
    assert {p.split("?")[0] for p in PATHS} == {
        re.sub(r"\{(?!site\})\w+\}", "{n}", path) for path in gets - {"/api/v1/openapi.json"}
    }
    fuzzed_writes = {"/api/v1/snapshots", "/api/v1/enrol", "/api/v1/sites/{site}/baseline"}
    # Write-only paths are tried with hostile bodies in their own suites (vault, people, record);
    # here: every GET route above is fuzzed, and the document describes exactly the routes table.
    write_only = {r.path for r in ROUTES} - gets - fuzzed_writes
    assert documented == gets | fuzzed_writes | write_only, documented ^ (gets | fuzzed_writes | write_only)
