"""Retention: what old history may go, and the job that removes it.

Kept always (``protected_versions`` is the one place that decides): the latest version, the
baseline and every version ever approved, every version a service visit or an export/handover
names, every version that changed something (its diff against its reference reported a change;
version 1 started the history), and the versions those kept ones were diffed against.

Pruned, by policy (``retention_*`` settings): versions that changed nothing — identical, as the
diff sees it, to what they were compared with — last seen more than ``identical_after_days`` ago;
and the "seen again"/replay records of pushes (ingest_request) older than ``requests_after_days``.
Runs as the durable job ``retention.prune`` (collector/jobs), queued by
``asbuilt collector retention run``; it deletes in small transactions so it never holds up ingest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db.models import AuditEvent, Baseline, IngestRequest, Site, SnapshotVersion
from collector.db.record_tables import ServiceVisit
from collector.db.types import utcnow
from collector.jobs.tasks import JobContext, task

EXPORT_KIND = "export.download"  # collector.services.audit.Kind.EXPORT (detail carries the version)


@dataclass(frozen=True)
class RetentionPolicy:
    identical_after_days: int
    requests_after_days: int


@dataclass(frozen=True)
class VersionFacts:
    """What retention reads of a version: never its document."""

    version: int
    seen_last_at: datetime
    changed: bool  # its diff reported something, or it is the first version
    diff_against_version: int | None


@dataclass
class PruneReport:
    sites: int = 0
    versions_deleted: int = 0
    requests_deleted: int = 0


def changed_something(diff_summary: Mapping[str, Any] | None) -> bool:
    """No diff recorded (version 1, or nothing to compare with): it cannot be shown identical."""
    if diff_summary is None:
        return True
    return sum(int(n) for n in diff_summary.get("counts", {}).values()) > 0


def protected_versions(
    *,
    latest: int,
    baseline: int | None,
    approved: Iterable[int],
    visited: Iterable[int],
    exported: Iterable[int],
    versions: Sequence[VersionFacts],
) -> set[int]:
    """Every version of one site that retention must never delete."""
    keep = {latest, *approved, *visited, *exported}
    if baseline is not None:
        keep.add(baseline)
    keep |= {v.version for v in versions if v.changed}
    against = {v.version: v.diff_against_version for v in versions}
    todo = list(keep)
    while todo:  # a kept version's diff must stay computable: keep what it was diffed against
        ref = against.get(todo.pop())
        if ref is not None and ref not in keep:
            keep.add(ref)
            todo.append(ref)
    return keep


def prunable_versions(
    protected: set[int], versions: Sequence[VersionFacts], policy: RetentionPolicy, now: datetime
) -> list[int]:
    cutoff = now - timedelta(days=policy.identical_after_days)
    return [v.version for v in versions if v.version not in protected and v.seen_last_at < cutoff]


async def _site_facts(session: AsyncSession, site: Site) -> tuple[set[int], list[VersionFacts]]:
    assert site.id is not None
    v = SnapshotVersion
    rows = (
        await session.exec(
            select(v.version, v.seen_last_at, v.diff_summary, v.diff_against_version).where(
                v.site_id == site.id
            )
        )
    ).all()
    facts = [VersionFacts(n, seen, changed_something(summary), ref) for n, seen, summary, ref in rows]
    approved = (await session.exec(select(Baseline.version).where(Baseline.site_id == site.id))).all()
    visits = (
        await session.exec(select(ServiceVisit.version_numbers).where(ServiceVisit.site_id == site.id))
    ).all()
    exports = (
        await session.exec(
            select(AuditEvent.detail).where(AuditEvent.site_id == site.id, AuditEvent.kind == EXPORT_KIND)
        )
    ).all()
    exported = [
        int(d["version"]) for d in exports if isinstance(d, dict) and isinstance(d.get("version"), int)
    ]
    keep = protected_versions(
        latest=site.latest_version,
        baseline=site.baseline_version,
        approved=approved,
        visited=[int(n) for numbers in visits for n in (numbers or [])],
        exported=exported,
        versions=facts,
    )
    return keep, facts


async def prune_site(session: AsyncSession, site: Site, policy: RetentionPolicy, now: datetime) -> int:
    keep, facts = await _site_facts(session, site)
    doomed = prunable_versions(keep, facts, policy, now)
    if doomed:
        await session.exec(
            delete(SnapshotVersion).where(
                col(SnapshotVersion.site_id) == site.id, col(SnapshotVersion.version).in_(doomed)
            )
        )
        await session.exec(
            delete(IngestRequest).where(
                col(IngestRequest.site_id) == site.id, col(IngestRequest.version).in_(doomed)
            )
        )
    return len(doomed)


async def prune(sessions: Any, policy: RetentionPolicy, now: datetime | None = None) -> PruneReport:
    """One pass over every site, one short transaction per site (ingest takes the same site lock)."""
    now = now or utcnow()
    report = PruneReport()
    async with sessions() as session:
        site_ids = list((await session.exec(select(Site.id).order_by(col(Site.id)))).all())
    for site_id in site_ids:
        async with sessions() as session, session.begin():
            site = await session.get(Site, site_id, with_for_update=True)
            if site is None:
                continue
            report.sites += 1
            report.versions_deleted += await prune_site(session, site, policy, now)
    async with sessions() as session, session.begin():
        cutoff = now - timedelta(days=policy.requests_after_days)
        result = await session.exec(delete(IngestRequest).where(col(IngestRequest.created_at) < cutoff))
        report.requests_deleted = int(result.rowcount or 0)
    return report


def policy_of(config: Any) -> RetentionPolicy:
    return RetentionPolicy(config.retention_identical_after_days, config.retention_requests_after_days)


@task("retention.prune", max_attempts=3, base_delay_s=30.0)
async def retention_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Safe to run again after a crash: what it deleted stays deleted, the rest is decided afresh."""
    import logging

    report = await prune(ctx.sessions, policy_of(ctx.config))
    logging.getLogger("asbuilt.retention").info(
        "retention: %d sites, %d versions and %d push records removed",
        report.sites, report.versions_deleted, report.requests_deleted,
    )  # fmt: skip
