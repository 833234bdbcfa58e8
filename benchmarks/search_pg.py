# ruff: noqa: E501  (tables of seed rows read better on one line)
"""Search at scale on PostgreSQL: 10,000 sites, ~1,000,000 device versions, through the real queries.

Seeds a database created for the run (asb_search_<random>, dropped afterwards) with asyncpg COPY:
10,000 sites of 20 devices × 5 versions (200,000 device identities in ``search_device``, 1,000,000
device versions; 5 % of the cameras left their site before the latest version, 10 % changed IP once,
so their earlier address is a term too), then times ``collector.search.query.search_devices`` and
``search_sites`` — the code the pages and the API run, scope clause included — for several kinds
of query, as an admin (scope all) and as a user scoped to 20 customers.

Usage: nice -n 10 .venv/bin/python benchmarks/search_pg.py [--pg-dsn postgresql://root@127.0.0.1:5432/postgres]
       [--sites 10000] [--runs 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg

from collector.auth import Identity, IdentityKind, Role, Scope, ScopeKind, scope_clause
from collector.db.migrate import upgrade
from collector.db.session import make_engine, make_sessionmaker
from collector.search import query as q
from collector.search.terms import DeviceFacts, device_terms, parse_query

DEVICES_PER_SITE = 20
VERSIONS = 5
SITES_PER_CUSTOMER = 5
MODELS = ["AXIS P3245-LVE", "HIKVISION DS-2CD2T47G2-L", "Dahua IPC-HDW2431T", "AXIS M3106-L Mk II",
          "Hanwha XNV-6080R", "Bosch FLEXIDOME IP 5000i"]  # fmt: skip


def mac_of(n: int) -> str:
    raw = (0x02_00_00_00_00_00 + n).to_bytes(6, "big")
    return ":".join(f"{b:02x}" for b in raw)


def ip_of(site: int, dev: int, shift: int = 0) -> str:
    return f"10.{(site >> 8) & 255}.{site & 255}.{10 + dev + shift}"


async def seed(dsn: str, sites: int) -> dict[str, str]:
    """COPY the rows in; returns sample values for the queries (a MAC, a serial, a departed camera)."""
    conn = await asyncpg.connect(dsn, timeout=30)
    rng = random.Random(7)
    t0 = time.perf_counter()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    try:
        await conn.execute(
            "INSERT INTO organization (id, slug, name, created_at) VALUES (1, 'default', 'Default', $1)", now
        )
        regions = [(i, 1, f"Region {i}", now) for i in range(1, 21)]
        await conn.copy_records_to_table(
            "region", records=regions, columns=["id", "organization_id", "name", "created_at"]
        )
        customers = [
            (i, 1, f"Customer {i:05d}", now, 1 + i % 20) for i in range(1, sites // SITES_PER_CUSTOMER + 1)
        ]
        await conn.copy_records_to_table("customer", records=customers,
                                         columns=["id", "organization_id", "name", "created_at", "region_id"])  # fmt: skip
        site_rows = [(s, 1, 1 + (s - 1) // SITES_PER_CUSTOMER, f"site-{s:05d}", f"Depot {s:05d}", VERSIONS, None, now, now, 0)
                     for s in range(1, sites + 1)]  # fmt: skip
        await conn.copy_records_to_table("site", records=site_rows, columns=[
            "id", "organization_id", "customer_id", "slug", "name", "latest_version", "baseline_version",
            "created_at", "updated_at", "revision"])  # fmt: skip
        versions = [
            (s, v, secrets.token_hex(32), 2, now - timedelta(days=VERSIONS - v), now - timedelta(days=VERSIONS - v),
             1, DEVICES_PER_SITE, 0, "{}", "{}")
            for s in range(1, sites + 1) for v in range(1, VERSIONS + 1)
        ]  # fmt: skip
        await conn.copy_records_to_table("snapshot_version", records=versions, columns=[
            "site_id", "version", "content_hash", "schema_version", "received_at", "seen_last_at",
            "seen_count", "device_count", "problem_count", "snapshot", "absent_streaks"])  # fmt: skip
        devices, terms = [], []
        sample: dict[str, str] = {}
        ref = 0
        for s in range(1, sites + 1):
            for d in range(DEVICES_PER_SITE):
                ref += 1
                model = MODELS[rng.randrange(len(MODELS))]
                vendor, _, model_name = model.partition(" ")
                role = "switch" if d == 0 else "recorder" if d == 1 else "camera"
                departed = role == "camera" and rng.random() < 0.05
                last = rng.randrange(2, VERSIONS) if departed else VERSIONS
                f = DeviceFacts(
                    device_id=f"mac:{mac_of(ref)}", role=role, vendor=vendor, model=model_name,
                    serial=f"SN{ref:09d}{vendor[:2].upper()}", mac=mac_of(ref), ip=ip_of(s, d),
                    hostname=f"{role[:3]}-{s:05d}-{d:02d}", firmware=f"V5.{rng.randrange(9)}.{rng.randrange(20)}",
                    location=None,
                )  # fmt: skip
                devices.append((ref, s, f.device_id, f.role, f.vendor, f.model, f.serial, f.mac, f.ip,
                                f.hostname, f.firmware, None, 1, now - timedelta(days=VERSIONS - 1),
                                last, now - timedelta(days=VERSIONS - last), not departed))  # fmt: skip
                pairs = device_terms(f)
                if rng.random() < 0.10:  # readdressed once: the old IP is still a term
                    pairs.add(("ip", ip_of(s, d, shift=100)))
                terms += [(ref, s, field, term, 1) for field, term in pairs]
                if departed and "departed" not in sample:
                    sample["departed"] = f.mac or ""
                if s == sites // 2 and d == 5:
                    sample.update(
                        mac=f.mac or "",
                        serial=f.serial or "",
                        ip=f.ip or "",
                        customer=str(1 + (s - 1) // SITES_PER_CUSTOMER),
                    )
        # Bulk load: no FK triggers, indexes built once afterwards (as a restore would).
        await conn.execute("SET session_replication_role = replica")
        for table, name in (
            ("search_term", "search_term_device_ref_field_term_key"),
            ("search_device", "search_device_site_id_device_id_key"),
        ):
            await conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
        await conn.execute("DROP INDEX IF EXISTS ix_search_term_term")
        print(f"  rows built; copying ({time.perf_counter() - t0:.0f} s)", flush=True)
        await conn.copy_records_to_table("search_device", records=devices, columns=[
            "id", "site_id", "device_id", "role", "vendor", "model", "serial", "mac", "ip", "hostname",
            "firmware", "location", "first_seen_version", "first_seen_at", "last_seen_version",
            "last_seen_at", "present"])  # fmt: skip
        await conn.copy_records_to_table("search_term", records=terms,
                                         columns=["device_ref", "site_id", "field", "term", "first_seen_version"])  # fmt: skip
        print(f"  copied; indexing ({time.perf_counter() - t0:.0f} s)", flush=True)
        await conn.execute("ALTER TABLE search_device ADD UNIQUE (site_id, device_id)")
        await conn.execute("ALTER TABLE search_term ADD UNIQUE (device_ref, field, term)")
        await conn.execute("CREATE INDEX ix_search_term_term ON search_term (term)")
        await conn.execute("SET session_replication_role = DEFAULT")
        for table in ("organization", "region", "customer", "site", "search_device"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
        sample["devices"], sample["terms"], sample["versions"] = (
            str(len(devices)),
            str(len(terms)),
            str(len(devices) * VERSIONS),
        )
        return sample
    finally:
        await conn.close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(url: str, sample: dict[str, str], runs: int) -> list[tuple[str, ...]]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    admin = Identity(IdentityKind.USER, "bench-admin", Role.ADMIN, Scope.everything())
    home = int(sample["customer"])  # the sample device's customer, and 19 others
    scope = Scope(ScopeKind.CUSTOMERS, frozenset(range(home - 10, home + 10)))
    scoped = Identity(IdentityKind.USER, "bench-tech", Role.TECHNICIAN, scope)
    mac = sample["mac"].replace(":", "")
    kinds = [
        ("MAC aa:bb:cc:dd:ee:ff", sample["mac"], "devices"),
        ("MAC Cisco AABB.CCDD.EEFF", f"{mac[:4]}.{mac[4:8]}.{mac[8:]}".upper(), "devices"),
        ("MAC prefix aa-bb-cc-dd", "-".join(sample["mac"].split(":")[:4]), "devices"),
        ("serial prefix", sample["serial"][:9], "devices"),
        ("IP", sample["ip"], "devices"),
        ("model word (very common)", "p3245", "devices"),
        ("departed camera's MAC", sample["departed"], "devices"),
        ("site / customer name", "depot 050", "sites"),
    ]
    rows = []
    try:
        for who, identity in (("admin", admin), ("20 customers", scoped)):
            visible = scope_clause(identity)
            for label, text, what in kinds:
                parsed = parse_query(text)
                times, found = [], 0
                for _ in range(runs):
                    async with sessions() as db:
                        started = time.perf_counter()
                        if what == "devices":
                            hits: list[object] = list(await q.search_devices(db, 1, visible, parsed))
                        else:
                            hits = list(await q.search_sites(db, 1, visible, parsed))
                        times.append((time.perf_counter() - started) * 1000)
                        found = len(hits)
                rows.append(
                    (
                        who,
                        label,
                        str(found),
                        f"{statistics.median(times):.1f}",
                        f"{pct(times, 95):.1f}",
                        f"{pct(times, 99):.1f}",
                    )
                )
    finally:
        await engine.dispose()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-dsn", default="postgresql://root@127.0.0.1:5432/postgres", help="admin DSN")
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    name = f"asb_search_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(args.pg_dsn, timeout=10)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    host = args.pg_dsn.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        engine = make_engine(f"postgresql+asyncpg://{host}/{name}")
        await upgrade(engine)
        await engine.dispose()
        started = time.perf_counter()
        sample = await seed(f"postgresql://{host}/{name}", args.sites)
        seeded = time.perf_counter() - started
        rows = await measure(f"postgresql+asyncpg://{host}/{name}", sample, args.runs)
    finally:
        admin = await asyncpg.connect(args.pg_dsn, timeout=10)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"seeded {args.sites:,} sites, {int(sample['versions']):,} device versions, {int(sample['devices']):,} "
          f"device identities, {int(sample['terms']):,} terms in {seeded:.0f} s; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    header = ("scope", "query", "hits", "p50 ms", "p95 ms", "p99 ms")
    widths = [max(len(str(x)) for x in c) for c in zip(header, *rows, strict=False)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(
            " | ".join(
                x.ljust(w) if i < 2 else x.rjust(w) for i, (x, w) in enumerate(zip(row, widths, strict=True))
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
