"""Collector ingest benchmark: prints tables, asserts nothing.

1. Per snapshot size (10 / 100 / 1,000 devices) and backend (SQLite, PostgreSQL): parse + validate,
   pure diff, and a full ingest of a new version (lock, diff against the previous version, store) and
   of a "seen again" push — the median of several runs.
2. Snapshots per second over real HTTP (aiohttp on 127.0.0.1) with N concurrent pushers, each an
   enrolled agent pushing distinct 100-device snapshots (gzip) to its own site.
3. Peak memory on hostile uploads (tests/hostile/uploads.py): a fresh `asbuilt collector serve`
   process per upload (SQLite), its kernel high-water mark (VmHWM) before and after the upload.

Usage: .venv/bin/python benchmarks/collector_ingest.py [--pg-url postgresql+asyncpg://root@127.0.0.1/postgres]
PostgreSQL runs in a database created for the run (asb_bench_<random>) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collector.app import create_app
from collector.config import CollectorConfig
from collector.db.migrate import upgrade
from collector.db.session import make_engine, make_sessionmaker
from collector.diff import diff_snapshots
from collector.enrolment import issue_code
from collector.ingest import SnapshotCache, body_hash, ingest, ingest_known_body, parse_snapshot
from collector.keys import sessions_key
from drivers.schema import Snapshot
from tests.collector.factory import T0, edit, large_site, with_devices

SIZES = (10, 100, 1000)
RUNS = 7
PUSHERS = (1, 4, 16)
PUSHES_PER_RUN = 160


def changed_copy(snap: Snapshot, hours: int) -> Snapshot:
    """A later scan with real changes: 2% of cameras on new firmware, one camera gone."""
    cams = [d for d in snap.devices if d.role.value == "camera"]
    upgraded = [edit(d, identity__firmware=f"V6.{hours}") for d in cams[: max(1, len(cams) // 50)]]
    start = T0 + timedelta(hours=hours)
    return with_devices(
        snap, *upgraded, drop=[cams[-1].id], scan=edit(snap.scan, started_at=start, finished_at=start)
    )


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await fn()
    return (time.perf_counter() - start) * 1000


def median_ms(fn: Callable[[], Any], runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


async def ingest_figures(url: str, label: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    await upgrade(engine)
    sessions = make_sessionmaker(engine)
    rows = []
    try:
        for n in SIZES:
            base = large_site(n, site_id="bench")
            body_new = [changed_copy(base, h).canonical_json().encode() for h in range(1, RUNS + 1)]
            base_body = base.canonical_json().encode()
            parse_ms = median_ms(lambda b=base_body: parse_snapshot(b))
            loads_ms = median_ms(lambda b=base_body: json.loads(b))
            later = changed_copy(base, 1)
            # Ingest passes the content hashes it already has; so does this measurement.
            old_hash, new_hash = base.content_hash(), later.content_hash()
            diff_ms = median_ms(
                lambda b=base, c=later, h=old_hash, k=new_hash: diff_snapshots(b, c, old_hash=h, new_hash=k)
            )

            new_ms, seen_ms, same_ms = [], [], []
            for run in range(RUNS):
                slug = f"bench-{n}-{run}-{secrets.token_hex(3)}"
                async with sessions() as session, session.begin():
                    _, site = await issue_code(
                        session,
                        customer="bench",
                        site_slug=slug,
                        now=datetime.now(UTC),
                        ttl=timedelta(hours=1),
                    )
                assert site.id is not None
                cache = SnapshotCache()

                async def push(
                    snap: Snapshot, digest: str, site_id: int = site.id, cache: SnapshotCache = cache
                ) -> None:
                    async with sessions() as session, session.begin():
                        await ingest(
                            session, site_id=site_id, agent_id=None, snapshot=snap,
                            body_digest=digest, idempotency_key=None,
                            now=datetime.now(UTC), removed_after=3, cache=cache,
                        )  # fmt: skip

                async def same_bytes(digest: str, site_id: int = site.id) -> None:
                    async with sessions() as session, session.begin():
                        known = await ingest_known_body(
                            session, site_id=site_id, agent_id=None, body_digest=digest,
                            idempotency_key=None, now=datetime.now(UTC),
                        )  # fmt: skip
                        assert known is not None and known.outcome == "seen_again"

                await push(parse_snapshot(base_body), body_hash(base_body))  # version 1, no diff
                snap = parse_snapshot(body_new[run])
                # version 2: diff vs v1; then the same content in other bytes; then the same bytes
                new_ms.append(await timed(lambda s=snap, p=push: p(s, secrets.token_hex(32))))
                digest = body_hash(body_new[run])
                seen_ms.append(await timed(lambda s=snap, p=push, d=digest: p(s, d)))
                same_ms.append(await timed(lambda f=same_bytes, d=digest: f(d)))
            rows.append(
                (label, n, f"{len(base_body) / 1024:.0f} KiB", f"{loads_ms:.1f}", f"{parse_ms:.1f}",
                 f"{diff_ms:.1f}",
                 f"{statistics.median(new_ms):.1f}", f"{statistics.median(seen_ms):.1f}",
                 f"{statistics.median(same_ms):.1f}")
            )  # fmt: skip
    finally:
        await engine.dispose()
    return rows


async def storage_figures(url: str, label: str, scans: int) -> list[tuple[Any, ...]]:
    """Bytes per version of a 1,000-device site after ``scans`` nightly scans, a few changes each."""
    engine = make_engine(url)
    await upgrade(engine)
    sessions = make_sessionmaker(engine)
    slug = f"storage-{secrets.token_hex(3)}"
    try:
        async with sessions() as session, session.begin():
            _, site = await issue_code(
                session, customer="bench", site_slug=slug, now=datetime.now(UTC), ttl=timedelta(hours=1)
            )
        assert site.id is not None
        base = large_site(1000, site_id=slug)
        raw = len(base.model_dump_json())
        cache = SnapshotCache()
        started = time.perf_counter()
        for night in range(scans):
            snap = base if night == 0 else changed_copy(base, night)
            async with sessions() as session, session.begin():
                await ingest(
                    session, site_id=site.id, agent_id=None, snapshot=snap, body_digest=secrets.token_hex(32),
                    idempotency_key=None, now=datetime.now(UTC), removed_after=3, cache=cache,
                )  # fmt: skip
        elapsed = time.perf_counter() - started
        async with engine.connect() as conn:
            count, stored = (
                await conn.execute(
                    text("SELECT count(*), sum(length(document)) FROM snapshot_version WHERE site_id = :s"),
                    {"s": site.id},
                )
            ).one()
            on_disk = "-"
            if conn.dialect.name == "postgresql":
                # The table with its TOAST and indexes, shared by the other benchmark sites: per row.
                sizes = "SELECT pg_total_relation_size('snapshot_version'), count(*) FROM snapshot_version"
                total, rows = (await conn.execute(text(sizes))).one()
                on_disk = f"{total / rows / 1024:.1f} KiB"
    finally:
        await engine.dispose()
    return [(label, count, f"{raw / 1024:.0f} KiB", f"{stored / count / 1024:.1f} KiB", on_disk,
             f"{elapsed / scans * 1000:.0f}")]  # fmt: skip


async def http_figures(url: str, label: str, data_dir: Path) -> list[tuple[Any, ...]]:
    config = CollectorConfig(data_dir=data_dir, database_url=url, admin_token="bench-admin")
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base_url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        async with aiohttp.ClientSession(base_url) as http:
            for pushers in PUSHERS:
                agents = []
                for i in range(pushers):
                    slug = f"http-{pushers}-{i}-{secrets.token_hex(3)}"
                    async with app[sessions_key]() as session, session.begin():
                        code, _ = await issue_code(
                            session,
                            customer="bench",
                            site_slug=slug,
                            now=datetime.now(UTC),
                            ttl=timedelta(hours=1),
                        )
                    async with http.post("/api/v1/enrol", json={"code": code, "agent_name": slug}) as resp:
                        agents.append((slug, (await resp.json())["token"]))
                per_pusher = PUSHES_PER_RUN // pushers
                bodies = {}
                for slug, _ in agents:
                    base = large_site(100, site_id=slug)
                    bodies[slug] = [
                        gzip.compress(changed_copy(base, k + 1).canonical_json().encode(), 5)
                        for k in range(per_pusher)
                    ]

                async def pusher(slug: str, token: str, bodies: dict[str, list[bytes]] = bodies) -> None:
                    for body in bodies[slug]:
                        headers = {"Authorization": f"Bearer {token}", "Content-Encoding": "gzip",
                                   "Content-Type": "application/json"}  # fmt: skip
                        async with http.post("/api/v1/snapshots", data=body, headers=headers) as resp:
                            if resp.status != 201:
                                raise RuntimeError(f"push failed: {resp.status} {await resp.text()}")

                start = time.perf_counter()
                await asyncio.gather(*(pusher(slug, token) for slug, token in agents))
                elapsed = time.perf_counter() - start
                total = per_pusher * pushers
                rows.append((label, pushers, total, f"{elapsed:.2f}", f"{total / elapsed:.1f}"))
    finally:
        await runner.cleanup()
    return rows


async def pg_admin(admin_dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def hostile_figures(tmp: Path) -> list[tuple[Any, ...]]:
    """One collector process per hostile upload, so each peak is that upload's own."""
    from tests.e2e.collectorproc import CollectorProcess
    from tests.hostile.memory import peak_rss_mib
    from tests.hostile.test_collector_memory import _push
    from tests.hostile.uploads import hostile_uploads

    rows = []
    for n, (name, body, encoding) in enumerate(hostile_uploads("depot-hostile")):
        with CollectorProcess(tmp / f"hostile-{n}") as collector:
            assert collector.proc is not None
            collector.enrol("depot-hostile", tmp / f"hostile-{n}.token")
            token = (tmp / f"hostile-{n}.token").read_text().strip()
            before = peak_rss_mib(collector.proc.pid)
            started = time.perf_counter()
            status = _push(collector.url, token, body, encoding)
            elapsed = (time.perf_counter() - started) * 1000
            after = peak_rss_mib(collector.proc.pid)
        rows.append((name, f"{len(body):,}", status, f"{elapsed:.0f}", f"{before:.0f}", f"{after:.0f}"))
    return rows


