"""Which changes a page shows, computed by the collector's own diff (collector.services.diffs).

A version's stored summary was computed when it arrived, against the baseline of that moment (or
the previous version). Pages compare against the baseline approved *now*, so they use the stored
summary only when it was made against that same baseline, and otherwise diff afresh.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.changes_words import ChangeReport, present
from collector.db.models import Site
from collector.diff import SiteDiff
from collector.keys import config_key, snapshot_cache_key
from collector.services.diffs import SiteRef, stored_diff
from drivers.schema import Snapshot


@dataclass(frozen=True)
class Comparison:
    """A diff and what it was made against, for a heading such as 'Changes since baseline v3'."""

    against: str  # "baseline" | "previous" | "versions"
    old_version: int
    new_version: int
    diff: SiteDiff

    @functools.cached_property
    def report(self) -> ChangeReport:
        """The diff in a technician's words: side effects under their cause, counted as a person would."""
        return present(self.diff)


async def compare(
    request: web.Request,
    session: AsyncSession,
    site: SiteRef,
    old: int,
    new: int,
    against: str,
    known: Mapping[int, Snapshot] | None = None,
) -> Comparison:
    app = request.app
    response = await stored_diff(
        session, app[snapshot_cache_key], app[config_key].removed_after_scans, site, old, new, against,
        known,
    )  # fmt: skip
    return Comparison(against, old, new, response.diff)


async def reference_comparison(
    request: web.Request, session: AsyncSession, site: Site, version: int, snapshot: Snapshot | None = None
) -> Comparison | None:
    """A version against the approved baseline, else against the version before it; None for v1 alone.
    ``snapshot``: the version's own, when the caller holds it already."""
    known = {version: snapshot} if snapshot is not None else None
    if site.baseline_version is not None and site.baseline_version != version:
        return await compare(request, session, site, site.baseline_version, version, "baseline", known)
    if site.baseline_version is None and version > 1:
        return await compare(request, session, site, version - 1, version, "previous", known)
    return None


class LatestSummary(Protocol):
    """What counting open changes needs of a site's latest version (a row of the list or metadata)."""

    @property
    def version(self) -> int: ...
    @property
    def diff_against_kind(self) -> str | None: ...
    @property
    def diff_against_version(self) -> int | None: ...
    @property
    def diff_summary(self) -> dict[str, Any] | None: ...


def stored_open_changes(baseline_version: int | None, latest: LatestSummary | None) -> int | None:
    """Open changes as the latest version's stored diff counts them: 0 when it is the baseline,
    None when there is no baseline or the stored diff was not made against the current one."""
    if baseline_version is None or latest is None:
        return None
    if baseline_version == latest.version:
        return 0
    stored = latest.diff_summary
    if (
        stored is not None
        and latest.diff_against_kind == "baseline"
        and latest.diff_against_version == baseline_version
    ):
        return sum(int(n) for n in stored.get("counts", {}).values())
    return None


async def open_changes(
    request: web.Request,
    session: AsyncSession,
    site: SiteRef,
    baseline_version: int | None,
    latest: LatestSummary | None,
) -> int | None:
    """Changes of the latest version against the current baseline; None when there is no baseline."""
    if baseline_version is None or latest is None:
        return None
    stored = stored_open_changes(baseline_version, latest)
    if stored is not None:
        return stored
    comparison = await compare(request, session, site, baseline_version, latest.version, "baseline")
    return len(comparison.diff.changes)
