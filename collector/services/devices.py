"""One device of a site as the device page shows it: everything known about it, in one read.

The device is found through the search projection (so a unit that left the site still has a page,
from the last version that had it); its facts come from that version's snapshot, read through the
snapshot cache; the site record adds its pins and photos; the vault its entries (masked) when the
caller may read them; the stored diff summaries its history across versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import Action, permits, scope_clause
from collector.db import queries
from collector.db.models import Customer, Site, SnapshotVersion
from collector.db.record_tables import DevicePin, FloorPlan, SiteAttachment
from collector.db.search_tables import SearchDevice
from collector.db.vault_tables import VaultEntry
from collector.errors import not_found
from collector.ingest import SnapshotCache, load_snapshot
from collector.record import attachments_db
from collector.search import query as search_query
from collector.services.context import Ctx
from collector.services.sites import find_site, resource_of
from collector.vault import store as vault_store
from drivers.schema import Device, Problem, Snapshot

MAX_HISTORY_VERSIONS = 200


@dataclass(frozen=True)
class HistoryLine:
    version: int
    against: str  # "baseline v3" | "previous v4"
    kind: str
    summary: str
    at: Any  # datetime


@dataclass(frozen=True)
class DeviceRecord:
    site: Site
    customer: Customer
    row: SearchDevice
    device: Device
    snapshot: Snapshot  # the version the facts come from (the latest that has the device)
    version: int
    latest_version: int
    pins: list[tuple[DevicePin, FloorPlan]]
    photos: list[SiteAttachment]
    vault: list[VaultEntry] | None  # None: the caller may not read the vault
    history: list[HistoryLine]
    problems: list[Problem]
    elsewhere: list[tuple[SearchDevice, Site]] = field(default_factory=list)


async def device_record(
    db: AsyncSession, ctx: Ctx, cache: SnapshotCache, slug: str, device_id: str
) -> DeviceRecord:
    site, customer = await find_site(db, ctx, slug, view=f"device {device_id[:200]}")
    assert site.id is not None
    row = await search_query.device_row(db, site.id, device_id)
    if row is None:
        raise not_found(f"device {device_id[:200]!r} of site {site.slug!r}")
    meta = await queries.version_meta(db, site.id, row.last_seen_version)
    if meta is None:
        raise not_found(f"version {row.last_seen_version} of site {site.slug!r}")
    snapshot = await load_snapshot(db, cache, site.id, meta.version, meta.content_hash)
    device = next((d for d in snapshot.devices if d.id == row.device_id), None)
    if device is None:
        raise not_found(f"device {device_id[:200]!r} of site {site.slug!r}")
    pins = (
        await db.exec(
            select(DevicePin, FloorPlan)
            .join(FloorPlan, col(FloorPlan.id) == col(DevicePin.floor_plan_id))
            .where(FloorPlan.site_id == site.id, DevicePin.device_id == device.id)
        )
    ).all()
    photos = await attachments_db.site_attachments(db, site.id, device_id=device.id)
    vault = None
    if permits(ctx.identity, Action.READ_VAULT, resource_of(site, customer)):
        vault = [e for e in await vault_store.site_entries(db, site.id) if e.device_id == device.id]
    problems = [
        p for p in snapshot.problems if p.device_id == device.id or p.target in {device.id, device.network.ip}
    ]
    org_id = await queries.default_organization_id(db)
    elsewhere = (
        await search_query.device_elsewhere(db, org_id, scope_clause(ctx.identity), device.id, site.id)
        if org_id is not None
        else []
    )
    return DeviceRecord(
        site=site, customer=customer, row=row, device=device, snapshot=snapshot, version=meta.version,
        latest_version=site.latest_version, pins=list(pins), photos=photos, vault=vault,
        history=await device_history(db, site.id, device.id), problems=problems, elsewhere=elsewhere,
    )  # fmt: skip


async def device_history(db: AsyncSession, site_id: int, device_id: str) -> list[HistoryLine]:
    """The device's lines in each version's stored diff (newest first): what changed, when."""
    v = SnapshotVersion
    query = (
        select(v)
        .options(defer(v.document, raiseload=True))  # type: ignore[arg-type]
        .where(v.site_id == site_id, col(v.diff_summary).is_not(None))
        .order_by(col(v.version).desc())
        .limit(MAX_HISTORY_VERSIONS)
    )
    first: dict[tuple[str, str], HistoryLine] = {}  # a change stays open against the baseline: once
    for row in (await db.exec(query)).all():
        for line in (row.diff_summary or {}).get("lines", []):
            if line.get("device_id") == device_id:
                key = (line.get("kind", ""), line.get("summary", ""))
                against = f"{row.diff_against_kind} v{row.diff_against_version}"
                first[key] = HistoryLine(row.version, against, key[0], key[1], row.received_at)
    return sorted(first.values(), key=lambda h: -h.version)
