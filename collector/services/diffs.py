"""Diffs between stored versions, as the API and the pages show them (collector.diff does the work)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from collector.api.schemas import DiffResponse, VersionRef
from collector.db import queries
from collector.db.models import Site
from collector.diff import SiteDiff, diff_snapshots
from collector.errors import not_found
from collector.ingest import SnapshotCache, current_absent_scans, load_snapshot

# A diff is a pure function of its inputs, all immutable once named by content: both content
# hashes, the absent streaks as of the newer version's latest sighting, and the removal threshold.
# So it is computed once per process and shared (an office opening the same site page again).
_DIFFS: OrderedDict[tuple[object, ...], SiteDiff] = OrderedDict()
DIFF_CACHE_SIZE = 256


def _cached_diff(key: tuple[object, ...], compute: Callable[[], SiteDiff]) -> SiteDiff:
    diff = _DIFFS.get(key)
    if diff is None:
        diff = _DIFFS[key] = compute()
        while len(_DIFFS) > DIFF_CACHE_SIZE:
            _DIFFS.popitem(last=False)
    _DIFFS.move_to_end(key)
    return diff


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
    absent = current_absent_scans(new_row.absent_streaks, new_row.seen_count)
    key = (old_row.content_hash, new_row.content_hash, tuple(sorted(absent.items())), removed_after)
    diff = _DIFFS.get(key)
    if diff is None:
        old = await load_snapshot(db, cache, site.id, first, old_row.content_hash)
        new = await load_snapshot(db, cache, site.id, second, new_row.content_hash)
        diff = _cached_diff(
            key,
            lambda: diff_snapshots(
                old,
                new,
                absent_scans=absent,
                removed_after=removed_after,
                old_hash=old_row.content_hash,
                new_hash=new_row.content_hash,
            ),
        )
    return DiffResponse(
        site_id=site.slug,
        from_=VersionRef(version=first, content_hash=old_row.content_hash),
        to=VersionRef(version=second, content_hash=new_row.content_hash),
        against=against,
        counts=diff.counts(),
        diff=diff,
    )
