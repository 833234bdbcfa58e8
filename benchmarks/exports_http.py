"""Deliverables over HTTP: time to download each format of the small simulated site from a running
collector (SQLite, in this process), and how long other requests wait while a PDF is laid out.

    .venv/bin/python benchmarks/exports_http.py [--repeat 5] [--site small|large]

Input is the recorded real scan of the simulated site (tests/documents/fixtures), as installed
(approved as the baseline) and after a batch of changes (the version rendered). Prints medians:
the machine is shared, so single runs vary.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp.test_utils import TestClient, TestServer

from collector.app import create_app
from collector.auth import cli_admin
from collector.config import CollectorConfig
from collector.enrolment import issue_code
from collector.keys import sessions_key
from collector.services import people
from collector.services.context import Ctx

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "documents" / "fixtures"
TOKEN = "bench-admin-token-" + "x" * 20
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def seeded(client: TestClient, which: str) -> str:
    baseline = gzip.decompress((FIXTURES / f"{which}-baseline.json.gz").read_bytes())
    current = gzip.decompress((FIXTURES / f"{which}-current.json.gz").read_bytes())
    site = json.loads(current)["site"]["site_id"]
    app = client.server.app
    async with app[sessions_key]() as db, db.begin():
        await people.create_customer(db, Ctx(cli_admin("bench")), "Bench customer", "Bench region")
        code, _ = await issue_code(db, customer="Bench customer", site_slug=site, now=datetime.now(UTC),
                                   ttl=timedelta(hours=1), site_name=site)  # fmt: skip
    resp = await client.post("/api/v1/enrol", json={"code": code, "agent_name": "bench"})
    agent = {"Authorization": f"Bearer {(await resp.json())['token']}", "Content-Type": "application/json"}
    for raw in (baseline, current):
        resp = await client.post("/api/v1/snapshots", data=raw, headers=agent)
        assert resp.status in (200, 201), await resp.text()
        if raw is baseline:
            resp = await client.post(f"/api/v1/sites/{site}/baseline", json={"version": 1}, headers=AUTH)
            assert resp.status == 201, await resp.text()
    return site


async def timed_get(client: TestClient, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    resp = await client.get(path, headers=AUTH)
    body = await resp.read()
    assert resp.status == 200, body[:300]
    return time.perf_counter() - started, len(body)


async def probe_while(client: TestClient, task: asyncio.Task[object]) -> list[float]:
    """Latency of GET /api/v1/me, again and again, while ``task`` (a PDF download) runs."""
    waits = []
    while not task.done():
        started = time.perf_counter()
        resp = await client.get("/api/v1/me", headers=AUTH)
        await resp.read()
        waits.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)
    return waits


async def main(repeat: int, which: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = CollectorConfig(data_dir=Path(tmp), admin_token=TOKEN, max_snapshot_bytes=64 * 1024 * 1024)
        async with TestClient(TestServer(create_app(config), host="127.0.0.1")) as client:
            site = await seeded(client, which)
            print(f"{which} site {site!r}, v2 against baseline v1, {repeat} runs each (medians)")
            for fmt in ("pdf", "xlsx", "csv", "json", "svg"):
                path = f"/api/v1/sites/{site}/" + ("diagram.svg" if fmt == "svg" else f"export.{fmt}")
                runs = [await timed_get(client, path) for _ in range(repeat)]
                times = [t for t, _ in runs]
                print(f"  {fmt:5} {statistics.median(times):7.2f} s  (min {min(times):.2f}, "
                      f"max {max(times):.2f})  {runs[0][1]:>9} bytes")  # fmt: skip
            pdf = asyncio.ensure_future(timed_get(client, f"/api/v1/sites/{site}/export.pdf"))
            waits = await probe_while(client, pdf)
            await pdf
            median_ms, max_ms = statistics.median(waits) * 1000, max(waits) * 1000
            print(f"  while a PDF renders: {len(waits)} other requests, median {median_ms:.1f} ms, "
                  f"max {max_ms:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--site", choices=("small", "large"), default="small")
    args = parser.parse_args()
    asyncio.run(main(args.repeat, args.site))
