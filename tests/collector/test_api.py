"""The REST API over real HTTP (aiohttp test server on 127.0.0.1), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer

from collector.app import create_app
from drivers.schema import Snapshot
from tests.collector.conftest import ADMIN_TOKEN, Api, unique_site
from tests.collector.factory import T0, camera, depot, device, edit, large_site, with_devices


def later(snap: Snapshot, hours: int) -> Snapshot:
    """The same content scanned again later: only volatile scan times differ."""
    start = T0 + timedelta(hours=hours)
    return with_devices(
        snap, scan=edit(snap.scan, started_at=start, finished_at=start + timedelta(seconds=30))
    )


async def test_enrol_push_seen_again_and_replay(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    snap = depot(site_id=site)

    status, body = await api.push(token, snap)
    assert status == 201, body
    assert body == {
        "site_id": site,
        "version": 1,
        "content_hash": snap.content_hash(),
        "created": True,
        "seen_count": 1,
        "diff": None,
    }

    # The next night's scan finds the same site: no new version, only "seen again".
    status, body = await api.push(token, later(snap, 24))
    assert (status, body["created"], body["version"], body["reason"], body["seen_count"]) == (
        200, False, 1, "seen_again", 2,
    )  # fmt: skip

    # The agent retries that same push (lost response): harmless, nothing counted twice.
    status, body = await api.push(token, later(snap, 24))
    assert (status, body["created"], body["version"], body["reason"], body["seen_count"]) == (
        200, False, 1, "replay", 2,
    )  # fmt: skip

    versions = await api.versions(site)
    assert [(v["version"], v["seen_count"], v["device_count"]) for v in versions] == [
        (1, 2, len(snap.devices))
    ]


async def test_new_version_diffs_against_previous_then_baseline(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    v1 = depot(site_id=site)
    gate = device(v1, "cam-gate")
    v2 = later(with_devices(v1, edit(gate, identity__firmware="V5.8.0")), 1)

    assert (await api.push(token, v1))[0] == 201
    status, body = await api.push(token, v2, compress=True)
    assert status == 201, body
    assert body["version"] == 2
    assert body["diff"]["against"] == {"kind": "previous", "version": 1}
    assert body["diff"]["counts"]["changed"] == 1
    assert "identity.firmware V5.7.10 build 220819 → V5.8.0" in body["diff"]["lines"][0]["summary"]

    resp = await api.client.post(
        f"/api/v1/sites/{site}/baseline",
        json={"version": 1, "note": "commissioning"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert resp.status == 201
    state = await resp.json()
    assert (state["current"]["version"], state["current"]["approved_by"], state["current"]["note"]) == (
        1, "admin-token", "commissioning",
    )  # fmt: skip

    v3 = later(with_devices(v2, drop=[gate.id]), 2)
    status, body = await api.push(token, v3)
    assert body["version"] == 3
    assert body["diff"]["against"] == {"kind": "baseline", "version": 1}
    assert body["diff"]["counts"]["missing"] == 1
    assert "unreachable" in body["diff"]["lines"][0]["summary"]

    status, diff = await api.get(f"/api/v1/sites/{site}/diff/baseline")
    assert status == 200, diff
    assert (diff["from"]["version"], diff["to"]["version"], diff["against"]) == (1, 3, "baseline")
    assert [c["kind"] for c in diff["diff"]["changes"]] == ["missing"]

    status, diff = await api.get(f"/api/v1/sites/{site}/diff?from=1&to=2")
    assert status == 200
    change = diff["diff"]["changes"][0]
    assert change["kind"] == "changed"
    assert change["fields"] == [
        {"path": "identity.firmware", "old": "V5.7.10 build 220819", "new": "V5.8.0", "text_diff": None}
    ]

    resp = await api.client.post(
        f"/api/v1/sites/{site}/baseline",
        json={"version": 3},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    history = (await resp.json())["history"]
    assert [h["version"] for h in history] == [3, 1]
    status, body = await api.get(f"/api/v1/sites/{site}/baseline")
    assert body["current"]["version"] == 3 and len(body["history"]) == 2


async def test_missing_device_becomes_removed_after_the_grace(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    v1 = depot(site_id=site)
    gate = device(v1, "cam-gate")
    await api.push(token, v1)
    await api.client.post(
        f"/api/v1/sites/{site}/baseline",
        json={"version": 1},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    gone = with_devices(v1, drop=[gate.id])
    states = []
    for night in range(1, 4):  # absent three nights in a row (removed_after_scans = 3)
        await api.push(token, later(gone, 24 * night))
        _, diff = await api.get(f"/api/v1/sites/{site}/diff/baseline")
        (change,) = diff["diff"]["changes"]
        states.append((change["state"], change["absent_scans"]))
    assert states == [("unreachable", 1), ("unreachable", 2), ("removed", 3)]


async def test_read_endpoints_and_download(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    snap = depot(site_id=site)
    await api.push(token, snap)

    status, body = await api.get("/api/v1/sites")
    assert status == 200
    mine = next(s for s in body["sites"] if s["site_id"] == site)
    assert mine == {
        "site_id": site, "name": site.upper(), "customer": "Meridian",
        "latest_version": 1, "baseline_version": None,
    }  # fmt: skip

    status, body = await api.get(f"/api/v1/sites/{site}")
    assert body["latest"]["content_hash"] == snap.content_hash()
    assert body["agents"][0]["name"] == f"agent-{site}" and body["agents"][0]["last_seen_at"]

    status, body = await api.get(f"/api/v1/sites/{site}/versions/1")
    assert (status, body["version"], body["device_count"], body["diff_summary"]) == (
        200, 1, len(snap.devices), None,
    )  # fmt: skip

    resp = await api.client.get(
        f"/api/v1/sites/{site}/versions/1/snapshot.json", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert resp.status == 200
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{site}-v1.json"'
    downloaded = Snapshot.model_validate_json(await resp.read())
    assert downloaded.content_hash() == snap.content_hash()
    assert downloaded.canonical_json() == snap.canonical_json()

    for path in (
        f"/api/v1/sites/{site}/versions/9",
        "/api/v1/sites/nowhere",
        f"/api/v1/sites/{site}/diff?from=1&to=5",
    ):
        status, body = await api.get(path)
        assert status == 404, path
        assert body["error"]["code"] == "not_found"

    status, body = await api.get(f"/api/v1/sites/{site}/diff/baseline")
    assert (status, body["error"]["code"]) == (409, "no_baseline")
    resp = await api.client.put("/api/v1/sites", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert (resp.status, resp.headers["Allow"], (await resp.json())["error"]["code"]) == (
        405, "GET", "method_not_allowed",
    )  # fmt: skip
    status, body = await api.get(f"/api/v1/sites/{site}/diff?from=1")
    assert (status, body["error"]["field"]) == (422, "to")


async def test_openapi_document(api: Api):
    resp = await api.client.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    push = doc["paths"]["/api/v1/snapshots"]["post"]
    assert set(push["responses"]) >= {"201", "401", "403", "413", "422"}
    assert push["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Snapshot"
    }
    assert "Device" in doc["components"]["schemas"]
    assert {p["name"] for p in push["parameters"]} == {"Idempotency-Key", "Content-Encoding"}


async def _nothing_stored(api: Api, site: str) -> None:
    assert await api.versions(site) == []


async def test_bad_bodies_are_clear_4xx_and_store_nothing(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    good = json.loads(depot(site_id=site).canonical_json())

    status, body = await api.push(token, b'{"schema_version": 1, "site": ', key=None)
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "invalid_json", "$")
    assert body["request_id"]

    status, body = await api.push(token, json.dumps({**good, "schema_version": 7}).encode(), key=None)
    assert (status, body["error"]["code"], body["error"]["field"]) == (
        422,
        "unsupported_schema_version",
        "schema_version",
    )
    assert "accepts 1" in body["error"]["message"]

    unknown = json.loads(json.dumps(good))
    unknown["devices"][3]["identity"]["colour"] = "white"
    status, body = await api.push(token, json.dumps(unknown).encode(), key=None)
    assert (status, body["error"]["field"]) == (422, "devices[3].identity.colour")
    assert body["error"]["errors"][0]["type"] == "extra_forbidden"

    bad_ip = json.loads(json.dumps(good))
    bad_ip["devices"][0]["network"]["ip"] = "10.77.0.300"
    status, body = await api.push(token, json.dumps(bad_ip).encode(), key=None)
    assert (status, body["error"]["field"]) == (422, "devices[0].network.ip")

    await _nothing_stored(api, site)


async def test_oversized_upload_and_gzip_bomb_are_refused(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)

    big = large_site(400, site_id=site)  # ~1 MB of JSON, over the 256 KiB upload limit of these tests
    status, body = await api.push(token, big)
    assert (status, body["error"]["code"]) == (413, "payload_too_large")
    assert "limit of 262144 bytes" in body["error"]["message"]

    # 64 MiB of zeros compress to ~64 KiB: under the upload limit, far over the 1 MiB snapshot limit.
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 256 * 1024
    resp = await api.client.post(
        "/api/v1/snapshots",
        data=bomb,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )
    body = await resp.json()
    assert (resp.status, body["error"]["code"]) == (413, "payload_too_large")
    assert "decompressed snapshot exceeds the limit of 1048576 bytes" in body["error"]["message"]

    status, body = await api.push(token, depot(site_id=site), headers={"Content-Encoding": "br"})
    assert status == 415
    await _nothing_stored(api, site)


async def test_agent_may_push_only_to_its_own_site(api: Api):
    mine, theirs = unique_site(), unique_site()
    _, token = await api.enrol(mine)
    await api.enrol(theirs)
    status, body = await api.push(token, depot(site_id=theirs))
    assert (status, body["error"]["code"]) == (403, "forbidden")
    # It names the agent's own site, not the other one: the refusal is kept on the agent's site page.
    assert repr(mine) in body["error"]["message"] and theirs not in body["error"]["message"]
    await _nothing_stored(api, theirs)
    await _nothing_stored(api, mine)

    # Agents push; they do not read.
    status, body = await api.get(f"/api/v1/sites/{mine}", token=token)
    assert status == 403


async def test_tokens_missing_wrong_or_revoked_are_401(api: Api):
    site = unique_site()
    agent_id, token = await api.enrol(site)
    snap = depot(site_id=site)

    resp = await api.client.post("/api/v1/snapshots", data=snap.canonical_json())
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await api.push("asb_agent_not-a-token", snap))[0] == 401
    assert (await api.get("/api/v1/sites", token="wrong-admin"))[0] == 401

    resp = await api.client.delete(f"/api/v1/agents/{agent_id}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 403  # an agent cannot revoke
    resp = await api.client.delete(
        f"/api/v1/agents/{agent_id}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert resp.status == 200
    assert (await resp.json())["revoked_at"]

    status, body = await api.push(token, snap)
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    await _nothing_stored(api, site)


async def test_enrolment_codes_are_single_use_and_expire(api: Api):
    site = unique_site()
    code = await api.issue_code(site)
    first = await api.client.post(
        "/api/v1/enrol", json={"code": code.lower().replace("-", ""), "agent_name": "a"}
    )
    assert first.status == 201
    again = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": "b"})
    assert again.status == 403
    assert (await again.json())["error"]["field"] == "code"

    stale = await api.issue_code(site, ttl=timedelta(seconds=-1))
    resp = await api.client.post("/api/v1/enrol", json={"code": stale, "agent_name": "c"})
    assert resp.status == 403

    resp = await api.client.post("/api/v1/enrol", json={"code": code})
    body = await resp.json()
    assert (resp.status, body["error"]["field"]) == (422, "agent_name")


async def test_concurrent_pushes_get_distinct_consecutive_versions(api: Api):
    site = unique_site()
    tokens = [(await api.enrol(site))[1] for _ in range(3)]
    base = depot(site_id=site)
    extra = [
        later(
            with_devices(base, camera(f"cam-x{i}", f"0e:11:00:00:00:{i:02x}", f"10.77.1.{i}", port=None)), i
        )
        for i in range(12)
    ]
    results = await asyncio.gather(*(api.push(tokens[i % 3], snap) for i, snap in enumerate(extra)))
    assert all(status == 201 for status, _ in results), results
    assert sorted(body["version"] for _, body in results) == list(range(1, 13))
    versions = await api.versions(site)
    assert sorted(v["content_hash"] for v in versions) == sorted(s.content_hash() for s in extra)


async def test_two_app_instances_share_one_database(api: Api, config):
    """Stateless: a second instance on the same database serves and ingests the same sites."""
    site = unique_site()
    _, token = await api.enrol(site)
    async with TestClient(TestServer(create_app(config), host="127.0.0.1")) as other_client:
        other = Api(other_client)
        snaps = [
            later(
                with_devices(depot(site_id=site), camera("cam-y", f"0e:22:00:00:00:{i:02x}", "10.77.2.1")), i
            )
            for i in range(8)
        ]
        results = await asyncio.gather(
            *((api if i % 2 else other).push(token, s) for i, s in enumerate(snaps))
        )
        assert sorted(body["version"] for _, body in results) == list(range(1, 9))
        assert len(await other.versions(site)) == 8
