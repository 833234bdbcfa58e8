"""Writing the search projection: one call per new version (from ingest), and the backfill.

``project_version`` runs inside the caller's transaction. Its cost follows what changed, not the
site's size: it reads the site's rows as plain tuples (no ORM objects), inserts new devices in one
multi-row statement, updates only changed or departed ones (one executemany), moves every other
device on to the new version with one UPDATE, and only new or changed devices get term rows (a
device keeps the terms of every value it was ever seen with).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db import queries
from collector.db.models import Site, SnapshotVersion
from collector.db.search_tables import SearchDevice, SearchTerm
from collector.gcpause import gc_paused
from collector.search.terms import DeviceFacts, device_terms, facts
from drivers.schema import Snapshot

FACT_FIELDS = tuple(f.name for f in dataclasses.fields(DeviceFacts) if f.name != "device_id")
_fact_values = operator.attrgetter(*FACT_FIELDS)
_table = SearchDevice.__table__  # type: ignore[attr-defined]
# (id, device_id, present, last_seen_version, *facts): compared as tuples with ``_fact_values``.
_ROW_COLUMNS = (
    _table.c.id,
    _table.c.device_id,
    _table.c.present,
    _table.c.last_seen_version,
    *(_table.c[name] for name in FACT_FIELDS),
)
# One statement for every changed (or returning) device: executemany over (row id, its new values).
_UPDATE_ROW = (
    _table.update()
    .where(_table.c.id == bindparam("ref"))
    .values(
        present=True,
        last_seen_version=bindparam("seen_version"),
        last_seen_at=bindparam("seen_at"),
        **{name: bindparam(f"v_{name}") for name in FACT_FIELDS},
    )
)


async def project_version(
    session: AsyncSession, site_id: int, version: int, snapshot: Snapshot, seen_at: datetime
) -> None:
    """Bring the site's projection up to ``version`` (a no-op for a version already projected)."""
    query = _table.select().with_only_columns(*_ROW_COLUMNS).where(_table.c.site_id == site_id)
    result = await session.exec(query)
    with gc_paused():  # a thousand rows of tuples: the cyclic GC would only walk them
        rows = {r[1]: r for r in result.all()}
        current = {f.device_id: f for f in (facts(d) for d in snapshot.devices)}
    if rows and max(r[3] for r in rows.values()) >= version:
        return
    added: list[DeviceFacts] = []
    changed: list[tuple[int, DeviceFacts]] = []
    for device_id, f in current.items():
        row = rows.get(device_id)
        if row is None:
            added.append(f)
        elif not row[2] or tuple(row[4:]) != _fact_values(f):
            changed.append((row[0], f))
    if changed:
        await session.exec(
            _UPDATE_ROW,
            params=[
                {
                    "ref": ref,
                    "seen_version": version,
                    "seen_at": seen_at,
                    **{f"v_{n}": v for n, v in zip(FACT_FIELDS, _fact_values(f), strict=True)},
                }
                for ref, f in changed
            ],
        )
    departed = [row[0] for device_id, row in rows.items() if row[2] and device_id not in current]
    for chunk in _chunks(departed, 500):  # keeps its last values and when it was last seen
        await session.exec(_table.update().where(_table.c.id.in_(chunk)).values(present=False))
    touched = changed
    if added:
        inserted = await session.exec(
            insert(_table).returning(_table.c.id, _table.c.device_id),
            params=[
                {
                    "site_id": site_id, "first_seen_version": version, "first_seen_at": seen_at,
                    "last_seen_version": version, "last_seen_at": seen_at, "present": True,
                    "device_id": f.device_id, **dict(zip(FACT_FIELDS, _fact_values(f), strict=True)),
                }
                for f in added
            ],
        )  # fmt: skip
        ids = {device_id: ref for ref, device_id in inserted.all()}
        touched = changed + [(ids[f.device_id], f) for f in added]
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
    await _add_terms(session, site_id, version, touched, known={ref for ref, _ in changed})


async def _add_terms(
    session: AsyncSession, site_id: int, version: int, touched: list[tuple[int, DeviceFacts]], known: set[int]
) -> None:
    """Term rows for the touched devices; only those in ``known`` (already projected) can have some."""
    if not touched:
        return
    have: set[tuple[int, str, str]] = set()
    for chunk in _chunks(sorted(known), 500):
        query = select(SearchTerm.device_ref, SearchTerm.field, SearchTerm.term).where(
            col(SearchTerm.device_ref).in_(chunk)
        )
        found = await session.exec(query)
        with gc_paused():
            have.update((r, fi, t) for r, fi, t in found.all())
    new = [
        {
            "device_ref": ref,
            "site_id": site_id,
            "field": field,
            "term": term,
            "first_seen_version": version,
        }
        for ref, f in touched
        for field, term in sorted(device_terms(f))
        if (ref, field, term) not in have
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
