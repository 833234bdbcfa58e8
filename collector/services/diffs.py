"""Diffs between stored versions, as the API and the pages show them (collector.diff does the work)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from collector.api.schemas import DiffResponse, VersionRef
from collector.db import queries
from collector.db.models import Site
from collector.diff import diff_snapshots
from collector.errors import not_found
from collector.ingest import SnapshotCache, current_absent_scans, load_snapshot


async def stored_diff(
    db: AsyncSession,
    cache: SnapshotCache,
    removed_after: int,
    site: Site,
    first: int,
    second: int,
    against: str,
) -> DiffResponse:
    """The diff of two versions of a site the caller already may read (see services.sites)."""
    assert site.id is not None
    old_row = await queries.version_meta(db, site.id, first)
    new_row = await queries.version_state(db, site.id, second)
    if old_row is None:
        raise not_found(f"version {first} of site {site.slug!r}")
    if new_row is None:
        raise not_found(f"version {second} of site {site.slug!r}")
    old = await load_snapshot(db, cache, site.id, first, old_row.content_hash)
    new = await load_snapshot(db, cache, site.id, second, new_row.content_hash)
    diff = diff_snapshots(
        old,
        new,
        absent_scans=current_absent_scans(new_row.absent_streaks, new_row.seen_count),
        removed_after=removed_after,
        old_hash=old_row.content_hash,
        new_hash=new_row.content_hash,
    )
    return DiffResponse(
        site_id=site.slug,
        from_=VersionRef(version=first, content_hash=old_row.content_hash),
        to=VersionRef(version=second, content_hash=new_row.content_hash),
        against=against,
        counts=diff.counts(),
        diff=diff,
    )
