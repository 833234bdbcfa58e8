"""Seed a PostgreSQL database for the load test: 10,000 sites × 100 versions (1M version rows).

Fast and bounded: the schema comes from the collector's own migrations, then customers, sites and
versions go in with COPY (asyncpg), never over HTTP. Each site's documents are a few variants of a
20-device snapshot (site id set to the site's own) so the diff between versions is a real diff;
every version row holds its own compressed document (collector/db/storage.py encoding).

Usage: .venv/bin/python benchmarks/load/seed.py [--db asb_load_scale] [--sites 10000] [--versions 100]
Prints the database URL and the admin user's name/password (for benchmarks/load/run.py).
The database is created here (an existing one of that name is dropped first: use only a name of
the load test's own); `run.py --drop` or `seed.py --drop-only` removes it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from collector.auth import cli_admin
from collector.db import queries
from collector.db.migrate import upgrade
from collector.db.session import make_engine, make_sessionmaker
from collector.diff import diff_snapshots
from collector.ingest import stored_summary
from collector.services import people
from collector.services.context import Ctx
from drivers.schema import Snapshot
from tests.collector.factory import T0, edit, large_site, with_devices

ADMIN_DSN = "postgresql://root@127.0.0.1:5432/postgres"
USER, PASSWORD = "load-admin", "load-test-password-1"
VARIANTS = 4
DEVICES = 20
SITES_PER_CUSTOMER = 10
BATCH_SITES = 200
MAX_SECONDS = 1500  # bounded: stop seeding (what is in stays) after 25 minutes


def variants() -> list[Snapshot]:
    """A base scan and later ones, each with a camera on new firmware (a few changes a night)."""
    base = large_site(DEVICES, site_id="template")
    cams = [d for d in base.devices if d.role.value == "camera"]
    out = [base]
    for k in range(1, VARIANTS):
        start = T0 + timedelta(days=k)
        upgraded = [edit(c, identity__firmware=f"V6.{k}") for c in cams[:k]]
        out.append(with_devices(base, *upgraded, scan=edit(base.scan, started_at=start, finished_at=start)))
    return out


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def seed(db: str, n_sites: int, n_versions: int) -> None:
    started = time.monotonic()
    await admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    await admin(f'CREATE DATABASE "{db}"')
    url = f"postgresql+asyncpg://root@127.0.0.1:5432/{db}"
    engine = make_engine(url)
    await upgrade(engine)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        org = await queries.default_organization(session)
        await people.create_user(
            session, Ctx(cli_admin("seed")), USER, people.ScopeRequest(people.parse_role("admin"), (), ()),
            password=PASSWORD,
        )  # fmt: skip
        org_id = org.id
    await engine.dispose()

    snaps = variants()
    docs = [s.model_dump(mode="json") for s in snaps]
    summaries = [None] + [
        json.dumps(stored_summary(diff_snapshots(snaps[k - 1], snaps[k]), "previous", 0))
        for k in range(1, VARIANTS)
    ]
    now = datetime.now(UTC)
    conn = await asyncpg.connect(f"postgresql://root@127.0.0.1:5432/{db}", timeout=10)
    try:
        n_customers = -(-n_sites // SITES_PER_CUSTOMER)
        await conn.copy_records_to_table(
            "customer",
            columns=["organization_id", "name", "created_at"],
            records=[(org_id, f"Customer {c:05d} {['Hotels', 'Logistics', 'Schools', 'Retail'][c % 4]}", now)
                     for c in range(n_customers)],
        )  # fmt: skip
        customer_ids = [r[0] for r in await conn.fetch("SELECT id FROM customer ORDER BY id")]
        await conn.copy_records_to_table(
            "site",
            columns=["organization_id", "customer_id", "slug", "name", "latest_version", "baseline_version",
                     "created_at", "updated_at", "revision"],
            records=[(org_id, customer_ids[s // SITES_PER_CUSTOMER], f"site-{s:05d}", f"Depot {s:05d}",
                      n_versions, 1, now, now, 0) for s in range(n_sites)],
        )  # fmt: skip
        sites = await conn.fetch("SELECT id, slug FROM site ORDER BY id")
        columns = [
            "site_id", "version", "content_hash", "schema_version", "received_at", "seen_last_at",
            "seen_count", "scan_started_at", "scan_finished_at", "device_count", "problem_count",
            "diff_against_kind", "diff_against_version", "diff_summary", "document", "body_digest",
            "absent_streaks",
        ]  # fmt: skip
        rows_done = 0
        for first in range(0, len(sites), BATCH_SITES):
            if time.monotonic() - started > MAX_SECONDS:
                print(f"time bound reached: {first} sites seeded", flush=True)
                break
            records: list[tuple[Any, ...]] = []
            for site_id, slug in sites[first : first + BATCH_SITES]:
                blobs, hashes = [], []
                for doc in docs:
                    doc["site"]["site_id"] = slug
                    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
                    blobs.append(zlib.compress(text, 6))
                    hashes.append(hashlib.sha256(text).hexdigest())
                for v in range(1, n_versions + 1):
                    k = (v - 1) % VARIANTS
                    at = now - timedelta(days=n_versions - v)
                    records.append((
                        site_id, v, hashes[k], 1, at, at, 1 + v % 3, at, at, DEVICES, 0,
                        "baseline" if v > 1 else None, 1 if v > 1 else None,
                        summaries[k] if v > 1 else None, blobs[k], None, "{}",
                    ))  # fmt: skip
            await conn.copy_records_to_table("snapshot_version", columns=columns, records=records)
            rows_done += len(records)
            if first % 2000 == 0:
                print(f"{rows_done:,} version rows, {time.monotonic() - started:.0f} s", flush=True)
        await conn.execute("ANALYZE")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
    finally:
        await conn.close()
    print(f"seeded {len(sites):,} sites, {rows_done:,} version rows in {time.monotonic() - started:.0f} s; "
          f"database {size}")  # fmt: skip
    print(f"url postgresql+asyncpg://root@127.0.0.1:5432/{db}\nuser {USER}\npassword {PASSWORD}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="asb_load_scale")
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--drop-only", action="store_true")
    args = parser.parse_args()
    if not ((args.db.startswith("asb_") and args.db.endswith("_load")) or args.db.startswith("asb_load")):
        parser.error("the load test's database name must be asb_load... or asb_..._load (its own)")
    if args.drop_only:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)'))
        return
    asyncio.run(seed(args.db, args.sites, args.versions))


if __name__ == "__main__":
    main()
