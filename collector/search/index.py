"""Writing the search projection: one call per new version (from ingest), and the backfill.

``project_version`` runs inside the caller's transaction. Its cost follows what changed, not the
site's size: unchanged devices are moved on to the new version by one UPDATE, and only new or
changed devices get term rows (a device keeps the terms of every value it was ever seen with).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, insert, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db import queries
from collector.db.models import Site, SnapshotVersion
from collector.db.search_tables import SearchDevice, SearchTerm
from collector.search.terms import DeviceFacts, device_terms, facts
from drivers.schema import Snapshot

FACT_FIELDS = tuple(f.name for f in dataclasses.fields(DeviceFacts) if f.name != "device_id")


def _differs(row: SearchDevice, f: DeviceFacts) -> bool:
    return any(getattr(row, name) != getattr(f, name) for name in FACT_FIELDS)


async def project_version(
    session: AsyncSession, site_id: int, version: int, snapshot: Snapshot, seen_at: datetime
) -> None:
    """Bring the site's projection up to ``version`` (a no-op for a version already projected)."""
    current = {f.device_id: f for f in (facts(d) for d in snapshot.devices)}
    rows = {
        r.device_id: r
        for r in (await session.exec(select(SearchDevice).where(SearchDevice.site_id == site_id))).all()
    }
    if rows and max(r.last_seen_version for r in rows.values()) >= version:
        return
    touched: list[tuple[SearchDevice, DeviceFacts]] = []
    for device_id, f in current.items():
        row = rows.get(device_id)
        if row is None:
            row = SearchDevice(
                site_id=site_id, first_seen_version=version, first_seen_at=seen_at,
                last_seen_version=version, last_seen_at=seen_at, present=True,
                **{name: getattr(f, name) for name in ("device_id", *FACT_FIELDS)},
            )  # fmt: skip
            session.add(row)
            touched.append((row, f))
        elif not row.present or _differs(row, f):
            for name in FACT_FIELDS:
                setattr(row, name, getattr(f, name))
            row.present, row.last_seen_version, row.last_seen_at = True, version, seen_at
            touched.append((row, f))
    for device_id, row in rows.items():
        if row.present and device_id not in current:
            row.present = False  # keeps its last values and when it was last seen
    await session.flush()
    # Every other device of this version was seen again, unchanged.
    await session.exec(
        update(SearchDevice)
        .where(
            col(SearchDevice.site_id) == site_id,
            col(SearchDevice.present),
            col(SearchDevice.last_seen_version) < version,
        )
        .values(last_seen_version=version, last_seen_at=seen_at)
        .execution_options(synchronize_session=False)
    )
    await _add_terms(session, site_id, version, touched)


async def _add_terms(
    session: AsyncSession, site_id: int, version: int, touched: list[tuple[SearchDevice, DeviceFacts]]
) -> None:
    if not touched:
        return
    refs = [row.id for row, _ in touched if row.id is not None]
    have: set[tuple[int, str, str]] = set()
    for chunk in _chunks(refs, 500):
        query = select(SearchTerm.device_ref, SearchTerm.field, SearchTerm.term).where(
            col(SearchTerm.device_ref).in_(chunk)
        )
        have.update((r, fi, t) for r, fi, t in (await session.exec(query)).all())
    new = [
        {
            "device_ref": row.id,
            "site_id": site_id,
            "field": field,
            "term": term,
            "first_seen_version": version,
        }
        for row, f in touched
        for field, term in sorted(device_terms(f))
        if (row.id, field, term) not in have
    ]
    if new:
        await session.exec(insert(SearchTerm), params=new)


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def projected_version(session: AsyncSession, site_id: int) -> int:
    query = select(func.max(SearchDevice.last_seen_version)).where(SearchDevice.site_id == site_id)
    return int((await session.exec(query)).first() or 0)


async def backfill(
    sessions: async_sessionmaker[AsyncSession], *, progress: Callable[[str], None] | None = None
) -> int:
    """Project every stored version not yet projected, oldest first, one transaction per site.
    Safe to run again (and while collectors ingest: each site's lock is taken first)."""
    done = 0
    async with sessions() as db:
        site_ids = list((await db.exec(select(Site.id).order_by(col(Site.id)))).all())
    for site_id in site_ids:
        assert site_id is not None
        async with sessions() as db, db.begin():
            start = await projected_version(db, site_id)
            query = (
                select(SnapshotVersion.version, SnapshotVersion.received_at)
                .where(SnapshotVersion.site_id == site_id, col(SnapshotVersion.version) > start)
                .order_by(col(SnapshotVersion.version))
            )
            for number, received_at in (await db.exec(query)).all():
                document = await queries.version_document(db, site_id, number)
                if document is None:
                    continue
                await project_version(db, site_id, number, Snapshot.model_validate(document), received_at)
                done += 1
        if progress is not None:
            progress(f"site {site_id}: projected up to its latest version")
    return done
