"""Diffs between stored versions, as the API and the pages show them (collector.diff does the work)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from collector.api.schemas import DiffResponse, VersionRef
from collector.db import queries
from collector.diff import SiteDiff, diff_snapshots
from collector.errors import not_found
from collector.ingest import SnapshotCache, current_absent_scans
from drivers.schema import Snapshot


class SiteRef(Protocol):
    """A site as a diff needs it: a Site row, or a page's plain row of one."""

    @property
    def id(self) -> int | None: ...
    @property
    def slug(self) -> str: ...


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


async def snapshots_by_content(
    db: AsyncSession,
    cache: SnapshotCache,
    site_id: int,
    hashes: dict[int, str],
    known: Mapping[int, Snapshot] | None = None,
) -> dict[int, Snapshot]:
    """Versions' snapshots (version → content hash given): those the caller already holds, then
    the cache's, the rest in one query. (Under 20 users a small cache turns over between two
    awaits of one page: a snapshot in hand is never decoded twice.)"""
    known = known or {}
    out = {n: snap for n, h in hashes.items() if (snap := known.get(n) or cache.get(h)) is not None}
    missing = [n for n in hashes if n not in out]
    if missing:
        for n, snap in (await queries.version_snapshots(db, site_id, missing)).items():
            cache.put(hashes[n], snap)
            out[n] = snap
    return out


async def stored_diff(
    db: AsyncSession,
    cache: SnapshotCache,
    removed_after: int,
    site: SiteRef,
    first: int,
    second: int,
    against: str,
    known: Mapping[int, Snapshot] | None = None,
) -> DiffResponse:
    """The diff of two versions of a site the caller already may read (see services.sites).

    One query names both sides by content; a diff already made is reused; otherwise the documents
    not in hand (``known``: version → its snapshot) nor in the cache come in one more query."""
    assert site.id is not None
    sides = await queries.version_states(db, site.id, (first, second))
    old_row, new_row = sides.get(first), sides.get(second)
    if old_row is None:
        raise not_found(f"version {first} of site {site.slug!r}")
    if new_row is None:
        raise not_found(f"version {second} of site {site.slug!r}")
    absent = current_absent_scans(new_row.absent_streaks, new_row.seen_count)
    key = (old_row.content_hash, new_row.content_hash, tuple(sorted(absent.items())), removed_after)
    diff = _DIFFS.get(key)
    if diff is None:
        snaps = await snapshots_by_content(
            db, cache, site.id, {first: old_row.content_hash, second: new_row.content_hash}, known
        )
        if first not in snaps or second not in snaps:
            raise LookupError(f"versions {first}/{second} of site {site.id} lack a snapshot")
        old, new = snaps[first], snaps[second]
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
