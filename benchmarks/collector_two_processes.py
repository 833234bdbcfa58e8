"""Pushes per second with one and with two `asbuilt collector serve --reuse-port` processes.

One PostgreSQL database (created for the run, dropped afterwards), real processes on one port of
127.0.0.1, PUSHERS concurrent agents each pushing distinct 100-device snapshots (gzip) to its own
site, a new connection per push so the kernel spreads them over the processes. Prints a table.

Usage: .venv/bin/python benchmarks/collector_two_processes.py [--pushes 400] [--pushers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from collector_ingest import changed_copy

from collector.db.migrate import upgrade
from collector.db.session import make_engine, make_sessionmaker
from collector.enrolment import issue_code
from tests.collector.factory import large_site
from tests.e2e.collectorproc import CollectorProcess, free_port, postgres_database


async def prepare(url: str, sites: list[str]) -> dict[str, str]:
    engine = make_engine(url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as db, db.begin():
            now, ttl = datetime.now(UTC), timedelta(hours=1)
            return {
                s: (await issue_code(db, customer="bench", site_slug=s, now=now, ttl=ttl))[0] for s in sites
            }
    finally:
        await engine.dispose()


async def run_pushes(base: str, tokens: dict[str, str], bodies: dict[str, list[bytes]]) -> float:
    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    async with aiohttp.ClientSession(base, connector=connector) as http:

        async def pusher(site: str) -> None:
            headers = {"Authorization": f"Bearer {tokens[site]}", "Content-Encoding": "gzip",
                       "Content-Type": "application/json"}  # fmt: skip
            for body in bodies[site]:
                async with http.post("/api/v1/snapshots", data=body, headers=headers) as resp:
                    if resp.status != 201:
                        raise RuntimeError(f"push failed: {resp.status} {(await resp.text())[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(pusher(s) for s in tokens))
        return time.perf_counter() - started


async def enrol(base: str, codes: dict[str, str]) -> dict[str, str]:
    async with aiohttp.ClientSession(base) as http:
        tokens = {}
        for site, code in codes.items():
            async with http.post("/api/v1/enrol", json={"code": code, "agent_name": site}) as resp:
                tokens[site] = (await resp.json())["token"]
        return tokens


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pushes", type=int, default=400, help="per configuration")
    parser.add_argument("--pushers", type=int, default=8)
    args = parser.parse_args()
    per = max(1, args.pushes // args.pushers)
    rows: list[tuple[Any, ...]] = []
    with tempfile.TemporaryDirectory(prefix="asb-two-") as tmp, postgres_database("asb_bench_two") as url:
        port = free_port()
        env = {"ASBUILT_VAULT_KEY_FILE": f"{tmp}/vault.keys", "ASBUILT_API_RATE_PER_S": "100000",
               "ASBUILT_API_BURST": "100000"}  # fmt: skip
        procs = [
            CollectorProcess(Path(tmp) / n, url, env, port=port, serve_args=("--reuse-port",)) for n in "ab"
        ]
        try:
            for count in (1, 2):
                sites = [f"p{count}-{i}" for i in range(args.pushers)]
                codes = asyncio.run(prepare(url, sites))
                with ThreadPoolExecutor(2) as pool:
                    list(pool.map(CollectorProcess.start, [p for p in procs[:count] if p.proc is None]))
                base = f"http://127.0.0.1:{port}"
                tokens = asyncio.run(enrol(base, codes))
                bodies = {}
                for s in sites:
                    first = large_site(100, site_id=s)
                    scans = [changed_copy(first, k + 1) for k in range(per)]
                    bodies[s] = [gzip.compress(scan.canonical_json().encode(), 5) for scan in scans]
                elapsed = asyncio.run(run_pushes(base, tokens, bodies))
                total = per * args.pushers
                rows.append((count, args.pushers, total, f"{elapsed:.2f}", f"{total / elapsed:.1f}"))
        finally:
            for p in procs:
                p.stop()
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "Distinct 100-device snapshots pushed over HTTP (gzip, new connection each) to one port, PostgreSQL"
    )
    header = ("processes", "pushers", "snapshots", "seconds", "snapshots/s")
    widths = [max(len(str(x)) for x in c) for c in zip(header, *rows, strict=False)]
    print(" | ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(x).rjust(w) for x, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