def table(title: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(f"\n{title}\n{line}\n{'-+-'.join('-' * w for w in widths)}")
    for row in rows:
        print(
            " | ".join(
                str(x).rjust(w) if i else str(x).ljust(w)
                for i, (x, w) in enumerate(zip(row, widths, strict=True))
            )
        )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-dsn", default="postgresql://root@127.0.0.1:5432/postgres", help="admin DSN")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--hostile-only", action="store_true", help="only the hostile-upload memory table")
    parser.add_argument("--ingest-only", action="store_true", help="ingest and storage tables only")
    parser.add_argument("--scans", type=int, default=100, help="nightly scans for the storage table")
    args = parser.parse_args()
    if args.hostile_only:
        with tempfile.TemporaryDirectory(prefix="asb-bench-") as tmp:
            hostile_rows = hostile_figures(Path(tmp))
        hostile_table(hostile_rows)
        return

    with tempfile.TemporaryDirectory(prefix="asb-bench-") as tmp:
        backends = [("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db")]
        db_name = f"asb_bench_{secrets.token_hex(5)}"
        if not args.no_pg:
            await pg_admin(args.pg_dsn, f'CREATE DATABASE "{db_name}"')
            host_part = args.pg_dsn.split("://", 1)[1].rsplit("/", 1)[0]
            backends.append(("PostgreSQL", f"postgresql+asyncpg://{host_part}/{db_name}"))
        try:
            ingest_rows, http_rows, storage_rows, hostile_rows = [], [], [], []
            for label, url in backends:
                ingest_rows += await ingest_figures(url, label)
                storage_rows += await storage_figures(url, label, args.scans)
                if not args.ingest_only:
                    http_rows += await http_figures(url, label, Path(tmp))
            if not args.ingest_only:
                hostile_rows = hostile_figures(Path(tmp))
        finally:
            if not args.no_pg:
                await pg_admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    table(
        f"Ingest (median of {RUNS}; 'new version' = lock + diff vs previous + store; times in ms)",
        (
            "backend",
            "devices",
            "JSON",
            "json.loads",
            "parse+validate",
            "diff only",
            "ingest new version",
            "ingest seen again",
            "same body bytes",
        ),
        ingest_rows,
    )
    table(
        f"Storage: a 1,000-device site after {args.scans} nightly scans, a few changes each",
        ("backend", "versions", "JSON per version", "stored per version", "PG table+TOAST+index/row",
         "ms per nightly ingest"),
        storage_rows,
    )  # fmt: skip
    if args.ingest_only:
        return
    table(
        "HTTP push throughput (distinct 100-device snapshots, gzip, one site per pusher, 127.0.0.1)",
        ("backend", "pushers", "snapshots", "seconds", "snapshots/s"),
        http_rows,
    )
    hostile_table(hostile_rows)


def hostile_table(rows: list[tuple[Any, ...]]) -> None:
    table(
        "Collector peak memory on hostile uploads (fresh process each; VmHWM in MiB)",
        ("upload", "bytes sent", "HTTP", "ms", "peak before", "peak after"),
        rows,
    )


if __name__ == "__main__":
    asyncio.run(main())
